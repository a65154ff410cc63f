/**
 * Type-level contract of `task()`: argument tuples, result types, schemas.
 * Checked by `vitest --project types` (typecheck only; nothing here runs).
 */
import {
  type AnyTaskFactory,
  type JsonValue,
  log,
  progress,
  step,
  type Task,
  type TaskFactory,
  type TaskOptions,
  task,
  workflow,
} from "sheppy";
import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";

describe("task(fn) infers arguments and result", () => {
  test("sync function: argument tuple and return type", () => {
    const add = task(function typesAdd(x: number, y: number) {
      return x + y;
    });
    expectTypeOf(add).toEqualTypeOf<TaskFactory<[x: number, y: number], number>>();
    expectTypeOf(add).parameters.toEqualTypeOf<[x: number, y: number]>();
    expectTypeOf(add(1, 2)).toEqualTypeOf<Task<number>>();
    expectTypeOf(add(1, 2).result).toEqualTypeOf<number | null>();
  });

  test("async function: the result is the awaited type", () => {
    const greet = task(async function typesGreet(name: string) {
      return { greeting: `hi ${name}` };
    });
    expectTypeOf(greet("a")).toEqualTypeOf<Task<{ greeting: string }>>();
    expectTypeOf(greet).parameters.toEqualTypeOf<[name: string]>();
  });

  test("optional and rest parameters are kept", () => {
    const opt = task(function typesOpt(a: string, b?: number) {
      return `${a}${b ?? ""}`;
    });
    expectTypeOf(opt).parameters.toEqualTypeOf<[a: string, b?: number]>();
    opt("x");
    opt("x", 1);
    const rest = task(function typesRest(...xs: number[]) {
      return xs.length;
    });
    expectTypeOf(rest).parameters.toEqualTypeOf<number[]>();
    rest();
    rest(1, 2, 3);
  });

  test("a function returning nothing gives Task<null>: its result is stored as null", () => {
    const nothing = task(function typesNothing() {});
    expectTypeOf(nothing()).toEqualTypeOf<Task<null>>();
    expectTypeOf(nothing).parameters.toEqualTypeOf<[]>();
    const asyncNothing = task({ name: "types.async-nothing" }, async () => {});
    expectTypeOf(asyncNothing()).toEqualTypeOf<Task<null>>();
  });

  test("a result that may be undefined reads back as null, never undefined", () => {
    const users = [{ id: "u1", name: "Ann" }];
    const find = task({ name: "types.find-user" }, (id: string) => users.find((u) => u.id === id));
    expectTypeOf(find("u1")).toEqualTypeOf<Task<{ id: string; name: string } | null>>();
    const maybe = task({ name: "types.maybe" }, (n: number) => (n > 0 ? n : undefined));
    expectTypeOf(maybe(1)).toEqualTypeOf<Task<number | null>>();
    const explicit = task({ name: "types.explicit-undefined" }, (): undefined => undefined);
    expectTypeOf(explicit()).toEqualTypeOf<Task<null>>();
  });

  test("wrong argument types and wrong arity are compile errors", () => {
    const add = task(function typesAddStrict(x: number, y: number) {
      return x + y;
    });
    // @ts-expect-error a string is not a number
    add("1", 2);
    // @ts-expect-error missing second argument
    add(1);
    // @ts-expect-error too many arguments
    add(1, 2, 3);
    // @ts-expect-error no arguments
    add();
  });

  test("factory exposes taskName and config", () => {
    const named = task(function typesNamed() {
      return 1;
    });
    expectTypeOf(named.taskName).toEqualTypeOf<string>();
    expectTypeOf(named.config.retry).toEqualTypeOf<number>();
  });
});

