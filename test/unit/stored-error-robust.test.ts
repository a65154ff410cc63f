/**
 * Whatever a task throws, storing it works: `errorToData` returns plain JSON
 * (a JSON round trip gives the same value) with string `type` and `message`,
 * bounded in size, and `TaskError` / `toError()` work on it. Examples of
 * hostile values first, then a property test over generated ones.
 */

import fc from "fast-check";
import { type ErrorData, Queue, TaskError, type TaskFailedError, task } from "sheppy";
import { describe, expect, test } from "vitest";
import { MAX_DETAILS_TEXT } from "../../src/task/error-details.js";
import { errorToData, MAX_ERROR_TEXT } from "../../src/task/stored-error.js";
import {
  anything,
  bareWithFunction,
  build,
  hostileProxy,
  recipe,
  revokedProxy,
  throwingGetter,
  unprintable,
} from "../support/hostile-values.js";

/** Most causes below the thrown error that are stored. */
const MAX_CAUSES = 8;

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
    expect(data.props?.loop).toBe('{"n":1,"self":"[Circular]"}');
  });

  test("a thrown BigInt, Symbol or function is NonError with its description", () => {
    expect(check(123n).message).toBe("123");
    expect(check(Symbol("why")).message).toBe("Symbol(why)");
    expect(check(function namedThing() {}).message).toBe("[function namedThing]");
    expect(check(() => 1).message).toBe("[anonymous function]");
    expect(check({ big: 1n, fn() {} }).message).toBe('{"big":"1","fn":"[function fn]"}');
  });

  test("a thrown object that contains itself is described, its cycle shown as [Circular]", () => {
    const shared = { id: 7 };
    const loop: Record<string, unknown> = { n: 1, a: shared, b: shared, list: [shared] };
    loop.self = loop;
    (loop.list as unknown[]).push(loop);
    expect(check(loop).message).toBe(
      '{"n":1,"a":{"id":7},"b":{"id":7},"list":[{"id":7},"[Circular]"],"self":"[Circular]"}',
    );
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

  test("a message of pages leaves the stack its frames: the header it repeats is what is cut", () => {
    function throwsLong(): never {
      throw new Error("x".repeat(10_000));
    }
    let thrown: unknown;
    try {
      throwsLong();
    } catch (error) {
      thrown = error;
    }
    const data = check(thrown);
    expect(data.stack!.length).toBeLessThanOrEqual(MAX_ERROR_TEXT);
    expect(data.stack).toMatch(/^Error: x+…\n\s+at throwsLong /);
    // Frames of their own over the bound: cut from the end, as before.
    const deep = Object.assign(new Error("deep"), {
      stack: `Error: deep\n${"    at recurse (/app/r.ts:1:1)\n".repeat(1_000)}`,
    });
    const cut = check(deep).stack!;
    expect(cut).toHaveLength(MAX_ERROR_TEXT);
    expect(cut.startsWith("Error: deep\n    at recurse")).toBe(true);
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

  test("an AggregateError keeps what it gathered: errors as type and message, anything else described", () => {
    const error = new AggregateError(
      [new TypeError("first"), "second", revokedProxy(), unprintable()],
      "All promises were rejected",
    );
    const data = check(error);
    expect(data.type).toBe("AggregateError");
    expect(data.props?.errors).toEqual([
      { type: "TypeError", message: "first" },
      "second",
      "(a value that could not be described)",
      "[object Object]",
    ]);
  });

  test("an error toError() rebuilt, thrown again as it is, is stored as the data it came from; changed, it is read anew", () => {
    const errors = [
      new AggregateError([new TypeError("t1"), "str-item", null], "many"),
      Object.assign(new RangeError("r", { cause: new AggregateError([new Error("x")]) }), { n: 1 }),
      new TypeError("plain"),
    ];
    for (const error of errors) {
      const data = errorToData(error);
      expect(errorToData(new TaskError(data).toError())).toEqual(data);
    }
    const changed = new TaskError(errorToData(new TypeError("before"))).toError();
    changed.message = "after";
    expect(errorToData(changed)).toMatchObject({ type: "TypeError", message: "after" });
  });

  test("toError() of an AggregateError rebuilds one, with the errors it gathered as errors of their classes", () => {
    class UnknownHere extends Error {
      override name = "UnknownHere";
    }
    const rebuilt = new TaskError(
      errorToData(
        new AggregateError(
          [new TypeError("a"), new UnknownHere("b"), "not an error"],
          "all failed",
        ),
      ),
    ).toError() as AggregateError;
    expect(rebuilt).toBeInstanceOf(AggregateError);
    expect(rebuilt.message).toBe("all failed");
    const [first, second, third] = rebuilt.errors as unknown[];
    expect(first).toBeInstanceOf(TypeError);
    expect((first as Error).message).toBe("a");
    expect(second).toBeInstanceOf(Error);
    expect((second as TaskFailedError).originalType).toBe("UnknownHere");
    expect(third).toBe("not an error");
    // Stored by an earlier version (descriptions): they come back as the text they are.
    const earlier = new TaskError({
      type: "AggregateError",
      message: "old",
      stack: null,
      cause: null,
      props: { errors: ["TypeError: a"] },
    }).toError() as AggregateError;
    expect(earlier).toBeInstanceOf(AggregateError);
    expect(earlier.errors).toEqual(["TypeError: a"]);
  });

  test("a large AggregateError keeps the first errors it gathered as a list within the property bound", () => {
    const many = Array.from({ length: 50 }, (_, i) => new RangeError(`${i}`.repeat(400)));
    const data = check(new AggregateError(many, "many"));
    const gathered = data.props?.errors as { type: string; message: string }[];
    expect(Array.isArray(gathered)).toBe(true);
    expect(gathered.length).toBeGreaterThan(0);
    expect(JSON.stringify(gathered).length).toBeLessThanOrEqual(2_000);
    expect(gathered[0]).toEqual({ type: "RangeError", message: "0".repeat(400) });
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
  test("any JS value (fc.anything) is stored as plain JSON", () => {
    fc.assert(
      fc.property(anything, (thrown) => {
        check(thrown);
      }),
      { numRuns: 1_000 },
    );
  }, 60_000);

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
