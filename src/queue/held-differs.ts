/**
 * @module queue/held-differs
 * What to say of an add by an id of the caller's that was ignored because
 * the queue already held a task (or workflow) under that id made of another
 * task or other arguments: the add is idempotent by id, so what was given
 * was dropped, and a plain "ignored" would not say it. The CLI warns with
 * it; the HTTP API answers it among `warnings`.
 */
import type { JsonValue } from "../json.js";
import { canonicalJson } from "../util/canonical-json.js";

/** A task or workflow as the message compares them: its name and arguments. */
export interface Made {
  readonly name: string;
  readonly args: readonly JsonValue[];
}

/**
 * The message when `held`, kept under `id` instead of `given`, is another
 * task or has other arguments; `undefined` when it is the same (or none).
 * `retry` says what to do instead ("use another --id").
 */
export function heldDiffersMessage(
  noun: "task" | "workflow",
  id: string,
  given: Made,
  held: Made | null,
  retry: string,
): string | undefined {
  if (held === null) return undefined;
  if (held.name !== given.name) {
    return `${noun} ${id} was already held as '${held.name}', not '${given.name}': it was left as it is, and nothing was added (${retry})`;
  }
  const before = canonicalJson(held.args as JsonValue);
  if (before === canonicalJson(given.args as JsonValue)) return undefined;
  return `${noun} ${id} was already held with other arguments (${clip(before)}): it was left as it is, and these arguments were not used (${retry})`;
}

/** Long argument lists cut to what fits a warning line. */
function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