describe("task(options, fn)", () => {
  test("infers arguments and result like task(fn)", () => {
    const send = task(
      { name: "types-send", retry: 3, retryDelay: [1, 10, 60], timeout: 30 },
      async (to: string, subject: string) => `sent '${subject}' to ${to}`,
    );
    expectTypeOf(send).parameters.toEqualTypeOf<[to: string, subject: string]>();
    expectTypeOf(send("a@example.com", "Hi")).toEqualTypeOf<Task<string>>();
    // @ts-expect-error subject missing
    send("a@example.com");
    // @ts-expect-error wrong type
    send("a@example.com", 5);
  });

  test("sync function with options", () => {
    const double = task({ name: "types-double" }, (n: number) => n * 2);
    expectTypeOf(double(2)).toEqualTypeOf<Task<number>>();
  });

  test("unknown options are rejected", () => {
    // @ts-expect-error retries is not an option (retry is)
    task({ name: "types-bad-option", retries: 3 }, () => 1);
  });

  test("option value types are checked", () => {
    // @ts-expect-error retry must be a number
    task({ name: "types-bad-retry", retry: "3" }, () => 1);
    task(
      // @ts-expect-error strategy must be one of the two windows
      { name: "types-bad-strategy", rateLimit: { maxRate: 1, ratePeriod: 1, strategy: "bucket" } },
      () => 1,
    );
  });
});

describe("schemas", () => {
  test("args schema: factory takes the INPUT types, fn receives the OUTPUT types", () => {
    const add = task(
      {
        name: "types-schema-add",
        // Input: a number or a string (its length); output: always a number.
        args: z.tuple([z.union([z.number(), z.string().transform((s) => s.length)]), z.number()]),
      },
      (x, y) => {
        expectTypeOf(x).toEqualTypeOf<number>();
        expectTypeOf(y).toEqualTypeOf<number>();
        return x + y;
      },
    );
    expectTypeOf(add).parameters.toEqualTypeOf<[string | number, number]>();
    expectTypeOf(add("abc", 2)).toEqualTypeOf<Task<number>>();
    expectTypeOf(add(3, 2)).toEqualTypeOf<Task<number>>();
    // @ts-expect-error the factory takes the schema input (string | number), not a boolean
    add(true, 2);
    // @ts-expect-error arity comes from the tuple schema
    add("abc");
  });

  test("a function whose parameters contradict the args schema is a compile error", () => {
    // @ts-expect-error the schema produces a number, the function wants a string
    task({ name: "types-schema-contradiction", args: z.tuple([z.number()]) }, (x: string) => x);
  });

  test("coercing schema: input is unknown-ish, output is number", () => {
    const coerce = task(
      { name: "types-schema-coerce", args: z.tuple([z.coerce.number(), z.number()]) },
      async (x, y) => {
        expectTypeOf(x).toEqualTypeOf<number>();
        return `${x + y}`;
      },
    );
    expectTypeOf(coerce("1", 2)).toEqualTypeOf<Task<string>>();
    expectTypeOf(coerce(1, 2)).toEqualTypeOf<Task<string>>();
  });

  test("object argument schema", () => {
    const Status = z.object({ code: z.coerce.number(), message: z.string() });
    const report = task({ name: "types-schema-object", args: z.tuple([Status]) }, (status) => {
      expectTypeOf(status).toEqualTypeOf<{ code: number; message: string }>();
      return status.code;
    });
    expectTypeOf(report({ code: "200", message: "OK" })).toEqualTypeOf<Task<number>>();
    // @ts-expect-error message is required by the schema input
    report({ code: 200 });
  });

  test("result schema: the Task's result type is the schema OUTPUT", () => {
    const when = task(
      { name: "types-schema-result", result: z.iso.datetime().transform((s) => new Date(s)) },
      (offset: number) => new Date(offset).toISOString(),
    );
    expectTypeOf(when).parameters.toEqualTypeOf<[offset: number]>();
    expectTypeOf(when(0)).toEqualTypeOf<Task<Date>>();
  });

  test("result schema: the function must return the schema INPUT", () => {
    // @ts-expect-error returns a string where the result schema takes a number
    task({ name: "types-result-mismatch", result: z.number() }, (n: number) => `${n}`);
    // the same function returning a number is accepted
    task({ name: "types-result-match", result: z.number() }, (n: number) => n);
  });

  test("result schema with an async function", () => {
    const later = task(
      { name: "types-schema-result-async", result: z.coerce.number() },
      async (s: string) => s,
    );
    expectTypeOf(later("1")).toEqualTypeOf<Task<number>>();
  });

  test("args and result schemas together", () => {
    const both = task(
      {
        name: "types-schema-both",
        args: z.tuple([z.coerce.number()]),
        result: z.object({ at: z.coerce.date() }),
      },
      async (n) => {
        expectTypeOf(n).toEqualTypeOf<number>();
        return { at: n * 1000 };
      },
    );
    expectTypeOf(both(1)).toEqualTypeOf<Task<{ at: Date }>>();
  });

  test("a schema must accept its own output as JSON reads it back: a transform to another type, z.date() or a bigint is refused where the task is defined", () => {
    task(
      // @ts-expect-error the stored number would be validated again as a string
      { name: "types-schema-retyped", args: z.tuple([z.string().transform((s) => s.length)]) },
      (n) => n,
    );
    // @ts-expect-error a Date is stored as ISO text, which z.date() refuses
    task({ name: "types-schema-date", args: z.tuple([z.date()]) }, () => 1);
    // @ts-expect-error a bigint cannot be stored
    task({ name: "types-schema-bigint", args: z.tuple([z.bigint()]) }, () => 1);
    task(
      // @ts-expect-error a result read back is validated again
      { name: "types-result-retyped", result: z.string().transform((s) => s.length) },
      () => "x",
    );
    // @ts-expect-error as above, inside an object
    task({ name: "types-result-date", result: z.object({ at: z.date() }) }, () => ({
      at: new Date(),
    }));
    // @ts-expect-error workflows store their arguments and result the same way
    workflow({ name: "types-workflow-date", args: z.tuple([z.date()]) }, function* () {
      return yield* step(task({ name: "types-workflow-date.step" }, () => 1)());
    });
    // What reads back as itself is fine: coercion, defaults, trims, optional members.
    task({ name: "types-schema-coerced", args: z.tuple([z.coerce.date()]) }, (d) => d.getTime());
    task(
      {
        name: "types-schema-defaults",
        args: z.tuple([z.string().trim().default("x"), z.number().optional()]),
      },
      (s, n) => s.length + (n ?? 0),
    );
  });
});

