/**
 * The JSON-safety rule (`toJson`), `deepFreeze` and `nestsDeeperThan`: what
 * may be stored, the path named in the error when something may not, and how
 * deep stored data read back nests.
 */

import fc from "fast-check";
import { SerializationError } from "sheppy";
import { describe, expect, test } from "vitest";
import { deepFreeze, MAX_JSON_DEPTH, nestsDeeperThan, toJson } from "../../src/json.js";
import { jsonWithDate } from "../support/json-with-date.js";

/** `depth` arrays nested in one another around `leaf`: `[[…[leaf]…]]`. */
function nestedList(depth: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let level = 0; level < depth; level++) value = [value];
  return value;
}

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
    [
      "an instance of an anonymous class",
      new ((() => class {})())(),
      "v is an instance of an anonymous class, which JSON cannot store",
    ],
    ["a typed array", new Uint8Array(2), "v is a Uint8Array, which JSON cannot store"],
    ["an Error", new TypeError("x"), "v is a TypeError, which JSON cannot store"],
    ["an Int8Array", new Int8Array(2), "v is an Int8Array, which JSON cannot store"],
    [
      "an instance of an acronym class",
      new (class HTMLThing {})(),
      "v is an HTMLThing, which JSON cannot store",
    ],
    [
      "an object of a prototype without a constructor",
      Object.create(Object.create(null)),
      "v is an object without prototype, which JSON cannot store",
    ],
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

describe("toJson: values whose reading throws", () => {
  test("what a getter throws is refused at the getter's path, kept as the cause", () => {
    const problem = new RangeError("getter\nboom");
    const value = {
      ok: [1],
      get bad() {
        throw problem;
      },
    };
    let error: unknown;
    try {
      toJson({ outer: value }, "args[0]");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as Error).message).toBe(
      "args[0].outer.bad could not be read: it threw RangeError: getter boom",
    );
    expect((error as Error).cause).toBe(problem);
  });

  test("a SerializationError thrown by user code is wrapped like any other error", () => {
    const inner = new SerializationError("from user code");
    const value = {
      get x() {
        throw inner;
      },
    };
    expect(messageOf(() => toJson(value, "v"))).toBe(
      "v.x could not be read: it threw SerializationError: from user code",
    );
  });

  test("a thrown value that cannot be described still gives a one-line refusal", () => {
    const undescribable = {
      toString() {
        throw new Error("no");
      },
    };
    const value = new Proxy(
      {},
      {
        ownKeys() {
          throw undescribable;
        },
      },
    );
    expect(messageOf(() => toJson(value, "v"))).toBe(
      "v could not be read: it threw a value that cannot be described",
    );
  });
});

describe("toJson: refuseDates", () => {
  const json = fc.jsonValue({ maxDepth: 2 });

  test("a Date anywhere is stored as its ISO text by default, and refused at its path with refuseDates", () => {
    fc.assert(
      fc.property(jsonWithDate, ({ value, path, stored }) => {
        expect(toJson(value, "v")).toEqual(JSON.parse(JSON.stringify(stored)));
        expect(messageOf(() => toJson(value, "v", { refuseDates: true }))).toBe(
          `v${path} is a Date, which JSON hands back as ISO text (give date.toISOString() or date.getTime())`,
        );
      }),
      { numRuns: 500 },
    );
  });

  test("a value with no Date is copied the same with or without refuseDates", () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(toJson(value, "v", { refuseDates: true })).toEqual(toJson(value, "v"));
      }),
    );
  });

  test("an invalid Date is refused as a Date too", () => {
    expect(messageOf(() => toJson(new Date(Number.NaN), "v", { refuseDates: true }))).toMatch(
      /^v is a Date, which JSON hands back as ISO text/,
    );
  });
});

