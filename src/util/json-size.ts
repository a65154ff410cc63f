/**
 * @module util/json-size
 * How many bytes a JSON value takes as UTF-8 JSON text, measured only as far
 * as a limit needs: a cheap upper bound first (every UTF-16 unit of a string
 * can take at most 6 bytes, as a `\uXXXX` escape), and the exact length — one
 * `JSON.stringify` — only when that bound is over the limit. Everyday
 * payloads, far below any limit, are never encoded here.
 */
import type { JsonValue } from "../json.js";

/**
 * Most characters a finite number takes in JSON: 25, for a negative number
 * just over 1e-6 with 17 significant digits, which JavaScript writes out
 * without an exponent (`-0.0000011932049661917431`); numbers with an
 * exponent take at most 24 (`-1.2345678901234567e-308`).
 */
const MAX_NUMBER_CHARS = 25;

/**
 * The UTF-8 size of `JSON.stringify(value)` when it is over `limit` bytes;
 * `null` when it fits (then the exact size is not computed).
 */
export function jsonBytesOver(value: JsonValue, limit: number): number | null {
  if (upperBound(value, limit) <= limit) return null;
  const bytes = Buffer.byteLength(JSON.stringify(value));
  return bytes > limit ? bytes : null;
}

/** At least the value's JSON size; stops counting (returning more than `limit`) once it is over. */
function upperBound(value: JsonValue, limit: number): number {
  switch (typeof value) {
    case "string":
      return 6 * value.length + 2;
    case "number":
      return MAX_NUMBER_CHARS;
    case "boolean":
      return 5;
  }
  if (value === null) return 4;
  let total = 2;
  if (Array.isArray(value)) {
    for (const item of value) {
      total += upperBound(item, limit) + 1;
      if (total > limit) return total;
    }
    return total;
  }
  for (const key in value) {
    total += 6 * key.length + 4 + upperBound(value[key] as JsonValue, limit);
    if (total > limit) return total;
  }
  return total;
}
