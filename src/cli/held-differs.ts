/**
 * @module cli/held-differs
 * The warning for an add by `--id` that was ignored because the queue
 * already held a task (or workflow) under that id made of another task or
 * other arguments (see `queue/held-differs.ts`).
 */
import { heldDiffersMessage, type Made } from "../queue/held-differs.js";
import { warn } from "./warn.js";

/** Warns when `held`, kept under `id` instead of `given`, is another task or has other arguments. */
export function warnIfHeldDiffers(
  noun: "task" | "workflow",
  id: string,
  given: Made,
  held: Made | null,
): void {
  const message = heldDiffersMessage(noun, id, given, held, "use another --id");
  if (message !== undefined) warn(message);
}