describe("progress", () => {
  test("takes any JSON value, an interface-typed one too; not a Date or a function", () => {
    interface Report {
      done: number;
      total: number;
      phase?: string;
    }
    const report: Report = { done: 1, total: 3 };
    progress(report);
    progress({ done: 1, total: 3 });
    progress("halfway");
    progress([1, 2, 3]);
    // @ts-expect-error a Date is stored as text
    progress({ at: new Date() });
    // @ts-expect-error a function is not JSON
    progress(() => 1);
  });
});

describe("log", () => {
  test("takes a string, nothing else", () => {
    log("imported 3 rows");
    log(`row ${1}`);
    // @ts-expect-error an object is not a log line
    log({ a: 1 });
    // @ts-expect-error a bigint is not a log line
    log(5n);
    // @ts-expect-error undefined is not a log line
    log(undefined);
    // @ts-expect-error a number is not a log line
    log(5);
  });
});

describe("options shared between tasks", () => {
  test("a variable of type TaskOptions passes, alone or spread; the function still types the task", () => {
    const common: TaskOptions = { retry: 3, timeout: 30 };
    const alone = task(common, (to: string) => to.length);
    expectTypeOf(alone).toEqualTypeOf<TaskFactory<[to: string], number>>();
    const spread = task({ ...common, name: "shared.spread" }, async (n: number) => `${n}`);
    expectTypeOf(spread).toEqualTypeOf<TaskFactory<[n: number], string>>();
    // The schemas are written in the call, where they type the task.
    const schemed = task({ ...common, name: "shared.schemed", args: z.tuple([z.string()]) }, (s) =>
      s.toUpperCase(),
    );
    expectTypeOf(schemed).toEqualTypeOf<TaskFactory<[string], string>>();
  });
});

