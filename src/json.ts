/**
 * @module json
 * The JSON-safety rule every stored value obeys. Args and results are checked
 * here so a value that would change on a JSON round trip (a function dropped, a
 * BigInt thrown, `undefined` in an array turned into `null`) is refused with a
 * clear error instead of being stored corrupted.
 */
import { SerializationError } from "./errors.js";

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object without prototype";
  return typeof value;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Returns a fresh JSON copy of `value` (values with `toJSON`, e.g. `Date`, are
 * converted), so later changes by the caller never reach stored data. Throws {@link SerializationError}
 * naming the path (`where`) of the first value JSON cannot carry.
 */
export function toJson(value: unknown, where: string): JsonValue {
  return convert(value, where, new Set());
}

function convert(value: unknown, path: string, seen: Set<object>): JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) {
        throw new SerializationError(`${path} is ${value}, which JSON cannot store`);
      }
      return value;
    case "undefined":
      throw new SerializationError(`${path} is undefined, which JSON cannot store (use null)`);
    case "bigint":
    case "function":
    case "symbol":
      throw new SerializationError(`${path} is a ${typeof value}, which JSON cannot store`);
  }
  if (value === null) return null;
  const object = value as object;
  if (seen.has(object)) throw new SerializationError(`${path} is a circular reference`);
  if (Array.isArray(object)) {
    seen.add(object);
    const copy: JsonValue[] = new Array(object.length);
    for (let i = 0; i < object.length; i++) {
      // A hole reads as undefined and is refused like one.
      copy[i] = convert(object[i], `${path}[${i}]`, seen);
    }
    seen.delete(object);
    return copy;
  }
  // An invalid Date's toJSON() returns null, which would silently store null instead of the value.
  if (object instanceof Date && Number.isNaN(object.getTime())) {
    throw new SerializationError(`${path} is an invalid Date, which JSON cannot store`);
  }
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    return convert(toJSON.call(object), path, seen);
  }
  if (!isPlainObject(object)) {
    throw new SerializationError(`${path} is a ${describe(object)}, which JSON cannot store`);
  }
  seen.add(object);
  const copy: Record<string, JsonValue> = {};
  for (const key in object) {
    const item = (object as Record<string, unknown>)[key];
    // An undefined property is the same as a missing one once stored: drop it.
    if (item !== undefined) copy[key] = convert(item, `${path}.${key}`, seen);
  }
  seen.delete(object);
  return copy;
}

/** Freezes a JSON value and everything inside it, so stored data cannot be changed by callers. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
