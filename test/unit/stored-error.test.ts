/**
 * Errors stored as data (E-*): `errorToData` and `TaskError` — type, message,
 * stack, cause chain, props, issues, "Type: message", and `toError()`.
 */
import {
  type ErrorData,
  registerErrorClass,
  TaskError,
  TaskFailedError,
  TaskTimeoutError,
  task,
  ValidationError,
  WorkerCrashedError,
} from "sheppy";
import { TestQueue } from "sheppy/testing";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { errorToData } from "../../src/task/stored-error.js";

class BadThingsError extends Error {
  constructor(
    message: string,
    readonly severity: number,
  ) {
    super(message);
    this.name = "BadThingsError";
  }
}

class StrictCtorError extends Error {
  constructor(readonly code: number) {
    if (typeof code !== "number") throw new TypeError("code must be a number");
    super(`strict ${code}`);
  }
}

class NeverRegisteredError extends Error {
  override name = "NeverRegisteredError";
}

/** Error data after a JSON round trip, as a backend would return it. */
function stored(thrown: unknown): ErrorData {
  return JSON.parse(JSON.stringify(errorToData(thrown))) as ErrorData;
}

describe("errorToData", () => {
  test("E-1 a thrown Error keeps type, message and a stack naming the throwing function", () => {
    function explodeHere() {
      throw new RangeError("boom");
    }
    let caught: unknown;
    try {
      explodeHere();
    } catch (error) {
      caught = error;
    }
    const data = errorToData(caught);
    expect(data.type).toBe("RangeError");
    expect(data.message).toBe("boom");
    expect(data.stack).toContain("RangeError: boom");
    expect(data.stack).toContain("explodeHere");
    expect(data.cause).toBeNull();
  });

  test("a subclass without its own name is recorded by its constructor name", () => {
    class QuietError extends Error {}
    expect(errorToData(new QuietError("shh")).type).toBe("QuietError");
  });

  test("a plain Error is recorded as Error", () => {
    expect(errorToData(new Error("plain")).type).toBe("Error");
  });

  test("E-3 a custom error keeps its name and its own properties, and survives JSON", () => {
    const data = errorToData(new BadThingsError("bad things", 5));
    expect(data.type).toBe("BadThingsError");
    expect(data.message).toBe("bad things");
    expect(data.props).toEqual({ severity: 5 });
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
  });

  test("own properties such as code and statusCode are kept; name, message and stack are not props", () => {
    const error = Object.assign(new Error("http"), { code: "ECONNRESET", statusCode: 503 });
    const data = errorToData(error);
    expect(data.props).toEqual({ code: "ECONNRESET", statusCode: 503 });
    expect(errorToData(new Error("no props")).props).toBeUndefined();
  });

  test("E-7 properties JSON cannot carry are replaced by a string description", () => {
    const error = Object.assign(new Error("odd"), {
      big: 10n,
      fn: function handler() {},
      when: new Date("2024-01-01T00:00:00.000Z"),
      nested: { ok: 1 },
    });
    const data = errorToData(error);
    expect(data.props?.big).toBe("10");
    expect(typeof data.props?.fn).toBe("string");
    expect(data.props?.fn).toContain("handler");
    expect(data.props?.when).toBe("2024-01-01T00:00:00.000Z");
    expect(data.props?.nested).toEqual({ ok: 1 });
    expect(() => JSON.stringify(data)).not.toThrow();
    expect(JSON.parse(JSON.stringify(data))).toEqual(data);
  });

  test("the cause chain is recorded", () => {
    const root = new TypeError("root cause");
    const middle = new Error("middle", { cause: root });
    const top = new BadThingsError("top", 1);
    Object.defineProperty(top, "cause", { value: middle });
    const data = errorToData(top);
    expect(data.cause?.type).toBe("Error");
    expect(data.cause?.message).toBe("middle");
    expect(data.cause?.cause?.type).toBe("TypeError");
    expect(data.cause?.cause?.message).toBe("root cause");
    expect(data.cause?.cause?.cause).toBeNull();
  });

  test("a non-Error cause is recorded as NonError", () => {
    const data = errorToData(new Error("wrapped", { cause: { reason: "x" } }));
    expect(data.cause).toEqual({
      type: "NonError",
      message: '{"reason":"x"}',
      stack: null,
      cause: null,
    });
  });

  test("a very long cause chain is cut off instead of recursing forever", () => {
    let error = new Error("level 0");
    for (let i = 1; i <= 30; i++) error = new Error(`level ${i}`, { cause: error });
    let depth = 0;
    for (let data: ErrorData | null = errorToData(error); data; data = data.cause) depth++;
    expect(depth).toBeGreaterThan(1);
    expect(depth).toBeLessThan(31);
  });

  test("a cause cycle does not hang", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    Object.defineProperty(a, "cause", { value: b });
    const data = errorToData(a);
    expect(data.cause?.message).toBe("b");
    expect(data.cause?.cause?.message).toBe("a");
  });

  test.each([
    ["a string", "just text", "just text"],
    ["a number", 42, "42"],
    ["an object", { code: 1 }, '{"code":1}'],
    ["undefined", undefined, "undefined"],
    ["null", null, "null"],
  ])("throwing %s is recorded as NonError", (_what, thrown, message) => {
    expect(errorToData(thrown)).toEqual({ type: "NonError", message, stack: null, cause: null });
  });

  test("a schema's issues are recorded with plain paths", () => {
    const result = z
      .object({ user: z.object({ age: z.number() }) })
      .safeParse({ user: { age: "x" } });
    expect(result.success).toBe(false);
    const error = new ValidationError("invalid", result.error?.issues ?? []);
    const data = errorToData(error);
    expect(data.type).toBe("ValidationError");
    expect(data.issues).toHaveLength(1);
    expect(data.issues?.[0]?.path).toEqual(["user", "age"]);
    expect(data.issues?.[0]?.message).toContain("expected number");
    expect(data.props).toBeUndefined();
  });

  test("path segments given as { key } objects are flattened", () => {
    const error = Object.assign(new Error("custom"), {
      issues: [{ message: "bad", path: [{ key: "a" }, { key: 0 }, "b"] }],
    });
    expect(errorToData(error).issues).toEqual([{ message: "bad", path: ["a", 0, "b"] }]);
  });
});

