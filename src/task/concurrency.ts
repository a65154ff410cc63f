/**
 * @module task/concurrency
 * Concurrency keys: tasks that share a key run at most `limit` at a time
 * across every worker of a backend, and start in the order they became
 * claimable (so `limit: 1` runs one key's tasks strictly one after another
 * while other keys run alongside). A task carries its key and limit on its
 * record; the backend admits it to the claimable tasks only while its key
 * has a free slot, and frees the slot in the settle that ends the attempt.
 */

import { InvalidOptionError } from "../errors.js";
import { loneSurrogateProblem } from "../util/lone-surrogate.js";
import { unknownKeysMessage } from "../util/unknown-keys.js";
import { describeGiven } from "./describe-value.js";

/** The longest key, in characters: keys are stored in indexes and Redis key names. */
export const MAX_CONCURRENCY_KEY_LENGTH = 256;
/** The largest limit: a slot count every backend stores exactly. */
export const MAX_CONCURRENCY_LIMIT = 2 ** 31 - 1;

/** A concurrency key and its limit, as `queue.add(task, { concurrency })` takes them. */
export interface ConcurrencyOptions {
  /** Tasks with the same key share the limit (non-empty text, at most 256 characters). */
  key: string;
  /** How many tasks with this key may run at once across all workers (integer ≥ 1; default 1). */
  limit?: number;
}

/**
 * A task definition's concurrency: a fixed key, or one computed from each
 * task's arguments. `Args` is the task's argument list: `task(options, fn)`
 * infers it from the function (or the args schema), so a key function's
 * parameters are typed without annotations.
 */
export interface TaskConcurrencyOptions<Args extends readonly unknown[] = unknown[]> {
  /**
   * The key, or a function of the task's (validated) arguments returning it,
   * e.g. `(tenantId) => tenantId` for fairness per tenant.
   */
  key: string | ((...args: Args) => string);
  /** How many tasks with one key may run at once (integer ≥ 1; default 1). */
  limit?: number;
}

/** `value` when it is a concurrency key; otherwise an `InvalidOptionError` naming `where`. */
export function checkConcurrencyKey(value: unknown, where: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new InvalidOptionError(`${where} must be non-empty text (got ${describeGiven(value)})`);
  }
  // Characters as a reader counts them (code points), not UTF-16 units: an emoji is one.
  const characters = [...value].length;
  if (characters > MAX_CONCURRENCY_KEY_LENGTH) {
    throw new InvalidOptionError(
      `${where} must be at most ${MAX_CONCURRENCY_KEY_LENGTH} characters (got ${characters})`,
    );
  }
  const halves = loneSurrogateProblem(value);
  if (halves !== null) throw new InvalidOptionError(`${where} ${halves}`);
  return value;
}

/** `value` when it is a concurrency limit (`undefined`: 1); otherwise an `InvalidOptionError` naming `where`. */
export function checkConcurrencyLimit(value: unknown, where: string): number {
  if (value === undefined) return 1;
  if (
    typeof value !== "number" ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_CONCURRENCY_LIMIT
  ) {
    throw new InvalidOptionError(
      `${where} must be an integer from 1 to ${MAX_CONCURRENCY_LIMIT} (got ${describeGiven(value)})`,
    );
  }
  return value;
}

const OPTION_KEYS = new Set(["key", "limit"]);

/** The key and limit `options` give (checked), for `where` in messages. */
export function checkConcurrencyOptions(
  options: unknown,
  where: string,
): { key: string; limit: number } {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new InvalidOptionError(
      `${where} must be { key, limit? } (got ${describeGiven(options)})`,
    );
  }
  const unknown = unknownKeysMessage(options, [...OPTION_KEYS], "option", "known");
  if (unknown !== null) throw new InvalidOptionError(`${where} has ${unknown}`);
  const { key, limit } = options as { key?: unknown; limit?: unknown };
  return {
    key: checkConcurrencyKey(key, `${where}.key`),
    limit: checkConcurrencyLimit(limit, `${where}.limit`),
  };
}

/** A queue-wide limit: `null` (no limit) or an integer ≥ 1, checked for `where`. */
export function checkQueueConcurrencyLimit(value: unknown, where: string): number | null {
  if (value === null) return null;
  // Not a key's limit, whose absence means 1: a cap left out (a setting never read) must not throttle the queue.
  if (value === undefined) {
    throw new InvalidOptionError(
      `${where} takes an integer from 1 to ${MAX_CONCURRENCY_LIMIT}, or null to lift the cap (got undefined)`,
    );
  }
  return checkConcurrencyLimit(value, where);
}
