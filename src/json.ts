/**
 * @module json
 * The JSON-safety rule every stored value obeys. Args and results are checked
 * here so a value that would change on a JSON round trip (a function dropped, a
 * BigInt thrown, `undefined` in an array turned into `null`) is refused with a
 * clear error instead of being stored corrupted.
 *
 * Nesting is bounded by {@link MAX_JSON_DEPTH}, and nothing here recurses
 * deeper than that, so no accepted value can overflow the call stack later
 * (freezing, copying, encoding in a backend).
 *
 * Reading a value runs its code — getters, Proxy traps, `toJSON` — and what
 * that code throws is refused like any other value JSON cannot carry, naming
 * the path and keeping the thrown value as `cause`, so the caller learns which
 * argument broke instead of getting the bare error.
 */
import { SerializationError } from "./errors.js";
import { withArticle } from "./util/article.js";
import { capText } from "./util/cap-text.js";

/**
 * The most levels of arrays and objects one stored value may nest (an argument
 * or a result; `[[1]]` nests 2). Real payloads — API bodies, documents, config
 * trees — stay far below 20 levels; anything deeper is almost always a runaway
 * structure (a linked list, a parent chain) that would fail later anyway,
 * deep inside a recursive copy or a backend's encoder, with a bare stack
 * overflow. 64 is generous for data and shallow enough that every walk over
 * stored data is safe, whatever the stack depth it starts from.
 */
export const MAX_JSON_DEPTH = 64;

/** Longest path shown in an error message; a path that deep is cut with `…` to keep the message one readable line. */
const MAX_SHOWN_PATH = 80;

/**
 * `T` when every value in it is JSON (`never` where one is not): a type
 * written as an interface, which has no index signature and so is not a
 * {@link JsonValue}, checks here by its members. Functions, `Date`, `bigint`,
 * `symbol` and `undefined` (other than as an optional member) are refused.
 */
export type JsonCompatible<T> = T extends string | number | boolean | null
  ? T
  : T extends bigint | symbol | undefined | Date | ((...args: never[]) => unknown)
    ? never
    : T extends readonly (infer Item)[]
      ? T extends readonly [unknown, ...unknown[]] | readonly []
        ? { [K in keyof T]: JsonCompatible<T[K]> }
        : readonly JsonCompatible<Item>[]
      : T extends object
        ? { [K in keyof T]: K extends string ? JsonCompatible<T[K]> : never }
        : never;

/** A value that survives `JSON.stringify` → `JSON.parse` unchanged. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

function describe(value: object): string {
  const maker = value.constructor;
  if (maker === undefined) return "object without prototype";
  const name = maker?.name;
  return typeof name === "string" && name !== "" ? name : "instance of an anonymous class";
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Options of {@link toJson}. */
export interface ToJsonOptions {
  /**
   * Outer levels of `value` that do not count toward {@link MAX_JSON_DEPTH}:
   * 1 for an argument list, so that each argument may nest as deep as a result.
   */
  uncountedLevels?: number;
  /**
   * Refuse a `Date` anywhere in `value` instead of storing its ISO text. For
   * values handed back exactly as stored, with no schema to turn the text
   * back into a `Date`: there the text would silently stand in for the `Date`.
   */
  refuseDates?: boolean;
}

/** What one {@link toJson} call carries down its walk. */
interface Walk {
  /** The arrays and objects on the path to the current value, to tell a cycle. */
  readonly seen: Set<object>;
  readonly refuseDates: boolean;
}

/** The errors this module throws, told apart from whatever user code reached through a value throws. */
const refusals = new WeakSet<object>();

/**
 * Returns a fresh JSON copy of `value` (values with `toJSON`, e.g. `Date`, are
 * converted), so later changes by the caller never reach stored data. Throws {@link SerializationError}
 * naming the path (`where`) of the first value JSON cannot carry, of the
 * first level nested deeper than {@link MAX_JSON_DEPTH}, or of the first part
 * whose reading threw (a getter, a Proxy trap, a `toJSON`; that error is its `cause`).
 */
export function toJson(value: unknown, where: string, options: ToJsonOptions = {}): JsonValue {
  return convert(value, where, -(options.uncountedLevels ?? 0), {
    seen: new Set(),
    refuseDates: options.refuseDates ?? false,
  });
}

