/**
 * The JSON-safety rule (`toJson`) and `deepFreeze`: what may be stored, and the
 * path named in the error when something may not.
 */
import { SerializationError } from "sheppy";
import { describe, expect, test } from "vitest";
import { deepFreeze, toJson } from "../../src/json.js";

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SerializationError);
    return (error as Error).message;
  }
  throw new Error("expected a SerializationError");
}

describe("toJson", () => {
  test.each([
    ["a string", "text"],
    ["an empty string", ""],
    ["true", true],
    ["false", false],
    ["zero", 0],
    ["a negative float", -1.5],
    ["null", null],
    ["an empty array", []],
    ["an empty object", {}],
  ])("%s is kept as is", (_what, value) => {
    expect(toJson(value, "value")).toEqual(value);
  });

  test("nested arrays and objects are copied, not shared", () => {
    const input = { list: [1, { deep: ["x"] }], flag: true };
    const copy = toJson(input, "value") as typeof input;
    expect(copy).toEqual(input);
    expect(copy).not.toBe(input);
    expect(copy.list).not.toBe(input.list);
    expect(copy.list[1]).not.toBe(input.list[1]);
  });

  test("the copy equals a JSON round trip of the input", () => {
    const input = { a: [1, 2, { b: null }], c: "d", e: { f: [true, false] } };
    expect(toJson(input, "value")).toEqual(JSON.parse(JSON.stringify(input)));
  });

  test("a Date becomes its ISO string through toJSON", () => {
    expect(toJson(new Date("2020-01-01T00:00:00.000Z"), "value")).toBe("2020-01-01T00:00:00.000Z");
    expect(toJson({ at: new Date(0) }, "value")).toEqual({ at: "1970-01-01T00:00:00.000Z" });
  });

  test("an invalid Date is refused (its toJSON gives null, which would lose the value)", () => {
    expect(messageOf(() => toJson({ at: new Date(Number.NaN) }, "args[0]"))).toBe(
      "args[0].at is an invalid Date, which JSON cannot store",
    );
  });

  test("what toJSON returns is checked too", () => {
    const sneaky = { toJSON: () => ({ fn: () => 1 }) };
    expect(messageOf(() => toJson(sneaky, "arg"))).toBe(
      "arg.fn is a function, which JSON cannot store",
    );
  });

  test("undefined object properties are dropped", () => {
    expect(toJson({ a: undefined, b: 1 }, "value")).toEqual({ b: 1 });
    expect(Object.keys(toJson({ a: undefined }, "value") as object)).toEqual([]);
  });

  test("an object without prototype counts as plain", () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.x = 1;
    expect(toJson(bare, "value")).toEqual({ x: 1 });
  });

  test("the same object reached twice is not a cycle", () => {
    const shared = { n: 1 };
    expect(toJson({ a: shared, b: [shared] }, "value")).toEqual({ a: { n: 1 }, b: [{ n: 1 }] });
  });

  test.each([
    ["undefined at the top", undefined, "v is undefined, which JSON cannot store (use null)"],
    ["NaN", Number.NaN, "v is NaN, which JSON cannot store"],
    ["-Infinity", Number.NEGATIVE_INFINITY, "v is -Infinity, which JSON cannot store"],
    ["a BigInt", 1n, "v is a bigint, which JSON cannot store"],
    ["a function", () => 1, "v is a function, which JSON cannot store"],
    ["a symbol", Symbol("x"), "v is a symbol, which JSON cannot store"],
    ["a Map", new Map(), "v is a Map, which JSON cannot store"],
    ["a Set", new Set(), "v is a Set, which JSON cannot store"],
    ["a RegExp", /x/, "v is a RegExp, which JSON cannot store"],
    ["a class instance", new (class Widget {})(), "v is a Widget, which JSON cannot store"],
    ["a typed array", new Uint8Array(2), "v is a Uint8Array, which JSON cannot store"],
  ])("%s is refused with a message naming the path", (_what, value, message) => {
    expect(messageOf(() => toJson(value, "v"))).toBe(message);
  });

  test("paths name array indexes and object keys", () => {
    expect(messageOf(() => toJson({ a: [{ b: 1 }, { b: 2n }] }, "result"))).toBe(
      "result.a[1].b is a bigint, which JSON cannot store",
    );
    expect(messageOf(() => toJson([1, [2, undefined]], "args"))).toBe(
      "args[1][1] is undefined, which JSON cannot store (use null)",
    );
  });

  test("a sparse array hole is refused like undefined", () => {
    const holes = new Array(2);
    expect(messageOf(() => toJson(holes, "args"))).toContain("args[0] is undefined");
  });

  test("cycles through objects and arrays are refused", () => {
    const obj: Record<string, unknown> = {};
    obj.me = obj;
    expect(messageOf(() => toJson(obj, "args[0]"))).toBe("args[0].me is a circular reference");
    const arr: unknown[] = [];
    arr.push([arr]);
    expect(messageOf(() => toJson(arr, "r"))).toBe("r[0][0] is a circular reference");
  });
});

describe("deepFreeze", () => {
  test("freezes the value and everything inside it, and returns it", () => {
    const value = { a: { b: [1, { c: 2 }] } };
    const frozen = deepFreeze(value);
    expect(frozen).toBe(value);
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.a)).toBe(true);
    expect(Object.isFrozen(value.a.b)).toBe(true);
    expect(Object.isFrozen(value.a.b[1])).toBe(true);
  });

  test("assignments to a frozen value throw in strict mode", () => {
    const value = deepFreeze({ list: [1, 2], nested: { n: 1 } });
    expect(() => {
      value.list.push(3);
    }).toThrow(TypeError);
    expect(() => {
      value.nested.n = 2;
    }).toThrow(TypeError);
    expect(value).toEqual({ list: [1, 2], nested: { n: 1 } });
  });

  test("primitives and null pass through", () => {
    expect(deepFreeze(5)).toBe(5);
    expect(deepFreeze("s")).toBe("s");
    expect(deepFreeze(null)).toBeNull();
    expect(deepFreeze(undefined)).toBeUndefined();
  });
});