describe("concurrency key function", () => {
  test("its parameters are the task's arguments, typed without annotations", () => {
    task(
      {
        name: "key.typed",
        concurrency: {
          key: (tenantId, count) => {
            expectTypeOf(tenantId).toEqualTypeOf<string>();
            expectTypeOf(count).toEqualTypeOf<number>();
            return tenantId;
          },
        },
      },
      (tenantId: string, count: number) => `${tenantId}:${count}`,
    );
    task(
      { name: "key.schema", args: z.tuple([z.string()]), concurrency: { key: (id) => id } },
      (id) => id,
    );
    task(
      // @ts-expect-error the key function's parameter must fit the task's argument
      { name: "key.mismatch", concurrency: { key: (id: number) => `${id}` } },
      (id: string) => id,
    );
  });
});

describe("rate limit key function", () => {
  test("its parameters are the task's arguments, typed without annotations; it returns text", () => {
    task(
      {
        name: "rate-key.typed",
        rateLimit: {
          maxRate: 10,
          ratePeriod: 60,
          key: (tenantId, count) => {
            expectTypeOf(tenantId).toEqualTypeOf<string>();
            expectTypeOf(count).toEqualTypeOf<number>();
            return tenantId;
          },
        },
      },
      (tenantId: string, count: number) => `${tenantId}:${count}`,
    );
    task(
      {
        name: "rate-key.schema",
        args: z.tuple([z.string()]),
        rateLimit: { maxRate: 1, ratePeriod: 1, key: (id) => id },
      },
      (id) => id,
    );
    task(
      // @ts-expect-error the key is text, not a number
      { name: "rate-key.number", rateLimit: { maxRate: 1, ratePeriod: 1, key: (n: number) => n } },
      (n: number) => n,
    );
    task(
      {
        name: "rate-key.mismatch",
        // @ts-expect-error the key function's parameter must fit the task's argument
        rateLimit: { maxRate: 1, ratePeriod: 1, key: (id: number) => `${id}` },
      },
      (id: string) => id,
    );
  });
});

describe("a result as it reads back", () => {
  test("without a result schema, a Date in the result is typed as the ISO text it is stored as", () => {
    const stamp = task({ name: "stored.date" }, () => new Date());
    expectTypeOf(stamp()).toEqualTypeOf<Task<string>>();
    const nested = task({ name: "stored.nested" }, async (n: number) => ({
      at: new Date(n),
      n,
      list: [new Date(n)],
    }));
    expectTypeOf(nested(1)).toEqualTypeOf<Task<{ at: string; n: number; list: string[] }>>();
  });

  test("a task that chains another keeps the chained task's type", () => {
    const inner = task({ name: "stored.inner" }, (n: number) => n * 2);
    const outer = task({ name: "stored.outer" }, (n: number) => inner(n));
    expectTypeOf(outer(1)).toEqualTypeOf<Task<Task<number>>>();
  });
});

