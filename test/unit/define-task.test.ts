/**
 * `task()` and task factories: definition checks, creation, argument
 * validation and serialisation, immutability of task records (T-*).
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import fc from "fast-check";
import {
  DuplicateTaskNameError,
  Queue,
  SerializationError,
  Task,
  type TaskBehaviourOptions,
  TaskDefinitionError,
  task,
  ValidationError,
} from "sheppy";
import { TestQueue } from "sheppy/testing";
import { describe, expect, test, vi } from "vitest";
import { z } from "zod";
import { warnOfMinifiedName } from "../../src/task/definition-name.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const add = task(function add(x: number, y: number) {
  return x + y;
});

/** Runs one task to its outcome on a fresh TestQueue. */
async function run<R>(t: Task<R>): Promise<Task<R>> {
  const queue = new TestQueue();
  await queue.add(t);
  await queue.processAll();
  const done = await queue.getTask(t);
  if (!done) throw new Error("task vanished");
  return done;
}

/** Throws what `fn` throws, or fails the test if it does not throw. */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the call to throw");
}

describe("creating tasks (T-1…T-4)", () => {
  test("T-1 calling a factory runs nothing and returns a new Task", () => {
    const fn = vi.fn((x: number) => x);
    const spied = task({ name: "t1-spied" }, fn);
    const t = spied(1);
    expect(t).toBeInstanceOf(Task);
    expect(fn).not.toHaveBeenCalled();
  });

  test("T-2 a fresh task has an id, status new and no outcome", () => {
    const before = Date.now();
    const t = add(1, 2);
    expect(t.id).toMatch(UUID);
    expect(t.status).toBe("new");
    expect(t.error).toBeNull();
    expect(t.result).toBeNull();
    expect(t.createdAt).toBeInstanceOf(Date);
    expect(t.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(t.createdAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(t.finishedAt).toBeNull();
    expect(t.scheduledAt).toBeNull();
    expect(t.startedAt).toBeNull();
    expect(t.retryCount).toBe(0);
    expect(t.lastRetryAt).toBeNull();
    expect(t.nextRetryAt).toBeNull();
    expect(t.workflowId).toBeNull();
    expect(t.cronId).toBeNull();
    expect(t.isFinished).toBe(false);
  });

  test("T-3 a fresh task carries the name, the args and the default config", () => {
    const t = add(1, 2);
    expect(t.name).toBe("add");
    expect(t.args).toEqual([1, 2]);
    expect(t.config).toEqual({
      retry: 0,
      retryDelay: 1,
      timeout: null,
      retryOnTimeout: false,
      retryOnCrash: false,
      rateLimit: null,
    });
    expect(add.taskName).toBe("add");
    expect(add.config).toEqual(t.config);
  });

  test("T-3 options are normalised into the stored config", () => {
    const configured = task(
      {
        name: "t3-configured",
        retry: 3,
        retryDelay: [1, 10, 60],
        timeout: 30,
        retryOnTimeout: true,
        retryOnCrash: true,
        rateLimit: { maxRate: 5, ratePeriod: 2 },
        ttl: 60,
        errorTtl: null,
      },
      () => "ok",
    );
    expect(configured().config).toEqual({
      retry: 3,
      retryDelay: [1, 10, 60],
      timeout: 30,
      retryOnTimeout: true,
      retryOnCrash: true,
      rateLimit: { maxRate: 5, ratePeriod: 2, key: "t3-configured", strategy: "sliding_window" },
      ttl: 60,
      errorTtl: null,
    });
  });

  test("T-3 the stored retryDelay list is a copy of the option", () => {
    const delays = [1, 2];
    const copied = task({ name: "t3-copied-delays", retryDelay: delays }, () => 1);
    delays.push(99);
    expect(copied().config.retryDelay).toEqual([1, 2]);
  });

  test("T-4 two calls give different ids but equal spec and config", () => {
    const a = add(1, 2);
    const b = add(1, 2);
    expect(a.id).not.toBe(b.id);
    expect(a.name).toBe(b.name);
    expect(a.args).toEqual(b.args);
    expect(a.config).toEqual(b.config);
  });

  test("T-15 isRetriable and shouldRetry follow retry and retryCount", () => {
    const once = task({ name: "t15-retry", retry: 5 }, () => 1);
    expect(once().isRetriable).toBe(true);
    expect(once().shouldRetry).toBe(true);
    expect(add(1, 2).isRetriable).toBe(false);
    expect(add(1, 2).shouldRetry).toBe(false);
    const data = { ...once().toJSON(), retryCount: 10 };
    expect(new Task(data, null).shouldRetry).toBe(false);
    expect(new Task({ ...data, retryCount: 2 }, null).shouldRetry).toBe(true);
  });
});

describe("T-5 task records are immutable", () => {
  // Test files are ES modules, so assignments run in strict mode and throw on frozen objects.
  type Mutable = Record<string, unknown>;

  test("assigning status, error or result throws", () => {
    const t = add(1, 2);
    expect(() => {
      (t as unknown as Mutable).status = "completed";
    }).toThrow(TypeError);
    expect(() => {
      (t as unknown as Mutable).error = { type: "Error" };
    }).toThrow(TypeError);
    expect(() => {
      (t as unknown as Mutable).result = 3;
    }).toThrow(TypeError);
    expect(t.status).toBe("new");
    expect(t.result).toBeNull();
  });

  test("assigning spec fields or an element of args throws", () => {
    const t = add(1, 2);
    expect(() => {
      (t as unknown as Mutable).name = "other";
    }).toThrow(TypeError);
    expect(() => {
      (t as unknown as Mutable).args = [5, 6];
    }).toThrow(TypeError);
    expect(() => {
      (t.args as unknown[])[0] = 5;
    }).toThrow(TypeError);
    expect(() => {
      (t.args as unknown[]).push(3);
    }).toThrow(TypeError);
    expect(t.args).toEqual([1, 2]);
  });

  test("objects nested inside args are frozen too", () => {
    const echo = task(function t5Echo(value: { inner: { n: number } }) {
      return value;
    });
    const t = echo({ inner: { n: 1 } });
    const stored = t.args[0] as { inner: { n: number } };
    expect(() => {
      stored.inner.n = 2;
    }).toThrow(TypeError);
    expect(stored.inner.n).toBe(1);
  });

  test("assigning a config field or the whole config throws", () => {
    const t = task({ name: "t5-config", retry: 2, retryDelay: [1, 2] }, () => 1)();
    expect(() => {
      (t.config as unknown as Mutable).retry = 9;
    }).toThrow(TypeError);
    expect(() => {
      (t.config.retryDelay as number[])[0] = 9;
    }).toThrow(TypeError);
    expect(() => {
      (t as unknown as Mutable).config = { retry: 9 };
    }).toThrow(TypeError);
    expect(t.config.retry).toBe(2);
    expect(t.config.retryDelay).toEqual([1, 2]);
  });

  test("the stored JSON form is frozen", () => {
    const data = add(1, 2).toJSON();
    expect(Object.isFrozen(data)).toBe(true);
    expect(() => {
      (data as unknown as Mutable).status = "failed";
    }).toThrow(TypeError);
  });

  test("later changes to the caller's argument objects do not reach the task", () => {
    const echo = task(function t5Snapshot(value: { list: number[] }) {
      return value;
    });
    const input = { list: [1, 2] };
    const t = echo(input);
    input.list.push(3);
    expect(t.args).toEqual([{ list: [1, 2] }]);
  });
});

describe("argument schemas (T-6…T-12)", () => {
  const schemaAdd = task(
    { name: "schema-add", args: z.tuple([z.coerce.number(), z.number()]) },
    (x, y) => x + y,
  );

  test("T-6 arguments are coerced at creation and the task later yields the sum", async () => {
    const t = schemaAdd("1" as unknown as number, 2);
    expect(t.args).toEqual([1, 2]);
    const done = await run(t);
    expect(done.status).toBe("completed");
    expect(done.result).toBe(3);
  });

  test("T-6 a numeric string in a nested object field becomes a number", () => {
    const nested = task(
      {
        name: "schema-nested",
        args: z.tuple([z.object({ outer: z.object({ n: z.coerce.number() }) })]),
      },
      (value) => value.outer.n,
    );
    expect(nested({ outer: { n: "42" } }).args).toEqual([{ outer: { n: 42 } }]);
  });

  test("T-7 an argument that cannot be coerced throws the validator's error at creation", () => {
    const error = thrown(() => schemaAdd("a" as unknown as number, 2));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain("invalid arguments for task 'schema-add'");
    expect(error.message).toContain("args[0]");
    expect(error.message).toContain("expected number");
    const issues = (error as ValidationError).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toEqual([0]);
  });

  test("T-7 every failing argument is reported", () => {
    const error = thrown(() => schemaAdd("a" as unknown as number, "b" as unknown as number));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain("args[0]");
    expect(error.message).toContain("args[1]");
    expect((error as ValidationError).issues).toHaveLength(2);
  });

  test("T-8 a missing required argument throws at creation", () => {
    const call = schemaAdd as unknown as (...args: unknown[]) => Task;
    const error = thrown(() => call(1));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain("invalid arguments for task 'schema-add'");
    expect(error.message).toMatch(/too small/i);
  });

  test("T-9 more arguments than the tuple allows throws at creation", () => {
    const call = schemaAdd as unknown as (...args: unknown[]) => Task;
    const error = thrown(() => call(1, 2, 3));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/too big/i);
  });

  test("T-11 a schema-typed argument accepts plain JSON and stores the parsed value", async () => {
    const Status = z.object({ code: z.coerce.number(), message: z.string() });
    const describeStatus = task(
      { name: "schema-status", args: z.tuple([Status]) },
      (status) => `${status.code} ${status.message}`,
    );
    const t = describeStatus({ code: "200", message: "OK" });
    expect(t.args).toEqual([{ code: 200, message: "OK" }]);
    const built = Status.parse({ code: 404, message: "Not Found" });
    expect(describeStatus(built).args).toEqual([{ code: 404, message: "Not Found" }]);
    expect((await run(t)).result).toBe("200 OK");
  });

  test("a schema that does not accept the arguments it stores is refused at creation, naming the argument and the fix", () => {
    const length = task(
      // @ts-expect-error refused by the compiler too; this checks the run-time refusal untyped code meets
      { name: "schema-transform", args: z.tuple([z.string().transform((s) => s.length)]) },
      (n) => n * 2,
    );
    const error = thrown(() => length("hello"));
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toBe(
      "task 'schema-transform': the args schema does not accept the arguments it stores (args[0]: Invalid input: expected string, received number); a worker validates them again before each attempt, so the schema must accept its own output as JSON reads it back — e.g. z.coerce.date() rather than z.date(), and no transform to another type",
    );
    // @ts-expect-error as above
    const strictDate = task({ name: "schema-strict-date", args: z.tuple([z.date()]) }, (d: Date) =>
      d.getTime(),
    );
    expect(() => strictDate(new Date())).toThrow(/args\[0\]: .*expected date, received string/);
    // A schema that accepts its own stored form is fine, and the worker runs the task.
    const coerced = task({ name: "schema-coerced-date", args: z.tuple([z.coerce.date()]) }, (d) =>
      d.getUTCFullYear(),
    );
    expect(coerced(new Date("2030-05-06T00:00:00Z")).args).toEqual(["2030-05-06T00:00:00.000Z"]);
  });

  test("T-11 an object schema strips unknown keys before storing", () => {
    const strict = task(
      { name: "schema-strip", args: z.tuple([z.object({ a: z.number() })]) },
      (v) => v.a,
    );
    expect(strict({ a: 1, extra: true } as { a: number }).args).toEqual([{ a: 1 }]);
  });

  test("T-12 optional arguments may be omitted or passed as null", async () => {
    const greet = task(
      {
        name: "schema-optional",
        args: z.tuple([z.string(), z.string().nullable().optional()]),
      },
      (name, title) => (title ? `${title} ${name}` : name),
    );
    expect(greet("Ada").args).toEqual(["Ada"]);
    expect(greet("Ada", null).args).toEqual(["Ada", null]);
    expect((await run(greet("Ada"))).result).toBe("Ada");
    expect((await run(greet("Ada", null))).result).toBe("Ada");
    expect((await run(greet("Ada", "Dr"))).result).toBe("Dr Ada");
  });

  test("T-12 a 10-level nested argument round-trips intact", async () => {
    type Node = { level: number; tags: string[]; child: Node | null };
    let tree: Node | null = null;
    for (let level = 10; level >= 1; level--) tree = { level, tags: [`l${level}`], child: tree };
    const echo = task(function t12Echo(node: Node) {
      return node;
    });
    const t = echo(tree!);
    expect(t.args[0]).toEqual(tree);
    const done = await run(t);
    expect(done.result).toEqual(tree);
  });

  test("a schema that validates asynchronously is refused when the task is created", () => {
    const asyncSchema: StandardSchemaV1<unknown[], unknown[]> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: async (value) => ({ value: value as unknown[] }),
      },
    };
    const slow = task({ name: "schema-async", args: asyncSchema }, () => 1);
    const error = thrown(() => slow());
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toContain("schema-async");
    expect(error.message).toContain("asynchronously");
  });

  test("an args schema whose check throws is a definition error at the call, never an unhandled rejection", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // zod reports a refinement that throws as a rejected Promise from its Standard Schema validate.
      const zodThrows = task(
        {
          name: "schema-zod-throws",
          args: z.tuple([
            z.string().superRefine((s) => {
              if (s === "boom") throw new Error("schema bug");
            }),
          ]),
        },
        (s: string) => s,
      );
      const error = thrown(() => zodThrows("boom"));
      expect(error).toBeInstanceOf(TaskDefinitionError);
      expect(error.message).toMatch(/schema-zod-throws.*one of its checks threw/);
      expect(zodThrows("fine").args).toEqual(["fine"]);
      // A Standard Schema whose validate throws outright: its error is the cause.
      const bug = new RangeError("validator bug");
      const throwsOutright: StandardSchemaV1<unknown[], unknown[]> = {
        "~standard": {
          version: 1,
          vendor: "test",
          validate: () => {
            throw bug;
          },
        },
      };
      const outright = task({ name: "schema-throws-outright", args: throwsOutright }, () => 1);
      const second = thrown(() => outright());
      expect(second).toBeInstanceOf(TaskDefinitionError);
      expect(second.message).toContain("the schema threw: validator bug");
      expect(second.cause).toBe(bug);
      // Let any rejection left unheard surface before looking.
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  test("an args schema whose output is not an array is a definition error at creation", () => {
    const objectSchema: StandardSchemaV1<unknown[], unknown[]> = {
      "~standard": {
        version: 1,
        vendor: "test",
        validate: () => ({ value: { not: "an array" } as unknown as unknown[] }),
      },
    };
    const odd = task({ name: "schema-object-output", args: objectSchema }, () => 1);
    const error = thrown(() => odd());
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toContain("schema-object-output");
    expect(error.message).toContain("array");
  });

  test("a Date produced by a schema is stored as its ISO string and parsed again when run", async () => {
    const when = task(
      { name: "schema-date", args: z.tuple([z.coerce.date()]) },
      (date) => date instanceof Date && date.toISOString(),
    );
    const t = when("2024-01-02T03:04:05.000Z");
    expect(t.args).toEqual(["2024-01-02T03:04:05.000Z"]);
    expect((await run(t)).result).toBe("2024-01-02T03:04:05.000Z");
  });
});

