/**
 * @module queue/error-filter
 * The `error` filter of the listing and the bulk operations: text a task's
 * stored error mentions, in its type or its message (`"503"`,
 * `"ECONNRESET"`), so an operator finds or acts on the failures of one cause.
 */
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import type { TaskData } from "../task/task-record.js";

/** The text an `error` filter looks for; `undefined` for no filter. Throws for anything but non-empty text. */
export function errorFilterOf(error: unknown, where: string): string | undefined {
  if (error === undefined) return undefined;
  if (typeof error !== "string" || error.trim() === "") {
    throw new InvalidOptionError(
      `${where}: error must be text (not only spaces) that a task's stored error type or message contains, case-sensitive (got ${describeGiven(error)})`,
    );
  }
  return error;
}

/** Whether `data`'s stored error mentions `text` in its type or message (`undefined`: no filter). */
export function mentionsError(data: TaskData, text: string | undefined): boolean {
  if (text === undefined) return true;
  const error = data.error;
  if (error === null) return false;
  return String(error.type).includes(text) || String(error.message).includes(text);
}