describe("arguments and results JSON cannot store are compile errors where the task is defined", () => {
  interface Order {
    id: string;
    lines: { sku: string; qty: number }[];
    note?: string;
    parent?: Order;
  }

  test("parameters that are not JSON are refused", () => {
    // @ts-expect-error a bigint parameter cannot be stored
    task({ name: "json.bigint" }, (n: bigint) => Number(n));
    // @ts-expect-error a Date parameter would be given ISO text, not a Date
    task({ name: "json.date" }, (at: Date) => at.getTime());
    // @ts-expect-error a function parameter cannot be stored
    task({ name: "json.fn" }, (callback: () => void) => callback());
    // @ts-expect-error a Map parameter cannot be stored
    task({ name: "json.map" }, (m: Map<string, number>) => m.size);
    // @ts-expect-error a Set, deep inside an object, cannot be stored
    task({ name: "json.deep-set" }, (o: { tags: { all: Set<string> } }) => o.tags.all.size);
    // @ts-expect-error a value with methods cannot be stored
    task({ name: "json.methods" }, (o: { n: number; double(): number }) => o.double());
    // @ts-expect-error a union that may hold a bigint cannot always be stored
    task({ name: "json.union" }, (id: string | bigint) => String(id));
    // @ts-expect-error refused without options as well
    task(function jsonBare(s: symbol) {
      return String(s);
    });
    // @ts-expect-error refused beside a result schema as well
    task({ name: "json.with-result-schema", result: z.number() }, (n: bigint) => Number(n));
  });

  test("results that are not JSON are refused", () => {
    // @ts-expect-error a Map result cannot be stored
    task({ name: "json.map-result" }, () => new Map<string, number>());
    // @ts-expect-error a bigint result cannot be stored
    task({ name: "json.bigint-result" }, async () => 10n);
    // @ts-expect-error a function inside the result cannot be stored
    task({ name: "json.fn-result" }, () => ({ handler: () => 1 }));
    // @ts-expect-error refused beside an args schema as well
    task({ name: "json.schema-args", args: z.tuple([z.string()]) }, (s) => new Set([s]));
    const inner = task({ name: "json.inner-refused" }, (n: number) => n);
    // @ts-expect-error a task inside a list of other values would be stored, not chained
    task({ name: "json.mixed-list" }, (n: number) => [inner(n), 5]);
    // @ts-expect-error a task inside an object would be stored, not chained
    task({ name: "json.task-in-object" }, (n: number) => ({ child: inner(n) }));
    // @ts-expect-error a union with a member JSON cannot store is refused
    task({ name: "json.date-union" }, (at: string | Date) => String(at));
    const flow = workflow({ name: "json.returned-workflow" }, function* (id: string) {
      const done = yield* step(inner(id.length));
      return done.result;
    });
    // @ts-expect-error a workflow returned by a task would be stored, not started
    task({ name: "json.returns-workflow" }, (id: string) => flow(id));
    // @ts-expect-error so would a workflow that may be returned
    task({ name: "json.maybe-workflow" }, (id: string) => (id ? flow(id) : null));
  });

  test("everything JSON can store, and what TypeScript cannot tell apart, is accepted", () => {
    task({ name: "json.plain" }, (a: string, b: number, c: boolean, d: null) => [a, b, c, d]);
    task({ name: "json.optional" }, (a: string, b?: { n?: number }) => `${a}${b?.n ?? ""}`);
    task({ name: "json.rest" }, (...xs: number[]) => xs.length);
    task({ name: "json.interface" }, (order: Order) => order.lines.length);
    task({ name: "json.unknown" }, (payload: unknown) => payload);
    // biome-ignore lint/suspicious/noExplicitAny: `any` must stay accepted
    task({ name: "json.any" }, (payload: any) => payload);
    task({ name: "json.value" }, (value: JsonValue) => value);
    task({ name: "json.record" }, (counts: Record<string, number>) => Object.keys(counts));
    task({ name: "json.readonly" }, (xs: readonly string[], pair: readonly [number, string]) => [
      ...xs,
      ...pair,
    ]);
    task({ name: "json.maybe" }, (note: string | undefined) => note ?? null);
    task({ name: "json.literals" }, (kind: "a" | "b", level: 1 | 2) => ({ kind, level }));
    task({ name: "json.void" }, () => {});
    task({ name: "json.async-void" }, async () => {});
    task({ name: "json.date-result" }, () => ({ at: new Date() }));
    const inner = task({ name: "json.inner" }, (n: number) => n);
    task({ name: "json.chain-one" }, (n: number) => inner(n));
    task({ name: "json.chain-many" }, (n: number) => [inner(n), inner(n + 1)]);
    // A generic helper's type parameters, constrained to JSON, are checked where it is used.
    const echoTask = <T extends JsonValue>(name: string) => task({ name }, (x: T) => x);
    expectTypeOf(echoTask<{ a: number }>("json.generic")).toEqualTypeOf<
      TaskFactory<[x: { a: number }], { a: number }>
    >();
    const wrap = <A extends string[], R extends JsonValue>(
      name: string,
      fn: (...args: A) => Promise<R>,
    ) => task({ name }, fn);
    wrap("json.wrapped", async (s: string) => s.length);
  });
});

