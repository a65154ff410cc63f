/**
 * @module cli/held-differs
 * The warning for an add by `--id` that was ignored because the queue
 * already held a task (or workflow) under that id made of another task or
 * other arguments: the add is idempotent by id, so what the command line
 * gave was dropped, and a plain `ignored <id>` would not say it.
 */
import type { JsonValue } from "../json.js";
import { canonicalJson } from "../util/canonical-json.js";
import { warn } from "./warn.js";

interface Made {
  readonly name: string;
  readonly args: readonly JsonValue[];
}

/** Warns when `held`, kept under `id` instead of `given`, is another task or has other arguments. */
export function warnIfHeldDiffers(
  noun: "task" | "workflow",
  id: string,
  given: Made,
  held: Made | null,
): void {
  if (held === null) return;
  if (held.name !== given.name) {
    warn(
      `${noun} ${id} was already held as '${held.name}', not '${given.name}': it was left as it is, and nothing was added (use another --id)`,
    );
    return;
  }
  const before = canonicalJson(held.args as JsonValue);
  if (before === canonicalJson(given.args as JsonValue)) return;
  warn(
    `${noun} ${id} was already held with other arguments (${clip(before)}): it was left as it is, and these arguments were not used (use another --id)`,
  );
}

/** Long argument lists cut to what fits a warning line. */
function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