describe("toJson: nesting depth", () => {
  test(`values nesting up to ${MAX_JSON_DEPTH} levels are copied`, () => {
    expect(toJson(nestedList(MAX_JSON_DEPTH), "v")).toEqual(nestedList(MAX_JSON_DEPTH));
    let object: unknown = "leaf";
    for (let level = 0; level < MAX_JSON_DEPTH; level++) object = { k: object };
    expect(toJson(object, "v")).toEqual(object);
  });

  test("one level more is refused on one line, the path cut at a whole segment", () => {
    const message = messageOf(() => toJson(nestedList(MAX_JSON_DEPTH + 1), "result"));
    expect(message).toMatch(
      new RegExp(
        `^result(\\[0\\])+… nests deeper than ${MAX_JSON_DEPTH} levels, which Sheppy does not store$`,
      ),
    );
    expect(message.indexOf("…")).toBeLessThanOrEqual(80);
  });

  test("a depth of 100,000 is refused with the same error, not a stack overflow", () => {
    expect(messageOf(() => toJson(nestedList(100_000), "v"))).toContain(
      `nests deeper than ${MAX_JSON_DEPTH} levels`,
    );
  });

  test("uncountedLevels leaves outer levels out of the count (an argument list)", () => {
    const args = [nestedList(MAX_JSON_DEPTH)];
    expect(() => toJson(args, "args")).toThrow(SerializationError);
    expect(toJson(args, "args", { uncountedLevels: 1 })).toEqual(args);
    expect(() => toJson([nestedList(MAX_JSON_DEPTH + 1)], "args", { uncountedLevels: 1 })).toThrow(
      /^args\[0\](\[0\])+… nests deeper than/,
    );
  });

  test("a Date in the deepest allowed array is still stored as its text", () => {
    const date = new Date("2030-01-01T00:00:00.000Z");
    expect(toJson(nestedList(MAX_JSON_DEPTH, date), "v")).toEqual(
      nestedList(MAX_JSON_DEPTH, "2030-01-01T00:00:00.000Z"),
    );
  });

  test("a toJSON that keeps returning values with a toJSON is refused, not followed forever", () => {
    const endless = { toJSON: () => endless };
    expect(messageOf(() => toJson(endless, "v"))).toBe(
      `v nests deeper than ${MAX_JSON_DEPTH} levels, which Sheppy does not store`,
    );
    let calls = 0;
    const fresh = (): object => ({
      toJSON: () => {
        calls++;
        return fresh();
      },
    });
    expect(() => toJson(fresh(), "v")).toThrow(SerializationError);
    expect(calls).toBeLessThanOrEqual(MAX_JSON_DEPTH + 1);
  });
});

describe("toJson: what a round trip would change", () => {
  test("-0 is stored as 0, as JSON writes it", () => {
    expect(Object.is(toJson(-0, "v"), 0)).toBe(true);
    expect(Object.is((toJson({ n: -0 }, "v") as { n: number }).n, 0)).toBe(true);
  });

  test("an own __proto__ key is kept as data, not turned into a prototype", () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "b": 1}') as object;
    const copy = toJson(input, "v") as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(["__proto__", "b"]);
    expect(JSON.stringify(copy)).toBe('{"__proto__":{"polluted":true},"b":1}');
    expect((copy as { polluted?: unknown }).polluted).toBeUndefined();
  });

  test("control characters in a path are escaped, so the message stays one line", () => {
    expect(messageOf(() => toJson({ "bad\nkey": 1n }, "v"))).toBe(
      "v.bad\\u000akey is a bigint, which JSON cannot store",
    );
  });
});

describe("deepFreeze", () => {
  test("freezes a value nested far deeper than the call stack allows", () => {
    const depth = 200_000;
    const root: { next: unknown } = { next: null };
    let node = root;
    for (let level = 0; level < depth; level++) {
      const child = { next: null };
      node.next = child;
      node = child;
    }
    expect(deepFreeze(root)).toBe(root);
    expect(Object.isFrozen(node)).toBe(true);
  });

  test("a cycle is frozen once and does not loop", () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    a.list = [a];
    expect(deepFreeze(a)).toBe(a);
    expect(Object.isFrozen(a.list)).toBe(true);
  });

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

  test("every object and array inside any JSON value ends frozen", () => {
    const objectsIn = (value: unknown, found: object[] = []): object[] => {
      if (value !== null && typeof value === "object") {
        found.push(value);
        for (const child of Object.values(value)) objectsIn(child, found);
      }
      return found;
    };
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = structuredClone(value);
        expect(deepFreeze(copy)).toBe(copy);
        for (const item of objectsIn(copy)) expect(Object.isFrozen(item)).toBe(true);
        expect(copy).toEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  test("primitives and null pass through", () => {
    expect(deepFreeze(5)).toBe(5);
    expect(deepFreeze("s")).toBe("s");
    expect(deepFreeze(null)).toBeNull();
    expect(deepFreeze(undefined)).toBeUndefined();
  });
});

describe("nestsDeeperThan", () => {
  /** How many levels of arrays and objects `value` nests, by plain recursion (fine for test-sized values). */
  function depthOf(value: unknown): number {
    if (value === null || typeof value !== "object") return 0;
    return 1 + Math.max(0, ...Object.values(value).map(depthOf));
  }

  test("agrees with the nesting depth of any JSON value, at any limit", () => {
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 12 }),
        fc.integer({ min: 0, max: 14 }),
        (value, limit) => {
          expect(nestsDeeperThan(value, limit)).toBe(depthOf(value) > limit);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test("walks values far deeper than the call stack, and values that contain themselves", () => {
    expect(nestsDeeperThan(nestedList(1_000_000), MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan(nestedList(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(nestsDeeperThan(cycle, MAX_JSON_DEPTH)).toBe(true);
  });
});
