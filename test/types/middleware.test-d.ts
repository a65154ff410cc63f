/**
 * Type-level contract of middleware: a task's own middleware sees that task's
 * arguments and result; `Middleware` without parameters fits every task and
 * the worker. Checked by `vitest --project types` (nothing here runs).
 */
import { MemoryBackend, type Middleware, Queue, task, Worker } from "sheppy";
import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";

describe("task-level middleware is typed by its task", () => {
  test("ctx.args is the task's argument list and ctx.result its function's result", () => {
    task(
      {
        name: "types.mw.typed",
        middleware: [
          async (ctx, next) => {
            expectTypeOf(ctx.args).toEqualTypeOf<[to: string, count: number]>();
            ctx.args = [ctx.args[0].trim(), ctx.args[1] + 1];
            await next();
            expectTypeOf(ctx.result).toEqualTypeOf<{ sent: number }>();
            ctx.result = { sent: ctx.result.sent * 2 };
          },
        ],
      },
      async (to: string, count: number) => ({ sent: count + to.length }),
    );
  });

  test("changing them to another type is a compile error", () => {
    task(
      {
        name: "types.mw.wrong",
        middleware: [
          async (ctx, next) => {
            // @ts-expect-error the task takes a string and a number
            ctx.args = [1, 2];
            await next();
            // @ts-expect-error the function returns a number
            ctx.result = "text";
          },
        ],
      },
      (to: string, count: number) => to.length + count,
    );
  });

  test("with an args schema, ctx.args is what the schema made of them; with a result schema, the function's result", () => {
    task(
      {
        name: "types.mw.schemas",
        args: z.tuple([z.coerce.number()]),
        result: z.object({ doubled: z.number() }),
        middleware: [
          async (ctx, next) => {
            expectTypeOf(ctx.args).toEqualTypeOf<[number]>();
            await next();
            expectTypeOf(ctx.result).toEqualTypeOf<{ doubled: number }>();
          },
        ],
      },
      (n) => ({ doubled: n * 2 }),
    );
  });

  test("a Middleware without parameters fits any task and the worker", () => {
    const timing: Middleware = async (ctx, next) => {
      expectTypeOf(ctx.args).toEqualTypeOf<unknown[]>();
      expectTypeOf(ctx.result).toEqualTypeOf<unknown>();
      await next();
    };
    task({ name: "types.mw.shared", middleware: [timing] }, (a: string) => a);
    new Worker(new Queue(new MemoryBackend()), { middleware: [timing] });
  });

  test("a task's own middleware does not fit the worker, which runs every task", () => {
    const onlyForStrings: Middleware<[text: string], string> = async (ctx, next) => {
      ctx.args = [ctx.args[0].toUpperCase()];
      await next();
    };
    task({ name: "types.mw.own", middleware: [onlyForStrings] }, (text: string) => text);
    // @ts-expect-error the worker's middleware sees any task's arguments
    new Worker(new Queue(new MemoryBackend()), { middleware: [onlyForStrings] });
  });
});