describe("argument serialisation", () => {
  const echo = task(function echoArgs(...values: unknown[]) {
    return values;
  });

  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }

  test.each([
    ["a function", [() => 1], "args[0] is a function"],
    ["a BigInt", [1, 10n], "args[1] is a bigint"],
    ["a symbol", [Symbol("s")], "args[0] is a symbol"],
    ["NaN", [Number.NaN], "args[0] is NaN"],
    ["Infinity", [1, 2, Number.POSITIVE_INFINITY], "args[2] is Infinity"],
    ["an invalid Date", [new Date(Number.NaN)], "args[0] is an invalid Date"],
    ["a Map", [new Map([["a", 1]])], "args[0] is a Map"],
    ["a Set", [new Set([1])], "args[0] is a Set"],
    ["a class instance", [new Point(1, 2)], "args[0] is a Point"],
    ["an Error", [new Error("no")], "args[0] is an Error"],
    ["an Int8Array", [1, new Int8Array(1)], "args[1] is an Int8Array"],
    ["undefined in the middle of the args", [1, undefined, 3], "args[1] is undefined"],
    ["undefined inside an array", [[1, undefined]], "args[0][1] is undefined"],
    ["a function in a nested object", [{ a: { b: () => 1 } }], "args[0].a.b is a function"],
  ])("%s is a SerializationError at creation naming its position", (_what, values, expected) => {
    const error = thrown(() => echo(...values));
    expect(error).toBeInstanceOf(SerializationError);
    expect(error.message).toContain("task 'echoArgs'");
    expect(error.message).toContain(expected);
    expect(error.message).toContain("JSON cannot store");
  });

  test("a circular object is a SerializationError naming the cycle's position", () => {
    const loop: Record<string, unknown> = { name: "loop" };
    loop.self = loop;
    const error = thrown(() => echo(loop));
    expect(error).toBeInstanceOf(SerializationError);
    expect(error.message).toContain("task 'echoArgs'");
    expect(error.message).toContain("args[0].self is a circular reference");
  });

  test("the same object twice (not a cycle) is accepted", () => {
    const shared = { n: 1 };
    expect(echo(shared, [shared, shared]).args).toEqual([{ n: 1 }, [{ n: 1 }, { n: 1 }]]);
  });

  test("a sparse array hole is refused like undefined", () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    const holey = [1, , 3];
    const error = thrown(() => echo(holey));
    expect(error).toBeInstanceOf(SerializationError);
    expect(error.message).toContain("args[0][1] is undefined");
  });

  test("a Date argument is stored as its ISO string", () => {
    const date = new Date("2024-05-06T07:08:09.010Z");
    expect(echo(date).args).toEqual(["2024-05-06T07:08:09.010Z"]);
  });

  test("a value with toJSON is stored as what toJSON returns", () => {
    const money = { amount: 5, toJSON: () => "5 EUR" };
    expect(echo(money).args).toEqual(["5 EUR"]);
  });

  test("trailing undefined arguments are dropped", () => {
    const optional = task(function optionalTail(a: number, b?: number, c?: number) {
      return a + (b ?? 0) + (c ?? 0);
    });
    expect(optional(1).args).toEqual([1]);
    expect(optional(1, undefined, undefined).args).toEqual([1]);
    expect(optional(1, 2, undefined).args).toEqual([1, 2]);
  });

  test("undefined object properties are dropped, null is kept", () => {
    expect(echo({ a: 1, b: undefined, c: null }).args).toEqual([{ a: 1, c: null }]);
  });

  test("an object without prototype is plain data", () => {
    const bare = Object.assign(Object.create(null) as Record<string, number>, { a: 1 });
    expect(echo(bare).args).toEqual([{ a: 1 }]);
  });

  test("an argument whose getter throws is refused at its position, with what the getter threw as cause", () => {
    const key = fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,7}$/);
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
        fc.nat(),
        key,
        fc.anything(),
        (values, at, name, problem) => {
          const position = at % (values.length + 1);
          const args: unknown[] = [...values];
          args.splice(position, 0, {
            get [name]() {
              throw problem;
            },
          });
          const error = thrown(() => echo(...args));
          expect(error).toBeInstanceOf(SerializationError);
          expect(error.message).toMatch(
            new RegExp(
              `^task 'echoArgs': args\\[${position}\\]\\.${name} could not be read: it threw `,
            ),
          );
          expect(error.message).not.toMatch(/[\n\r]/);
          expect(Object.is(error.cause, problem)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  const boom = new Error("trap");
  const throwing = () => {
    throw boom;
  };
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  test.each([
    ["an ownKeys trap", new Proxy({ a: 1 }, { ownKeys: throwing }), "args[0]"],
    [
      "a getOwnPropertyDescriptor trap",
      new Proxy({ a: 1 }, { getOwnPropertyDescriptor: throwing }),
      "args[0]",
    ],
    ["a get trap", new Proxy({ a: 1 }, { get: throwing }), "args[0]"],
    ["a getPrototypeOf trap", new Proxy({ a: 1 }, { getPrototypeOf: throwing }), "args[0]"],
    ["an array's get trap", { list: new Proxy([1, 2], { get: throwing }) }, "args[0].list"],
    ["a throwing toJSON", { at: { toJSON: throwing } }, "args[0].at"],
  ])(
    "a Proxy or toJSON that throws (%s) is refused at its position with its error as cause",
    (_what, value, path) => {
      const error = thrown(() => echo(value));
      expect(error).toBeInstanceOf(SerializationError);
      expect(error.message).toMatch(
        new RegExp(
          `^task 'echoArgs': ${path.replace(/[[\].]/g, "\\$&")} could not be (read|converted): .*threw Error: trap$`,
        ),
      );
      expect(error.cause).toBe(boom);
    },
  );

  test("a revoked Proxy is refused at its position", () => {
    const error = thrown(() => echo(1, revoked.proxy));
    expect(error).toBeInstanceOf(SerializationError);
    expect(error.message).toMatch(
      /^task 'echoArgs': args\[1\] could not be read: it threw TypeError: /,
    );
    expect(error.cause).toBeInstanceOf(TypeError);
  });

  test("nothing is created when serialisation fails", () => {
    const fn = vi.fn();
    const counted = task({ name: "serial-counted" }, fn);
    expect(() => counted(() => 1)).toThrow(SerializationError);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe("T-17 wrapping a plain function", () => {
  test("the factory works and the original function is still callable", async () => {
    function multiply(a: number, b: number) {
      return a * b;
    }
    const factory = task(multiply);
    expect(multiply(3, 4)).toBe(12);
    expect(factory.taskName).toBe("multiply");
    const done = await run(factory(3, 4));
    expect(done.result).toBe(12);
  });

  test("an async function works the same way", async () => {
    async function shout(text: string) {
      return text.toUpperCase();
    }
    const factory = task(shout);
    expect(await shout("hi")).toBe("HI");
    expect((await run(factory("hi"))).result).toBe("HI");
  });
});

describe("definition errors", () => {
  test("an anonymous function without a name option is a TaskDefinitionError", () => {
    const error = thrown(() => task(() => 1));
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toContain("anonymous function");
    expect(error.message).toContain("name");
  });

  test("an anonymous function with a name option is fine", () => {
    expect(task({ name: "named-arrow" }, () => 1).taskName).toBe("named-arrow");
  });

  test("a blank name is refused", () => {
    const error = thrown(() => task({ name: "   " }, () => 1));
    expect(error).toBeInstanceOf(TaskDefinitionError);
  });

  test.each([
    ["a number", 5, "task(): name must be a string (got 5)"],
    ["null", null, "task(): name must be a string (got null)"],
    ["an empty string", "", 'task(): name must not be empty (got "")'],
    ["only whitespace", " \t", 'task(): name must not be only whitespace (got " \\t")'],
  ])(
    "a name option that is %s says what is wrong with it, whatever the function's own name",
    (_what, name, message) => {
      expect(thrown(() => task({ name: name as never }, () => 1)).message).toBe(message);
      const error = thrown(() =>
        task({ name: name as never }, function named() {
          return 1;
        }),
      );
      expect(error).toBeInstanceOf(TaskDefinitionError);
      expect(error.message).toBe(message);
    },
  );

  test("is() tells a factory's own tasks (and records read back) from others", async () => {
    const mine = task({ name: "is.mine" }, (n: number) => n);
    const other = task({ name: "is.other" }, (n: number) => n);
    const queue = new Queue("memory://?instantProcessing=false", { name: "define-task-is" });
    const t = mine(1);
    await queue.add([t, other(2)]);
    const record = await queue.getTask(t.id);
    expect([
      mine.is(t),
      mine.is(record),
      other.is(record),
      mine.is(null),
      mine.is(undefined),
    ]).toEqual([true, true, false, false, false]);
    expect(mine.is({ name: "is.mine" } as never)).toBe(false);
    await queue.close();
  });

  test("sandbox that is neither a boolean nor { module } says what it takes", () => {
    expect(thrown(() => task({ name: "sb-yes", sandbox: "yes" as never }, () => 1)).message).toBe(
      `task 'sb-yes': sandbox must be true, false or { module: import.meta.url } (got "yes")`,
    );
    expect(thrown(() => task({ name: "sb-null", sandbox: null as never }, () => 1)).message).toBe(
      "task 'sb-null': sandbox must be true, false or { module: import.meta.url } (got null)",
    );
    expect(
      thrown(() => task({ name: "sb-module", sandbox: { module: "nope" } }, () => 1)).message,
    ).toBe(
      `task 'sb-module': sandbox.module must be a file URL such as import.meta.url (got "nope")`,
    );
    expect(
      thrown(() => task({ name: "sb-modul", sandbox: { modul: "file:///x.js" } as never }, () => 1))
        .message,
    ).toBe(
      "task 'sb-modul': unknown sandbox option 'modul'; did you mean 'module'? (valid options: module)",
    );
  });

  test("a retryDelay of no accepted form lists every form it accepts", () => {
    const error = thrown(() => task({ name: "rd-text", retryDelay: "1s" as never }, () => 1));
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toBe(
      `task 'rd-text': retryDelay must be a number of seconds ≥ 0 and ≤ 315360000 (10 years), a list of them (one per retry), a strategy ({ type: "fixed" | "exponential", delay, … }) or a function (attempt, error) => seconds (got "1s")`,
    );
  });

  test("no function is a TaskDefinitionError", () => {
    const define = task as unknown as (options: object) => unknown;
    const error = thrown(() => define({ name: "no-fn" }));
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toContain("needs a function");
  });

  test("a duplicate name is a DuplicateTaskNameError naming the task", () => {
    task({ name: "dup-name" }, () => 1);
    const error = thrown(() => task({ name: "dup-name" }, () => 2));
    expect(error).toBeInstanceOf(DuplicateTaskNameError);
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toContain("'dup-name'");
    expect(error.message).toContain("unique");
  });

  test("a duplicate from a function name collides with an explicit name", () => {
    task({ name: "dupFromFn" }, () => 1);
    expect(() =>
      task(function dupFromFn() {
        return 1;
      }),
    ).toThrow(DuplicateTaskNameError);
  });

  type BadCase = [string, TaskBehaviourOptions, string];
  const badOptions: BadCase[] = [
    ["negative retry", { retry: -1 }, "retry must be an integer ≥ 0 (got -1)"],
    ["fractional retry", { retry: 1.5 }, "retry must be an integer ≥ 0 (got 1.5)"],
    ["string retry", { retry: "3" as unknown as number }, "retry must be an integer ≥ 0"],
    ["T-14 empty retryDelay list", { retryDelay: [] }, "retryDelay list must not be empty"],
    ["negative retryDelay", { retryDelay: -1 }, "retryDelay must be a number of seconds ≥ 0"],
    ["NaN retryDelay", { retryDelay: Number.NaN }, "retryDelay must be a number of seconds ≥ 0"],
    ["negative value in retryDelay list", { retryDelay: [1, -2] }, "got [1, -2]"],
    [
      "string retryDelay",
      { retryDelay: "1" as unknown as number },
      "retryDelay must be a number of seconds",
    ],
    [
      "zero timeout",
      { timeout: 0 },
      "timeout must be a number of seconds > 0 and ≤ 315360000 (10 years) (got 0)",
    ],
    ["negative timeout", { timeout: -5 }, "timeout must be a number of seconds > 0"],
    [
      "infinite timeout",
      { timeout: Number.POSITIVE_INFINITY },
      "timeout must be a number of seconds > 0",
    ],
    [
      "zero ttl",
      { ttl: 0 },
      "ttl must be a number of seconds > 0 and ≤ 315360000 (10 years), or null",
    ],
    ["negative errorTtl", { errorTtl: -1 }, "errorTtl must be a number of seconds > 0"],
    [
      "zero maxRate",
      { rateLimit: { maxRate: 0, ratePeriod: 1 } },
      "rateLimit.maxRate must be an integer ≥ 1 (got 0)",
    ],
    [
      "fractional maxRate",
      { rateLimit: { maxRate: 1.5, ratePeriod: 1 } },
      "rateLimit.maxRate must be an integer ≥ 1",
    ],
    [
      "zero ratePeriod",
      { rateLimit: { maxRate: 1, ratePeriod: 0 } },
      "rateLimit.ratePeriod must be a number of seconds > 0 and ≤ 315360000 (10 years) (got 0)",
    ],
    [
      "string retryOnTimeout",
      { retryOnTimeout: "yes" as unknown as boolean },
      'retryOnTimeout must be true or false (got "yes")',
    ],
    [
      "numeric retryOnCrash",
      { retryOnCrash: 1 as unknown as boolean },
      "retryOnCrash must be true or false (got 1)",
    ],
    [
      "empty rateLimit.key",
      { rateLimit: { maxRate: 1, ratePeriod: 1, key: "" } },
      "rateLimit.key must be a non-empty string or a function of the task's arguments (got '')",
    ],
    [
      "blank rateLimit.key",
      { rateLimit: { maxRate: 1, ratePeriod: 1, key: "  " } },
      "rateLimit.key must be a non-empty string",
    ],
    [
      "numeric rateLimit.key",
      { rateLimit: { maxRate: 1, ratePeriod: 1, key: 5 as unknown as string } },
      "rateLimit.key must be a non-empty string or a function of the task's arguments (got 5)",
    ],
    [
      "unknown strategy",
      {
        rateLimit: {
          maxRate: 1,
          ratePeriod: 1,
          strategy: "token_bucket" as unknown as "fixed_window",
        },
      },
      "rateLimit.strategy must be",
    ],
  ];

  test.each(badOptions)(
    "%s is a TaskDefinitionError naming task and option",
    (_what, options, expected) => {
      const name = `bad-${_what.replace(/\W+/g, "-")}`;
      const error = thrown(() => task({ name, ...options }, () => 1));
      expect(error).toBeInstanceOf(TaskDefinitionError);
      expect(error.message).toContain(`task '${name}'`);
      expect(error.message).toContain(expected);
    },
  );

  test("an unknown option (a typo such as `retries`) is a TaskDefinitionError listing the valid ones", () => {
    const error = thrown(() => task({ name: "typo-retries", retries: 3 } as never, () => 1));
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toBe(
      "task 'typo-retries': unknown option 'retries' (valid options: name, middleware, args, result, sandbox, priority, concurrency, retry, retryDelay, timeout, retryOnTimeout, retryOnCrash, rateLimit, ttl, errorTtl)",
    );
    expect(error.message).not.toContain("\n");
    const two = thrown(() => task({ name: "typo-two", retries: 3, timeOut: 5 } as never, () => 1));
    expect(two.message).toMatch(/^task 'typo-two': unknown options 'retries', 'timeOut' \(valid/);
    // Checked before the name, so an anonymous function with a typo hears about the typo.
    expect(thrown(() => task({ nmae: "x" } as never, () => 1)).message).toMatch(
      /^task\(\): unknown option 'nmae'/,
    );
  });

  test("an unknown rateLimit field (a typo such as `stratgy`) is a TaskDefinitionError", () => {
    const limit = { maxRate: 1, ratePeriod: 1, stratgy: "fixed_window" };
    const error = thrown(() => task({ name: "typo-rate", rateLimit: limit as never }, () => 1));
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toBe(
      "task 'typo-rate': unknown rateLimit option 'stratgy'; did you mean 'strategy'? (valid options: maxRate, ratePeriod, key, strategy)",
    );
  });

  test("retryOnTimeout / retryOnCrash booleans and a rateLimit key are accepted", () => {
    const ok = task(
      {
        name: "flags-ok",
        retry: 1,
        retryOnTimeout: true,
        retryOnCrash: false,
        rateLimit: { maxRate: 1, ratePeriod: 1, key: "tenant" },
      },
      () => 1,
    );
    expect(ok.config).toMatchObject({
      retryOnTimeout: true,
      retryOnCrash: false,
      rateLimit: { key: "tenant" },
    });
  });

  test("retryOnTimeout or retryOnCrash without retries is a TaskDefinitionError saying retry is needed", () => {
    for (const flag of ["retryOnTimeout", "retryOnCrash"] as const) {
      for (const retry of [undefined, 0]) {
        const options = { name: `flags-no-retry-${flag}-${retry}`, [flag]: true };
        expect(() => task(retry === undefined ? options : { ...options, retry }, () => 1)).toThrow(
          new TaskDefinitionError(
            `task 'flags-no-retry-${flag}-${retry}': ${flag} needs retry ≥ 1: it retries such a failure while retries are left, and with retry 0 (the default) none are (e.g. { retry: 3, ${flag}: true })`,
          ),
        );
      }
      expect(task({ name: `flags-false-${flag}`, [flag]: false }, () => 1).config[flag]).toBe(
        false,
      );
    }
  });

  test("T-13 retry 0 and a retryDelay of 0 are allowed", () => {
    const zero = task({ name: "retry-zero", retry: 0, retryDelay: 0 }, () => 1);
    expect(zero().config).toMatchObject({ retry: 0, retryDelay: 0 });
    const list = task({ name: "retry-list", retry: 2, retryDelay: [0, 5] }, () => 1);
    expect(list().config.retryDelay).toEqual([0, 5]);
  });

  test("a failed definition does not register the name", () => {
    expect(() => task({ name: "retry-later", retry: -1 }, () => 1)).toThrow(TaskDefinitionError);
    expect(task({ name: "retry-later" }, () => 1).taskName).toBe("retry-later");
  });

  test("args or result that are not schemas are refused", () => {
    const define = task as unknown as (options: object, fn: () => unknown) => unknown;
    const error = thrown(() => define({ name: "not-a-schema", args: { parse() {} } }, () => 1));
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toContain("task 'not-a-schema': args must be a Standard Schema");
    const resultError = thrown(() => define({ name: "not-a-schema-2", result: 5 }, () => 1));
    expect(resultError.message).toContain("result must be a Standard Schema");
  });

  test("middleware must be a list of functions", () => {
    const define = task as unknown as (options: object, fn: () => unknown) => unknown;
    const error = thrown(() => define({ name: "bad-middleware", middleware: ["nope"] }, () => 1));
    expect(error).toBeInstanceOf(TaskDefinitionError);
    expect(error.message).toContain(
      "task 'bad-middleware': middleware must be a list of functions",
    );
  });
});

describe("results (T-20, T-21)", () => {
  test("T-20 a result that fails the result schema fails the task with the validator's issues", async () => {
    const listy = task(
      { name: "result-list", result: z.array(z.number()) },
      () => 5 as unknown as number[],
    );
    const done = await run(listy());
    expect(done.status).toBe("failed");
    expect(done.result).toBeNull();
    expect(done.error?.type).toBe("ValidationError");
    expect(done.error?.message).toContain("invalid result of task 'result-list'");
    expect(done.error?.message).toContain("expected array");
    expect(done.error?.issues).toHaveLength(1);
  });

  test("T-21 a declared result type is parsed on read-back (a Date, not its string)", async () => {
    const when = task(
      { name: "result-date", result: z.coerce.date() },
      () => new Date("2024-02-03T04:05:06.000Z"),
    );
    const t = when();
    const done = await run(t);
    expect(done.status).toBe("completed");
    expect(done.result).toBeInstanceOf(Date);
    expect(done.result?.toISOString()).toBe("2024-02-03T04:05:06.000Z");
    expect(done.toJSON().result).toBe("2024-02-03T04:05:06.000Z");
  });

  test("a result schema that does not give its stored output back as it is fails the task at once, saying so; a stable one (trim, coercion) completes", async () => {
    const bang = task(
      { name: "result-bang", retry: 3, result: z.string().transform((s) => `${s}!`) },
      () => "ok",
    );
    const done = await run(bang());
    expect(done.status).toBe("failed");
    // Final: another attempt would fail the same way.
    expect(done.retryCount).toBe(0);
    expect(done.error?.type).toBe("TaskDefinitionError");
    expect(done.error?.message).toContain(
      `task 'result-bang': the result schema reads the stored result "ok!" back as "ok!!"`,
    );
    const retyped = task(
      // @ts-expect-error refused by the compiler too; this checks the run-time refusal untyped code meets
      { name: "result-retyped", result: z.string().transform((s) => s.length) },
      () => "four",
    );
    const wrongType = await run(retyped());
    expect(wrongType.status).toBe("failed");
    expect(wrongType.error?.message).toMatch(
      /result-retyped': the result schema does not accept the result it stores/,
    );
    const stable = task(
      {
        name: "result-stable",
        result: z.object({ name: z.string().trim(), n: z.coerce.number() }),
      },
      () => ({ name: "  padded ", n: 2 }),
    );
    const fine = await run(stable());
    expect(fine.status).toBe("completed");
    expect(fine.result).toEqual({ name: "padded", n: 2 });
  });

  test("a result whose every read throws (a Proxy) fails its task with a SerializationError naming the result", async () => {
    const trap = () => {
      throw new Error("trap");
    };
    const sync = task({ name: "result-proxy" }, () => new Proxy({}, { get: trap }) as object);
    const done = await run(sync());
    expect([done.status, done.error?.type]).toEqual(["failed", "SerializationError"]);
    expect(done.error?.message).toMatch(/result could not be read: it threw Error: trap/);
    // An async function's own promise reads `then` of what it returns: that throw is the task's.
    const asynchronous = task(
      { name: "result-proxy-async" },
      async () => new Proxy({}, { get: trap }) as object,
    );
    const rejected = await run(asynchronous());
    expect([rejected.status, rejected.error?.message]).toEqual(["failed", "trap"]);
  });

  test("T-21 without a result schema a result is plain JSON", async () => {
    const plain = task(function resultPlain() {
      return { at: new Date("2024-02-03T04:05:06.000Z"), n: 1 };
    });
    const done = await run(plain());
    expect(done.result).toEqual({ at: "2024-02-03T04:05:06.000Z", n: 1 });
  });

  test("a result JSON cannot store fails the task with a SerializationError naming it", async () => {
    // @ts-expect-error refused at compile time too; this checks the run-time refusal
    const leaky = task(function resultLeaky() {
      return { handler: () => 1 };
    });
    const done = await run(leaky());
    expect(done.status).toBe("failed");
    expect(done.error?.type).toBe("SerializationError");
    expect(done.error?.message).toBe(
      "task 'resultLeaky' returned a value JSON cannot store: result.handler is a function, which JSON cannot store; not retried: the function ran to its end, and another attempt would repeat what it did",
    );
  });

  test("a function returning nothing completes with result null", async () => {
    const nothing = task(function resultNothing() {});
    const done = await run(nothing());
    expect(done.status).toBe("completed");
    expect(done.result).toBeNull();
  });
});

describe("a name taken from a function a minifier may have renamed", () => {
  test("one or two characters, or three on one line, are warned about once, saying where; a longer name, a formatted one or an explicit one is not", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      // What `esbuild --minify` makes of `task(resizeImage)`: a short name, one line.
      const { ab } = { ab: (e: number) => e + 1 };
      const { nfe } = { nfe: (e: number, t: number) => e * t };
      task(ab);
      task(nfe);
      task(function add(a: number, b: number) {
        return a + b;
      });
      task(function resizeImage() {
        return 3;
      });
      task({ name: "xy" }, () => 4);
      expect(warn).toHaveBeenCalledTimes(2);
      const [message, options] = warn.mock.calls[0]!;
      expect(message).toMatch(
        /^task 'ab' \(defined at .*define-task\.test\.ts:\d+:\d+\) takes its name from its function's, which is this short most likely because a minifier renamed it; a stored task is found by its name, so give the task one that no build changes: task\(\{ name: "…" \}, fn\) \(or build with the minifier's keep-names setting\)$/,
      );
      expect(options).toEqual({ code: "SHEPPY_SHORT_TASK_NAME" });
      expect(warn.mock.calls[1]![0]).toMatch(/^task 'nfe' \(defined at /);
      // Once per name.
      warnOfMinifiedName("task", "ab", undefined);
      expect(warn).toHaveBeenCalledTimes(2);
    } finally {
      warn.mockRestore();
    }
  });
});

describe("a duration that reads like milliseconds", () => {
  test("ratePeriod, timeout and retryDelay of whole thousands from 1000 up are warned about once per task and option, saying the seconds they mean; other values are not", () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => undefined);
    try {
      task({ name: "ms-warn.rate", rateLimit: { maxRate: 5, ratePeriod: 1000 } }, () => 1);
      task({ name: "ms-warn.timeout", timeout: 30_000 }, () => 1);
      task({ name: "ms-warn.list", retry: 2, retryDelay: [1, 5000, 60_000] }, () => 1);
      task(
        {
          name: "ms-warn.exp",
          retry: 2,
          retryDelay: { type: "exponential", delay: 2000, max: 60_000 },
        },
        () => 1,
      );
      // Seconds anyone might mean: an hour, a day, a week, 999 s, 1500 s.
      task(
        { name: "ms-warn.fine", timeout: 3600, rateLimit: { maxRate: 1, ratePeriod: 86_400 } },
        () => 1,
      );
      task({ name: "ms-warn.fine2", retry: 2, retryDelay: [999, 1500, 604_800] }, () => 1);
      expect(warn.mock.calls.map(([message]) => message)).toEqual([
        "task 'ms-warn.rate': rateLimit.ratePeriod is 1000 seconds (16.7 minutes); Sheppy's durations are seconds, not milliseconds — for 1 s write 1",
        "task 'ms-warn.timeout': timeout is 30000 seconds (8.3 hours); Sheppy's durations are seconds, not milliseconds — for 30 s write 30",
        "task 'ms-warn.list': retryDelay is 5000 seconds (1.4 hours); Sheppy's durations are seconds, not milliseconds — for 5 s write 5",
        "task 'ms-warn.exp': retryDelay.delay is 2000 seconds (33.3 minutes); Sheppy's durations are seconds, not milliseconds — for 2 s write 2",
        "task 'ms-warn.exp': retryDelay.max is 60000 seconds (16.7 hours); Sheppy's durations are seconds, not milliseconds — for 60 s write 60",
      ]);
      expect(warn.mock.calls[0]![1]).toEqual({ code: "SHEPPY_DURATION_IN_MILLISECONDS" });
    } finally {
      warn.mockRestore();
    }
  });
});