describe("a concurrency key in shared options", () => {
  test("a key function of shared options sees unknown arguments unless they are named", () => {
    const common: TaskOptions = {
      // @ts-expect-error the arguments of a task not yet known are unknown, not any
      concurrency: { key: (tenant) => tenant.toUpperCase() },
    };
    const named: TaskOptions<[tenant: string]> = {
      concurrency: { key: (tenant) => tenant.toUpperCase() },
    };
    const byTenant = task({ ...named, name: "types.shared-key" }, (tenant: string) => tenant);
    expectTypeOf(byTenant).parameters.toEqualTypeOf<[tenant: string]>();
    void common;
  });
});

describe("undefined in a list", () => {
  test("a list that may hold undefined is refused as a result or a parameter; optional parameters and null pass", () => {
    // @ts-expect-error JSON has no undefined element: the result could never be stored
    task({ name: "types.undefined-result" }, () => [1, undefined, 3]);
    // @ts-expect-error nor can such an argument
    task({ name: "types.undefined-arg" }, (xs: (string | undefined)[]) => xs.length);
    const optional = task({ name: "types.optional" }, (a: number, b?: number) => a + (b ?? 0));
    expectTypeOf(optional).parameters.toEqualTypeOf<[a: number, b?: number]>();
    const nulls = task({ name: "types.nulls" }, () => [1, null] as (number | null)[]);
    expectTypeOf(nulls()).toEqualTypeOf<Task<(number | null)[]>>();
    const anything = task({ name: "types.unknown-list" }, (xs: unknown[]) => xs.length);
    expectTypeOf(anything).parameters.toEqualTypeOf<[xs: unknown[]]>();
    const objects = task({ name: "types.optional-member" }, (o: { a?: number }) => o.a ?? 0);
    expectTypeOf(objects).parameters.toEqualTypeOf<[o: { a?: number }]>();
  });
});

describe("a generic helper that defines tasks", () => {
  test("constrained to JsonValue, it refuses a type a task cannot store where it is used", () => {
    function defineTimed<T extends JsonValue>(name: string, f: (x: T) => number) {
      return task({ name }, (x: T) => f(x));
    }
    const timed = defineTimed<string>("types.generic-helper", (s) => s.length);
    expectTypeOf(timed).parameters.toEqualTypeOf<[x: string]>();
    // @ts-expect-error a Date would be handed to the function as ISO text
    defineTimed<Date>("types.generic-helper-date", (d) => d.getTime());
  });
});

describe("AnyTaskFactory", () => {
  test("takes every task's factory, whatever its arguments and result; not a task or a workflow", () => {
    const names = (...defs: AnyTaskFactory[]) => defs.map((def) => def.taskName);
    const add = task({ name: "types.any-factory.add" }, (a: number, b: number) => a + b);
    const greet = task({ name: "types.any-factory.greet" }, async (who: string) => `hi ${who}`);
    const tick = task({ name: "types.any-factory.tick" }, () => {});
    expectTypeOf(names(add, greet, tick)).toEqualTypeOf<string[]>();
    // @ts-expect-error a task is not its factory
    names(add(1, 2));
  });
});