/** `path` as one short line: control characters escaped, and cut with `…` to at most {@link MAX_SHOWN_PATH} characters. */
function shown(path: string): string {
  const line = path.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped.
    /[\u0000-\u001f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  if (line.length <= MAX_SHOWN_PATH) return line;
  const cut = line.slice(0, MAX_SHOWN_PATH - 1);
  // End on a whole segment (`args[0].a.b…`) unless one segment is most of the line.
  const boundary = Math.max(cut.lastIndexOf("."), cut.lastIndexOf("["));
  return `${boundary > MAX_SHOWN_PATH / 2 ? cut.slice(0, boundary) : cut}…`;
}

function refuse(path: string, problem: string, cause?: unknown): never {
  const error = new SerializationError(
    `${shown(path)} ${problem}`,
    cause === undefined ? undefined : { cause },
  );
  refusals.add(error);
  throw error;
}

/** Refuses the value at `path` because reading it threw `thrown` (kept as the cause). */
function unreadable(path: string, thrown: unknown, how = "could not be read: it threw"): never {
  return refuse(path, `${how} ${thrownText(thrown)}`, thrown);
}

/** What user code threw, as a short line; describing it runs its code too, which may throw again. */
function thrownText(thrown: unknown): string {
  let text: string;
  try {
    text = String(thrown);
  } catch {
    text = "a value that cannot be described";
  }
  return capText(text.replace(/\s+/g, " ").trim(), 200);
}

function refuseDepth(path: string): never {
  return refuse(path, `nests deeper than ${MAX_JSON_DEPTH} levels, which Sheppy does not store`);
}

/**
 * `level` counts the arrays and objects around `value`, and the `toJSON` calls
 * that led to it: a `toJSON` returning ever new objects with a `toJSON` must be
 * bounded too. An array or object is refused at level {@link MAX_JSON_DEPTH};
 * a `toJSON` value one level further (a `Date` in the deepest allowed object)
 * is still converted. So recursion never goes past {@link MAX_JSON_DEPTH} + 2 calls.
 */
function convert(value: unknown, path: string, level: number, walk: Walk): JsonValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) refuse(path, `is ${value}, which JSON cannot store`);
      // JSON writes -0 as 0: store what a round trip gives.
      return value === 0 ? 0 : value;
    case "undefined":
      return refuse(path, "is undefined, which JSON cannot store (use null)");
    case "bigint":
    case "function":
    case "symbol":
      return refuse(path, `is ${withArticle(typeof value)}, which JSON cannot store`);
  }
  if (value === null) return null;
  try {
    return convertObject(value as object, path, level, walk);
  } catch (error) {
    // A Proxy trap or a getter threw (a refusal from deeper down passes through as it is).
    if (typeof error === "object" && error !== null && refusals.has(error)) throw error;
    return unreadable(path, error);
  }
}

function convertObject(object: object, path: string, level: number, walk: Walk): JsonValue {
  const { seen } = walk;
  if (seen.has(object)) refuse(path, "is a circular reference");
  if (Array.isArray(object)) {
    if (level >= MAX_JSON_DEPTH) refuseDepth(path);
    seen.add(object);
    const copy: JsonValue[] = new Array(object.length);
    for (let i = 0; i < object.length; i++) {
      let item: unknown;
      try {
        item = object[i];
      } catch (error) {
        unreadable(`${path}[${i}]`, error);
      }
      // A hole reads as undefined and is refused like one.
      copy[i] = convert(item, `${path}[${i}]`, level + 1, walk);
    }
    seen.delete(object);
    return copy;
  }
  if (object instanceof Date) {
    if (walk.refuseDates) {
      refuse(
        path,
        "is a Date, which JSON hands back as ISO text (give date.toISOString() or date.getTime())",
      );
    }
    // An invalid Date's toJSON() returns null, which would silently store null instead of the value.
    if (Number.isNaN(object.getTime())) refuse(path, "is an invalid Date, which JSON cannot store");
  }
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    if (level > MAX_JSON_DEPTH) refuseDepth(path);
    let converted: unknown;
    try {
      converted = toJSON.call(object);
    } catch (error) {
      unreadable(path, error, "could not be converted: its toJSON() threw");
    }
    return convert(converted, path, level + 1, walk);
  }
  if (!isPlainObject(object)) {
    refuse(path, `is ${withArticle(describe(object))}, which JSON cannot store`);
  }
  if (level >= MAX_JSON_DEPTH) refuseDepth(path);
  seen.add(object);
  const copy: Record<string, JsonValue> = {};
  for (const key in object) {
    let item: unknown;
    try {
      item = (object as Record<string, unknown>)[key];
    } catch (error) {
      unreadable(`${path}.${key}`, error);
    }
    // An undefined property is the same as a missing one once stored: drop it.
    if (item === undefined) continue;
    const stored = convert(item, `${path}.${key}`, level + 1, walk);
    // Assigning "__proto__" would set the copy's prototype and lose the entry; define it instead.
    if (key === "__proto__") {
      Object.defineProperty(copy, key, {
        value: stored,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else copy[key] = stored;
  }
  seen.delete(object);
  return copy;
}

/**
 * Whether `value` nests arrays and objects more than `limit` levels deep
 * (`[[1]]` nests 2). It is meant for records read back from a backend, which
 * were never checked by {@link toJson} and may nest deeper than the call stack
 * allows (or, handed in as objects, even refer to themselves): it recurses at
 * most `limit` levels and stops at the first level past it, so neither can
 * overflow the stack. Keep `limit` in the hundreds.
 */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  if (value === null || typeof value !== "object") return false;
  if (limit <= 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestsDeeperThan(item, limit - 1)) return true;
    return false;
  }
  for (const key in value) {
    if (
      Object.hasOwn(value, key) &&
      nestsDeeperThan((value as Record<string, unknown>)[key], limit - 1)
    )
      return true;
  }
  return false;
}

/**
 * Freezes a JSON value and everything inside it, so stored data cannot be
 * changed by callers. Walks with a list instead of recursing: records read
 * back from a backend were never checked by {@link toJson} and may nest deeper
 * than the call stack allows.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  Object.freeze(value);
  // Only objects not yet frozen go on the list, each frozen as it goes on: a record's many
  // plain fields, and the task options it shares with others, cost a look each, not a visit.
  const pending: object[] = [value];
  for (let item = pending.pop(); item !== undefined; item = pending.pop()) {
    const children = Object.values(item);
    for (let i = 0; i < children.length; i++) {
      const child = children[i];
      if (child !== null && typeof child === "object" && !Object.isFrozen(child)) {
        Object.freeze(child);
        pending.push(child);
      }
    }
  }
  return value;
}
