/**
 * @module task/priority
 * A task's priority: which claimable task a worker takes first (higher
 * first; tasks of one priority in the order they became claimable). An
 * integer in a range every backend stores exactly (a 32-bit signed integer,
 * as SQL columns hold it); 0 by default.
 */
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "./describe-value.js";

export const MIN_PRIORITY = -(2 ** 31);
export const MAX_PRIORITY = 2 ** 31 - 1;

/** `value` when it is a priority; otherwise an `InvalidOptionError` naming `where`. */
export function checkPriority(value: unknown, where: string): number {
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value < MIN_PRIORITY ||
    value > MAX_PRIORITY
  ) {
    throw new InvalidOptionError(
      `${where} must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY} (higher runs first; got ${describeGiven(value)})`,
    );
  }
  return value;
}
