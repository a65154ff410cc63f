/**
 * Whatever a task throws, storing it works: `errorToData` returns plain JSON
 * (a JSON round trip gives the same value) with string `type` and `message`,
 * bounded in size, and `TaskError` / `toError()` work on it. Examples of
 * hostile values first, then a property test over generated ones.
 */

import fc from "fast-check";
import { type ErrorData, Queue, TaskError, task } from "sheppy";
import { describe, expect, test } from "vitest";
import { MAX_DETAILS_TEXT } from "../../src/task/error-details.js";
import { errorToData, MAX_ERROR_TEXT } from "../../src/task/stored-error.js";

/** Most causes below the thrown error that are stored. */
const MAX_CAUSES = 8;

/** Throws `thrown` every time it is called: a getter or method that fails. */
function thrower(thrown: unknown = new Error("trap")): () => never {
  return () => {
    throw thrown;
  };
}

/** A Proxy whose every trap throws. */
function hostileProxy<T extends object>(target: T, thrown: unknown = new Error("trap")): T {
  const handler: ProxyHandler<T> = {};
  for (const trap of [
    "apply",
    "construct",
    "defineProperty",
    "deleteProperty",
    "get",
    "getOwnPropertyDescriptor",
    "getPrototypeOf",
    "has",
    "isExtensible",
    "ownKeys",
    "preventExtensions",
    "set",
    "setPrototypeOf",
  ] as const) {
    (handler as Record<string, unknown>)[trap] = thrower(thrown);
  }
  return new Proxy(target, handler);
}

/** A Proxy that was revoked: touching it in any way throws a TypeError. */
function revokedProxy(target: object = {}): object {
  const { proxy, revoke } = Proxy.revocable(target, {});
  revoke();
  return proxy;
}

/** An object whose every way of becoming a primitive throws. */
function unprintable(): object {
  return {
    toString: thrower(),
    valueOf: thrower(),
    toJSON: thrower(),
    [Symbol.toPrimitive]: thrower(),
  };
}

/** An object without prototype holding a function, which neither JSON nor String() can handle. */
function bareWithFunction(): object {
  return Object.assign(Object.create(null) as object, { handler: () => 1, n: 1 });
}

/** Defines `key` on `target` as a getter that throws `thrown`. */
function throwingGetter<T extends object>(
  target: T,
  key: string,
  thrown: unknown,
  enumerable = true,
): T {
  return Object.defineProperty(target, key, {
    get: thrower(thrown),
    enumerable,
    configurable: true,
  });
}

/** Checks everything `errorToData` promises for `thrown`; returns the data. */
function check(thrown: unknown): ErrorData {
  const data = errorToData(thrown);
  const text = JSON.stringify(data);
  expect(JSON.parse(text)).toStrictEqual(data);
  let causes = -1;
  for (let level: ErrorData | null = data; level; level = level.cause) {
    causes++;
    expect(typeof level.type).toBe("string");
    expect(level.type).not.toBe("");
    expect(typeof level.message).toBe("string");
    expect(level.message.length).toBeLessThanOrEqual(MAX_ERROR_TEXT);
    if (level.stack !== null) expect(level.stack.length).toBeLessThanOrEqual(MAX_ERROR_TEXT);
    if (level.props)
      expect(JSON.stringify(level.props).length).toBeLessThanOrEqual(MAX_DETAILS_TEXT + 2);
    if (level.issues)
      expect(JSON.stringify(level.issues).length).toBeLessThanOrEqual(MAX_DETAILS_TEXT + 2);
  }
  expect(causes).toBeLessThanOrEqual(MAX_CAUSES);
  const stored = new TaskError(JSON.parse(text) as ErrorData);
  expect(stored.toString()).toBe(`${data.type}: ${data.message}`);
  const rebuilt = stored.toError();
  expect(rebuilt).toBeInstanceOf(Error);
  expect(rebuilt.message).toBe(data.message);
  expect(String(rebuilt.stack)).toContain(data.stack === null ? data.message : data.stack);
  return data;
}