describe("TaskError", () => {
  test("E-8 its string form is 'Type: message'", () => {
    const error = new TaskError(stored(new TypeError("Test failure")));
    expect(error.toString()).toBe("TypeError: Test failure");
    expect(`${error}`).toBe("TypeError: Test failure");
  });

  test("exposes the stored fields and is immutable", () => {
    const data = stored(
      Object.assign(new Error("outer", { cause: new RangeError("inner") }), { code: 7 }),
    );
    const error = new TaskError(data);
    expect(error.type).toBe("Error");
    expect(error.message).toBe("outer");
    expect(error.stack).toContain("outer");
    expect(error.cause).toBeInstanceOf(TaskError);
    expect(error.cause?.type).toBe("RangeError");
    expect(error.props).toEqual({ code: 7 });
    expect(error.toJSON()).toBe(data);
    expect(Object.isFrozen(error)).toBe(true);
    expect(() => {
      (error as unknown as { message: string }).message = "changed";
    }).toThrow(TypeError);
  });

  test("E-4 a built-in class is rebuilt as that class with its message", () => {
    const rebuilt = new TaskError(stored(new TypeError("wrong type"))).toError();
    expect(rebuilt).toBeInstanceOf(TypeError);
    expect(rebuilt.message).toBe("wrong type");
    expect(rebuilt.name).toBe("TypeError");
    expect(rebuilt.stack).toContain("wrong type");
  });

  test("E-4 a Sheppy error class is rebuilt as that class", () => {
    const rebuilt = new TaskError(stored(new TaskTimeoutError(5))).toError();
    expect(rebuilt).toBeInstanceOf(TaskTimeoutError);
    expect(rebuilt.message).toBe("Task exceeded timeout of 5 seconds");
    expect((rebuilt as TaskTimeoutError).timeoutSeconds).toBe(5);
  });

  test("E-11 a crash record rebuilds to WorkerCrashedError", () => {
    const data: ErrorData = {
      type: "WorkerCrashedError",
      message: "Worker crashed during execution",
      stack: null,
      cause: null,
    };
    const rebuilt = new TaskError(data).toError();
    expect(rebuilt).toBeInstanceOf(WorkerCrashedError);
    expect(rebuilt.message).toBe("Worker crashed during execution");
    expect(rebuilt.stack).toBe("WorkerCrashedError: Worker crashed during execution");
  });

  test("E-4 a registered application class is rebuilt with its properties", () => {
    registerErrorClass(BadThingsError);
    const rebuilt = new TaskError(stored(new BadThingsError("bad things", 5))).toError();
    expect(rebuilt).toBeInstanceOf(BadThingsError);
    expect(rebuilt.message).toBe("bad things");
    expect((rebuilt as BadThingsError).severity).toBe(5);
  });

  test("E-5 a registered class whose constructor rejects the stored data is still rebuilt", () => {
    registerErrorClass(StrictCtorError);
    const data = stored(new StrictCtorError(404));
    expect(data.props).toEqual({ code: 404 });
    const rebuilt = new TaskError(data).toError();
    expect(rebuilt).toBeInstanceOf(StrictCtorError);
    expect(rebuilt.message).toBe("strict 404");
    expect((rebuilt as StrictCtorError).code).toBe(404);
  });

  test("E-6 an unknown class is rebuilt as TaskFailedError carrying the original type and stack", () => {
    const data = stored(new NeverRegisteredError("nobody knows me"));
    const rebuilt = new TaskError(data).toError();
    expect(rebuilt).toBeInstanceOf(TaskFailedError);
    const failed = rebuilt as TaskFailedError;
    expect(failed.originalType).toBe("NeverRegisteredError");
    expect(failed.message).toBe("nobody knows me");
    expect(failed.originalStack).toBe(data.stack);
    expect(failed.stack).toBe(data.stack);
  });

  test("E-6 a NonError record is rebuilt as TaskFailedError", () => {
    const rebuilt = new TaskError(stored("a string was thrown")).toError();
    expect(rebuilt).toBeInstanceOf(TaskFailedError);
    expect((rebuilt as TaskFailedError).originalType).toBe("NonError");
    expect(rebuilt.message).toBe("a string was thrown");
  });

  test("the cause chain is rebuilt, known and unknown classes alike", () => {
    const data = stored(
      new Error("outer", {
        cause: new NeverRegisteredError("middle", { cause: new RangeError("in") }),
      }),
    );
    const rebuilt = new TaskError(data).toError();
    expect(rebuilt.message).toBe("outer");
    const middle = rebuilt.cause as TaskFailedError;
    expect(middle).toBeInstanceOf(TaskFailedError);
    expect(middle.originalType).toBe("NeverRegisteredError");
    expect(middle.cause).toBeInstanceOf(RangeError);
    expect((middle.cause as Error).message).toBe("in");
  });

  test("a rebuilt error thrown again is stored as it was stored, without the fields that rebuilt it", () => {
    const withCode = Object.assign(
      new NeverRegisteredError("declined", { cause: new NeverRegisteredError("upstream") }),
      { code: "E42" },
    );
    for (const original of [withCode, "a string was thrown", new RangeError("known class")]) {
      const data = stored(original);
      expect(stored(new TaskError(data).toError())).toEqual(data);
    }
    expect(stored(new TaskError(stored(withCode)).toError()).props).toEqual({ code: "E42" });
    const text = stored(new TaskError(stored("a string was thrown")).toError());
    expect([text.stack, text.props]).toEqual([null, undefined]);
  });

  test("validation issues are put back on the rebuilt error", () => {
    const issues = [{ message: "Required", path: [0] }];
    const rebuilt = new TaskError(
      stored(new ValidationError("invalid arguments", issues)),
    ).toError();
    expect(rebuilt).toBeInstanceOf(ValidationError);
    expect((rebuilt as ValidationError).issues).toEqual([{ message: "Required", path: [0] }]);
  });
});

describe("errors recorded by a real attempt", () => {
  test("E-1 a task that throws ends failed with its error record and no result", async () => {
    const boom = task(function storedErrorBoom(text: string) {
      throw new BadThingsError(text, 3);
    });
    const queue = new TestQueue();
    await queue.add(boom("boom"));
    const failed = await queue.processNext();
    expect(failed?.status).toBe("failed");
    expect(failed?.result).toBeNull();
    expect(failed?.finishedAt).toBeInstanceOf(Date);
    expect(failed?.error?.type).toBe("BadThingsError");
    expect(failed?.error?.message).toBe("boom");
    expect(failed?.error?.props).toEqual({ severity: 3 });
    expect(failed?.error?.stack).toContain("storedErrorBoom");
    expect(failed?.error?.toString()).toBe("BadThingsError: boom");
  });
});
