/**
 * @module task/describe-value
 * Safe reading and readable text for values Sheppy does not control: what a
 * task throws and what it hangs on its errors. Looking at such a value runs
 * its code — getters, `toJSON`, `toString`, `Symbol.toPrimitive`, Proxy traps —
 * and any of it may throw (a revoked Proxy throws on every touch). Nothing
 * here lets that escape, and no text is longer than asked for.
 */
import { types } from "node:util";
import { capText } from "../util/cap-text.js";

/** What a read gave: its value, or `ok: false` when reading threw. */
export type Read<T> = { ok: true; value: T } | { ok: false };

/** Runs `get`, which may run foreign code, and reports instead of throwing. */
export function read<T>(get: () => T): Read<T> {
  try {
    return { ok: true, value: get() };
  } catch {
    return { ok: false };
  }
}

/** `get()`, or `fallback` when it throws. */
export function readOr<T>(get: () => T, fallback: T): T {
  try {
    return get();
  } catch {
    return fallback;
  }
}

/** The text of a value no way of describing worked on. */
export const UNDESCRIBABLE = "(a value that could not be described)";

/**
 * Whether `value` is an error: an `Error` of this realm (including subclasses
 * and Proxies of one), or a native error of another realm (a `vm` context).
 */
export function isError(value: unknown): value is Error {
  return readOr(() => value instanceof Error, false) || types.isNativeError(value);
}

/**
 * Readable text for any value, at most `max` characters: strings as they are,
 * other primitives as `String()` gives them, an error as `Name: message`, a
 * function as `[function name]`, other objects as JSON (BigInts, functions and
 * symbols inside described the same way), else as `String()` gives them, else
 * by their tag (`[object Foo]`), else {@link UNDESCRIBABLE}.
 * @example describeValue({ code: 1 }, 100) // '{"code":1}'
 */
export function describeValue(value: unknown, max: number): string {
  return capText(describe(value), max);
}

function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "function":
      return describeFunction(value);
    case "object":
      if (value !== null) return describeObject(value);
      break;
  }
  // String() of a symbol gives `Symbol(description)`, of a bigint its digits; neither runs user code.
  return String(value);
}

function describeFunction(fn: unknown): string {
  const name = readOr(() => (fn as { name?: unknown }).name, undefined);
  return typeof name === "string" && name !== "" ? `[function ${name}]` : "[anonymous function]";
}

/**
 * A `JSON.stringify` replacer: what JSON would drop or throw on is kept as
 * its description, and an object that contains itself shows `[Circular]`
 * where it comes again (its ancestors are tracked, so an object met twice
 * side by side is shown both times).
 */
function jsonDescriber(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, value: unknown): unknown {
    if (typeof value === "object" && value !== null) {
      // `this` is the object holding `value`: what lies deeper than it is no longer an ancestor.
      while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
      if (ancestors.includes(value)) return "[Circular]";
      ancestors.push(value);
      return value;
    }
    return describeInJson(value);
  };
}

function describeInJson(value: unknown): unknown {
  switch (typeof value) {
    case "bigint":
    case "symbol":
      return String(value);
    case "function":
      return describeFunction(value);
    default:
      return value;
  }
}

function describeObject(object: object): string {
  if (isError(object)) {
    const text = readOr(() => String(object), undefined);
    if (typeof text === "string") return text;
  } else {
    const json = readOr(
      () => JSON.stringify(object, jsonDescriber()) as string | undefined,
      undefined,
    );
    if (typeof json === "string") return json;
    const text = readOr(() => String(object), undefined);
    if (typeof text === "string") return text;
  }
  const tag = readOr(() => Object.prototype.toString.call(object), undefined);
  return typeof tag === "string" ? tag : UNDESCRIBABLE;
}

/**
 * A value as the "(got …)" of an error message shows it: a string in double
 * quotes (JSON escapes keep it on one line), so `"5"` is not read as the
 * number 5 and an empty string is visible; anything else as `String()` gives it.
 * @example describeGiven("5") // '"5"'
 */
export function describeGiven(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(capText(value, 100));
  return readOr(() => String(value), UNDESCRIBABLE);
}

/**
 * Text an error message names in quotes: as it is in single quotes when it is
 * up to 100 printable ASCII characters, otherwise as {@link describeGiven}
 * shows a string (JSON escapes, cut), so that a line break, a terminal
 * escape or a name of megabytes in what was given never breaks the one-line
 * message.
 * @example quoteText("bad name") // "'bad name'"
 */
export function quoteText(text: string): string {
  return /^[\x20-\x7e]{0,100}$/.test(text) ? `'${text}'` : describeGiven(text);
}