describe("hostile thrown values are stored readably", () => {
  test("an own property holding an object without prototype that contains a function", () => {
    const error = Object.assign(new Error("bare"), { details: bareWithFunction() });
    expect(check(error).props).toEqual({ details: '{"handler":"[function handler]","n":1}' });
  });

  test("an own enumerable getter that throws is stored as a note, the other properties kept", () => {
    const error = throwingGetter(Object.assign(new Error("getter"), { code: "E1" }), "bad", 1);
    expect(check(error).props).toEqual({
      code: "E1",
      bad: "(a property that could not be read)",
    });
  });

  test.each(["message", "name", "stack", "cause", "issues"])(
    "a getter on %s that throws (even a revoked Proxy) does not stop the rest",
    (field) => {
      const error = throwingGetter(new RangeError("kept"), field, revokedProxy(), false);
      const data = check(error);
      if (field === "message") {
        expect(data.message).toBe("(an error whose message could not be read)");
      } else {
        expect(data.message).toBe("kept");
      }
      expect(data.type).toBe("RangeError");
      if (field === "cause") expect(data.cause?.message).toBe("(a cause that could not be read)");
      if (field === "stack") expect(data.stack).toBeNull();
    },
  );

  test("issues whose message is an object without prototype, or unreadable, and odd path segments", () => {
    const issues = [
      { message: bareWithFunction(), path: ["a", { key: 0 }, -0, Number.NaN, Symbol("s")] },
      throwingGetter({ path: [{ key: 1n }] }, "message", new Error("no")),
      { message: "fine", path: throwingGetter([1], "0", new Error("no")) },
      revokedProxy(),
    ];
    const data = check(Object.assign(new Error("invalid"), { issues }));
    expect(data.issues).toEqual([
      { message: '{"handler":"[function handler]","n":1}', path: ["a", 0, 0, "NaN", "Symbol(s)"] },
      { message: "(an issue whose message could not be read)", path: ["1"] },
      { message: "fine", path: [] },
      { message: "(an issue whose message could not be read)", path: [] },
    ]);
  });

  test("a thrown Proxy whose every trap throws, and a revoked Proxy", () => {
    for (const target of [new Error("inside"), {}, () => 1]) {
      const data = check(hostileProxy(target));
      expect(data.type).toBe("NonError");
      expect(data.message.length).toBeGreaterThan(0);
    }
    expect(check(revokedProxy(new Error("gone")))).toEqual({
      type: "NonError",
      message: "(a value that could not be described)",
      stack: null,
      cause: null,
    });
  });

  test("a Proxy of an Error whose traps pass through is stored as that error", () => {
    const data = check(new Proxy(new TypeError("through"), {}));
    expect(data).toMatchObject({ type: "TypeError", message: "through" });
  });

  test("an error whose prototype chain holds a throwing Proxy", () => {
    const error = new Error("odd chain");
    Object.setPrototypeOf(error, hostileProxy({}));
    const data = check(error);
    expect(data.message).toBe("odd chain");
  });

  test("objects whose toString, valueOf and Symbol.toPrimitive throw: thrown, as message, as property", () => {
    expect(check(unprintable()).message).toBe("[object Object]");
    const withMessage = new Error("replaced");
    Object.defineProperty(withMessage, "message", { value: unprintable() });
    expect(check(withMessage).message).toBe("[object Object]");
    expect(check(Object.assign(new Error("p"), { bad: unprintable() })).props).toEqual({
      bad: "[object Object]",
    });
  });

  test("an error whose cause is itself is cut after the cause limit", () => {
    const error = new Error("me");
    Object.defineProperty(error, "cause", { value: error });
    const data = check(error);
    let depth = 0;
    for (let level = data.cause; level; level = level.cause) {
      expect(level.message).toBe("me");
      depth++;
    }
    expect(depth).toBe(MAX_CAUSES);
  });

  test("properties that contain cycles are described", () => {
    const loop: Record<string, unknown> = { n: 1 };
    loop.self = loop;
    const data = check(Object.assign(new Error("cyclic"), { loop }));
    expect(data.props?.loop).toBe("[object Object]");
  });

  test("a thrown BigInt, Symbol or function is NonError with its description", () => {
    expect(check(123n).message).toBe("123");
    expect(check(Symbol("why")).message).toBe("Symbol(why)");
    expect(check(function namedThing() {}).message).toBe("[function namedThing]");
    expect(check(() => 1).message).toBe("[anonymous function]");
    expect(check({ big: 1n, fn() {} }).message).toBe('{"big":"1","fn":"[function fn]"}');
  });

  test("very long text is cut: message, stack, each property, type and key names", () => {
    const huge = "x".repeat(5_000_000);
    const error = new Error(huge);
    Object.assign(error, {
      long: huge,
      [huge]: 1,
      list: Array.from({ length: 100_000 }, (_, i) => i),
    });
    error.name = huge;
    const data = check(error);
    expect(data.message).toHaveLength(MAX_ERROR_TEXT);
    expect(data.message.endsWith("…")).toBe(true);
    expect(data.stack?.length).toBeLessThanOrEqual(MAX_ERROR_TEXT);
    expect(data.type.length).toBeLessThanOrEqual(200);
    expect(JSON.stringify(data).length).toBeLessThan(50_000);
    expect(typeof data.props?.long).toBe("string");
    expect(typeof data.props?.list).toBe("string");
    expect(check(huge).message).toHaveLength(MAX_ERROR_TEXT);
  });

  test("a million own properties or issues cost no more than a few", () => {
    const error = new Error("many");
    for (let i = 0; i < 100_000; i++) (error as unknown as Record<string, number>)[`k${i}`] = i;
    const issues = Array.from({ length: 1_000_000 }, (_, i) => ({
      message: `issue ${i}`,
      path: [i],
    }));
    Object.assign(error, { issues });
    const data = check(error);
    expect(Object.keys(data.props ?? {}).length).toBeGreaterThan(0);
    expect(Object.keys(data.props ?? {}).length).toBeLessThanOrEqual(100);
    expect(data.issues?.[0]).toEqual({ message: "issue 0", path: [0] });
    expect(data.issues?.length).toBeLessThanOrEqual(100);
  });

  test("a deep cause chain keeps the first causes", () => {
    let error: unknown = "root";
    for (let i = 0; i < 10_000; i++) error = new Error(`level ${i}`, { cause: error });
    const data = check(error);
    expect(data.message).toBe("level 9999");
    expect(data.cause?.message).toBe("level 9998");
  });

  test("errors of user subclasses, with odd names", () => {
    class PaymentError extends Error {}
    class NumberNamed extends Error {
      static override name = 5 as unknown as string;
    }
    class GetterNamed extends Error {
      override get name(): string {
        throw new Error("no name");
      }
    }
    expect(check(new PaymentError("declined")).type).toBe("PaymentError");
    expect(check(new NumberNamed("n")).type).toBe("Error");
    expect(check(new GetterNamed("g")).type).toBe("GetterNamed");
  });

  test("an AggregateError keeps descriptions of the errors it gathered", () => {
    const error = new AggregateError(
      [new TypeError("first"), "second", revokedProxy(), unprintable()],
      "All promises were rejected",
    );
    const data = check(error);
    expect(data.type).toBe("AggregateError");
    expect(data.props?.errors).toEqual([
      "TypeError: first",
      "second",
      "(a value that could not be described)",
      "[object Object]",
    ]);
  });

  test("a property named __proto__ stays data, and toError() does not change the prototype", () => {
    const error = new Error("proto");
    Object.defineProperty(error, "__proto__", { value: { x: 1 }, enumerable: true });
    const data = check(error);
    expect(Object.keys(data.props ?? {})).toEqual(["__proto__"]);
    const rebuilt = new TaskError(data).toError();
    expect(Object.getPrototypeOf(rebuilt)).toBe(Error.prototype);
  });

  test("toError() defines props even where the class has a getter of that name", () => {
    class ReadOnlyCode extends Error {
      get code(): string {
        return "fixed";
      }
    }
    const data: ErrorData = {
      type: "ReadOnlyCodeUnknown",
      message: "m",
      stack: null,
      cause: null,
      props: { code: "stored", message: "not this", stack: "nor this" },
    };
    const rebuilt = new TaskError(data).toError();
    expect(rebuilt.message).toBe("m");
    expect((rebuilt as unknown as { code: string }).code).toBe("stored");
    expect(new ReadOnlyCode("x").code).toBe("fixed");
  });
});

