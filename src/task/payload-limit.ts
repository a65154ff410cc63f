/**
 * @module task/payload-limit
 * The size limit on what a task carries: its arguments when it is added, its
 * result when an attempt settles. Without one, a single runaway payload (a
 * whole file passed by mistake) is stored, copied into every worker that
 * claims it and kept until it expires; a clear refusal at the edge is cheaper
 * for everyone. Sizes are bytes of the value's JSON text in UTF-8, as stored.
 */
import { InvalidOptionError, PayloadTooLargeError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { jsonBytesOver } from "../util/json-size.js";
import { describeGiven } from "./describe-value.js";

/** 16 MiB: far above any sensible argument list or result, far below what would strain a worker. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** Checks a `maxPayloadBytes` option (`where` names it); absent gives `fallback`. */
export function resolveMaxPayloadBytes(
  value: unknown,
  where: string,
  fallback = DEFAULT_MAX_PAYLOAD_BYTES,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    throw new InvalidOptionError(
      `${where}: maxPayloadBytes must be a whole number of bytes ≥ 1 (got ${describeGiven(value)})`,
    );
  }
  return value;
}

/**
 * Throws `PayloadTooLargeError` when `value`'s JSON is over `limit` bytes;
 * `what` says whose payload it is ("the arguments of task 'x' (id …)").
 */
export function checkPayloadSize(value: JsonValue, limit: number, what: string): void {
  const bytes = jsonBytesOver(value, limit);
  if (bytes !== null) throw new PayloadTooLargeError(what, bytes, limit);
}
