/**
 * @module util/canonical-json
 * JSON text with object keys sorted at every level, so equal values always
 * give equal text (and equal hashes) whatever order their keys were built in.
 */
import type { JsonValue } from "../json.js";

/** `JSON.stringify` with sorted object keys. */
export function canonicalJson(value: JsonValue): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== "object") return value;
  const sorted: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]!);
  return sorted;
}