describe("a real attempt", () => {
  test("a task throwing an error with unreadable and unprintable parts ends failed, readably", async () => {
    const nasty = task({ name: "throws-nasty" }, () => {
      const error = Object.assign(new TypeError("nasty"), {
        details: bareWithFunction(),
        odd: unprintable(),
        code: "E_NASTY",
      });
      throwingGetter(error, "broken", revokedProxy());
      throw error;
    });
    const queue = new Queue("memory://", { name: "stored-error-robust" });
    const t = nasty();
    await queue.add(t);
    const done = await queue.waitFor(t, { timeout: 5 });
    await queue.close();
    expect(done.status).toBe("failed");
    expect(done.error?.toString()).toBe("TypeError: nasty");
    expect(done.error?.props).toEqual({
      details: '{"handler":"[function handler]","n":1}',
      odd: "[object Object]",
      code: "E_NASTY",
      broken: "(a property that could not be read)",
    });
    expect(done.error?.toError()).toBeInstanceOf(TypeError);
  });
});

describe("errorToData is total (property test)", () => {
  const anything = fc.anything({
    maxDepth: 3,
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withNullPrototype: true,
    withObjectString: true,
    withSet: true,
    withSparseArray: true,
    withTypedArray: true,
    stringUnit: "binary",
  });

  test("any JS value (fc.anything) is stored as plain JSON", () => {
    fc.assert(
      fc.property(anything, (thrown) => {
        check(thrown);
      }),
      { numRuns: 1_000 },
    );
  }, 60_000);

  // fast-check looks at the values it generates (to clone or print them), which hostile
  // values do not allow: it generates recipes, and the property builds the values.
  type Recipe =
    | { kind: "any"; value: unknown }
    | { kind: "revoked" | "unprintable" | "bare" | "cycle" }
    | { kind: "proxy"; target: "error" | "object" | "function" }
    | { kind: "bigint"; value: bigint }
    | { kind: "symbol" | "function"; name: string }
    | { kind: "long"; length: number }
    | ErrorRecipe;

  interface ErrorRecipe {
    kind: "error";
    type: "Error" | "TypeError" | "subclass" | "named" | "AggregateError" | "nullPrototype";
    message: string | Recipe;
    name: string;
    cause: Recipe | undefined;
    selfCause: boolean;
    props: [string, Recipe][];
    /** Path segments: `true` wraps one in `{ key }`, as Standard Schema may. */
    issues: { message: Recipe; path: [boolean, Recipe][] }[] | undefined;
    throwingGetters: ("message" | "name" | "stack" | "cause" | "issues" | "extra")[];
    thrown: Recipe;
    brokenPrototype: boolean;
  }

  const leaf: fc.Arbitrary<Recipe> = fc.oneof(
    { weight: 4, arbitrary: anything.map((value): Recipe => ({ kind: "any", value })) },
    fc.constantFrom<Recipe>(
      { kind: "revoked" },
      { kind: "unprintable" },
      { kind: "bare" },
      { kind: "cycle" },
      { kind: "proxy", target: "error" },
      { kind: "proxy", target: "object" },
      { kind: "proxy", target: "function" },
    ),
    fc.bigInt().map((value): Recipe => ({ kind: "bigint", value })),
    fc.string().map((name): Recipe => ({ kind: "symbol", name })),
    fc.string().map((name): Recipe => ({ kind: "function", name })),
    fc.integer({ min: 9_000, max: 40_000 }).map((length): Recipe => ({ kind: "long", length })),
  );

  const { recipe } = fc.letrec<{ recipe: Recipe; error: ErrorRecipe }>((tie) => ({
    recipe: fc.oneof({ depthSize: "small", maxDepth: 4 }, leaf, tie("error")),
    error: fc.record({
      kind: fc.constant("error" as const),
      type: fc.constantFrom(
        "Error",
        "TypeError",
        "subclass",
        "named",
        "AggregateError",
        "nullPrototype",
      ) as fc.Arbitrary<ErrorRecipe["type"]>,
      message: fc.oneof(fc.string(), tie("recipe")),
      name: fc.string(),
      cause: fc.option(tie("recipe"), { nil: undefined }),
      selfCause: fc.boolean(),
      props: fc.array(fc.tuple(fc.string({ maxLength: 8 }), tie("recipe")), { maxLength: 4 }),
      issues: fc.option(
        fc.array(
          fc.record({
            message: tie("recipe"),
            path: fc.array(fc.tuple(fc.boolean(), tie("recipe")), { maxLength: 4 }),
          }),
          { maxLength: 3 },
        ),
        { nil: undefined },
      ),
      // `stack` first: redefining it makes V8 format the stack, which reads `name`.
      throwingGetters: fc.subarray([
        "stack",
        "message",
        "name",
        "cause",
        "issues",
        "extra",
      ] as ErrorRecipe["throwingGetters"]),
      thrown: leaf,
      brokenPrototype: fc.boolean(),
    }),
  }));

  function build(r: Recipe): unknown {
    switch (r.kind) {
      case "any":
        return r.value;
      case "revoked":
        return revokedProxy();
      case "unprintable":
        return unprintable();
      case "bare":
        return bareWithFunction();
      case "cycle": {
        const loop: Record<string, unknown> = { n: 1 };
        loop.loop = loop;
        return loop;
      }
      case "proxy":
        return hostileProxy(
          r.target === "error" ? new Error("in proxy") : r.target === "object" ? {} : () => 1,
        );
      case "bigint":
        return r.value;
      case "symbol":
        return Symbol(r.name);
      case "function":
        return Object.defineProperty(() => 1, "name", { value: r.name });
      case "long":
        return "é".repeat(r.length);
      case "error":
        return buildError(r);
    }
  }

  /**
   * Applies one change to an error being built. V8 refuses some — redefining
   * `stack` formats it, which reads `name` and `message` — and then the error
   * is built without that change.
   */
  function tryTo(change: () => unknown): void {
    try {
      change();
    } catch {
      // Refused by V8 itself: not what is under test.
    }
  }

  function buildError(r: ErrorRecipe): Error {
    const message = typeof r.message === "string" ? r.message : build(r.message);
    const text = typeof message === "string" ? message : "";
    let error: Error;
    switch (r.type) {
      case "TypeError":
        error = new TypeError(text);
        break;
      case "subclass":
        error = new (class UserError extends Error {})(text);
        break;
      case "named":
        error = new Error(text);
        error.name = r.name;
        break;
      case "AggregateError":
        error = new AggregateError([message, build(r.thrown)], text);
        break;
      default:
        error = new Error(text);
    }
    const target = error;
    if (r.type === "nullPrototype") Object.setPrototypeOf(target, null);
    if (typeof message !== "string") {
      tryTo(() => Object.defineProperty(target, "message", { value: message, configurable: true }));
    }
    if (r.cause !== undefined) {
      const cause = build(r.cause);
      tryTo(() => Object.defineProperty(target, "cause", { value: cause, configurable: true }));
    }
    if (r.selfCause) {
      tryTo(() => Object.defineProperty(target, "cause", { value: target, configurable: true }));
    }
    for (const [key, item] of r.props) {
      const value = build(item);
      tryTo(() =>
        Object.defineProperty(target, key, { value, enumerable: true, configurable: true }),
      );
    }
    if (r.issues) {
      const issues = r.issues.map((issue) => ({
        message: build(issue.message),
        path: issue.path.map(([wrap, segment]) =>
          wrap ? { key: build(segment) } : build(segment),
        ),
      }));
      tryTo(() => Object.defineProperty(target, "issues", { value: issues, configurable: true }));
    }
    for (const name of r.throwingGetters) {
      const thrown = build(r.thrown);
      tryTo(() => throwingGetter(target, name, thrown));
    }
    if (r.brokenPrototype) Object.setPrototypeOf(target, hostileProxy(Error.prototype));
    return error;
  }

  // A run takes a few milliseconds (recipes nest errors four deep, with causes, props and
  // issues): far more than the default timeout allows for a thousand on a busy machine.
  test("hostile errors and values of every kind are stored as plain JSON", () => {
    fc.assert(
      fc.property(recipe, (r) => {
        check(build(r));
      }),
      { numRuns: 1_000 },
    );
  }, 60_000);
});
