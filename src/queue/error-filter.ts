/**
 * @module queue/error-filter
 * The `error` filter of a redrive or a purge: only tasks whose stored error
 * mentions a text — in its type or its message — so an operator runs again
 * the failures of one cause (`"503"`, `"ECONNRESET"`, `"PaymentDeclined"`)
 * and leaves the others.
 */
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import type { TaskData } from "../task/task-record.js";

/** The text an `error` filter looks for; `undefined` for no filter. Throws for anything but non-empty text. */
export function errorFilterOf(error: unknown, where: string): string | undefined {
  if (error === undefined) return undefined;
  if (typeof error !== "string" || error === "") {
    throw new InvalidOptionError(
      `${where}: error must be non-empty text that a task's stored error type or message contains (got ${describeGiven(error)})`,
    );
  }
  return error;
}

/** Whether `data`'s stored error mentions `text` in its type or message (`undefined`: no filter). */
export function matchesErrorFilter(data: TaskData, text: string | undefined): boolean {
  if (text === undefined) return true;
  const error = data.error;
  if (error === null) return false;
  return String(error.type).includes(text) || String(error.message).includes(text);
}
