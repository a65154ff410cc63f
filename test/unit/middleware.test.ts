/**
 * Onion middleware (MW-*): `compose` order and misuse, and middleware around
 * real attempts (task-level inside worker-level, args/result changes, errors).
 */
import { type Middleware, type MiddlewareContext, MiddlewareError, Task, task } from "sheppy";
import { TestQueue } from "sheppy/testing";
import { describe, expect, test } from "vitest";
import { compose } from "../../src/execution/middleware.js";

const ctxTask = task({ name: "mw-ctx" }, () => 1);

function context(args: unknown[] = []): MiddlewareContext {
  return {
    task: ctxTask(),
    queueName: "q",
    signal: new AbortController().signal,
    args,
    result: undefined,
  };
}

describe("compose", () => {
  test("MW-5 before parts run in order, after parts in reverse, the core in the middle", async () => {
    const log: string[] = [];
    const layer =
      (name: string): Middleware =>
      async (_ctx, next) => {
        log.push(`${name}:before`);
        await next();
        log.push(`${name}:after`);
      };
    await compose([layer("a"), layer("b"), layer("c")], async () => {
      log.push("core");
    })(context());
    expect(log).toEqual([
      "a:before",
      "b:before",
      "c:before",
      "core",
      "c:after",
      "b:after",
      "a:after",
    ]);
  });

  test("no middleware returns the core itself", () => {
    const core = async () => {};
    expect(compose([], core)).toBe(core);
  });

  test("MW-3 / MW-4 middleware can replace the args before and the result after", async () => {
    const ctx = context([1, 2]);
    await compose(
      [
        async (c, next) => {
          c.args = [5, ...c.args.slice(1)];
          await next();
          c.result = (c.result as number) + 100;
        },
      ],
      async (c) => {
        c.result = (c.args[0] as number) + (c.args[1] as number);
      },
    )(ctx);
    expect(ctx.args).toEqual([5, 2]);
    expect(ctx.result).toBe(107);
  });

  test("a middleware that does not call next() skips the core", async () => {
    let ran = false;
    const ctx = context();
    await compose(
      [
        async (c) => {
          c.result = "short-circuit";
        },
      ],
      async () => {
        ran = true;
      },
    )(ctx);
    expect(ran).toBe(false);
    expect(ctx.result).toBe("short-circuit");
  });

  test("a synchronous middleware works too", async () => {
    const ctx = context();
    await compose([(_c, next) => next()], async (c) => {
      c.result = "sync ok";
    })(ctx);
    expect(ctx.result).toBe("sync ok");
  });

  test("calling next() twice is a MiddlewareError", async () => {
    let coreRuns = 0;
    const twice: Middleware = async (_ctx, next) => {
      await next();
      await next();
    };
    const run = compose([twice], async () => {
      coreRuns++;
    });
    await expect(run(context())).rejects.toThrow(MiddlewareError);
    await expect(run(context())).rejects.toThrow("next() called more than once in one middleware");
    expect(coreRuns).toBe(2);
  });

  test("an error thrown by a layer or the core propagates through the onion", async () => {
    const seen: unknown[] = [];
    const observer: Middleware = async (_ctx, next) => {
      try {
        await next();
      } catch (error) {
        seen.push(error);
        throw error;
      }
    };
    const run = compose([observer], async () => {
      throw new Error("core failed");
    });
    await expect(run(context())).rejects.toThrow("core failed");
    expect(seen).toHaveLength(1);
  });

  test("an outer layer can catch an inner error and recover", async () => {
    const ctx = context();
    await compose(
      [
        async (c, next) => {
          try {
            await next();
          } catch {
            c.result = "recovered";
          }
        },
      ],
      async () => {
        throw new Error("inner");
      },
    )(ctx);
    expect(ctx.result).toBe("recovered");
  });
});

describe("middleware around real attempts", () => {
  const noop: Middleware = async (_ctx, next) => {
    await next();
  };
  const firstArgTo5: Middleware = async (ctx, next) => {
    ctx.args = [5, ...ctx.args.slice(1)];
    await next();
  };
  const plus = (n: number): Middleware => {
    return async (ctx, next) => {
      await next();
      ctx.result = (ctx.result as number) + n;
    };
  };

  test("MW-2…MW-5 task-level middleware changes args and results (3 / 7 / 105003 / 105007)", async () => {
    const plain = task({ name: "mw-plain", middleware: [noop] }, (x: number, y: number) => x + y);
    const changedArg = task(
      { name: "mw-arg", middleware: [firstArgTo5] },
      (x: number, y: number) => x + y,
    );
    const changedResult = task(
      { name: "mw-result", middleware: [plus(100000), plus(5000)] },
      async (x: number, y: number) => x + y,
    );
    const all = task(
      { name: "mw-all", middleware: [noop, firstArgTo5, plus(100000), plus(5000)] },
      (x: number, y: number) => x + y,
    );
    const queue = new TestQueue();
    await queue.add([plain(1, 2), changedArg(1, 2), changedResult(1, 2), all(1, 2)]);
    const results = (await queue.processAll()).map((t) => t.result);
    expect(results).toEqual([3, 7, 105003, 105007]);
  });

  test("MW-6 worker-level middleware runs outside task-level middleware", async () => {
    const log: string[] = [];
    const tag =
      (name: string): Middleware =>
      async (_ctx, next) => {
        log.push(`${name}>`);
        await next();
        log.push(`<${name}`);
      };
    const traced = task({ name: "mw-traced", middleware: [tag("task")] }, () => {
      log.push("fn");
      return "done";
    });
    const queue = new TestQueue({ middleware: [tag("worker")] });
    await queue.add(traced());
    expect((await queue.processNext())?.result).toBe("done");
    expect(log).toEqual(["worker>", "task>", "fn", "<task", "<worker"]);
  });

  test("MW-1 middleware sees the running task and its queue", async () => {
    const seen: { id: string; status: string; queue: string; aborted: boolean }[] = [];
    const spy: Middleware = async (ctx, next) => {
      seen.push({
        id: ctx.task.id,
        status: ctx.task.status,
        queue: ctx.queueName,
        aborted: ctx.signal.aborted,
      });
      await next();
    };
    const watched = task({ name: "mw-watched", middleware: [spy] }, () => 1);
    const queue = new TestQueue({ name: "mw-queue" });
    const t = watched();
    await queue.add(t);
    await queue.processNext();
    expect(seen).toEqual([{ id: t.id, status: "processing", queue: "mw-queue", aborted: false }]);
  });

  test("MW-9 an error before next() fails the task and the function never runs", async () => {
    let ran = false;
    const refuse: Middleware = async () => {
      throw new Error("refused by middleware");
    };
    const guarded = task({ name: "mw-guarded", middleware: [refuse] }, () => {
      ran = true;
      return 1;
    });
    const queue = new TestQueue();
    await queue.add(guarded());
    const done = await queue.processNext();
    expect(ran).toBe(false);
    expect(done?.status).toBe("failed");
    expect(done?.result).toBeNull();
    expect(done?.error?.message).toBe("refused by middleware");
  });

  test("an error after next() fails the task (SPEC: a middleware error fails the task)", async () => {
    const breakAfter: Middleware = async (_ctx, next) => {
      await next();
      throw new Error("after part broke");
    };
    const afterBroken = task({ name: "mw-after-broken", middleware: [breakAfter] }, () => 5);
    const queue = new TestQueue();
    await queue.add(afterBroken());
    const done = await queue.processNext();
    expect(done?.status).toBe("failed");
    expect(done?.error?.message).toBe("after part broke");
  });

  test("next() twice inside a task fails it with MiddlewareError, and the queue carries on", async () => {
    const twice: Middleware = async (_ctx, next) => {
      await next();
      await next();
    };
    const doubled = task({ name: "mw-twice", middleware: [twice] }, () => 1);
    const fine = task({ name: "mw-fine" }, () => "fine");
    const queue = new TestQueue();
    await queue.add([doubled(), fine()]);
    const [first, second] = await queue.processAll();
    expect(first?.status).toBe("failed");
    expect(first?.error?.type).toBe("MiddlewareError");
    expect(first?.error?.message).toContain("next() called more than once");
    expect(second?.result).toBe("fine");
  });

  test("MW-12 task middleware is not stored in the task record", () => {
    const withMw = task({ name: "mw-not-stored", middleware: [noop] }, () => 1);
    const t = withMw();
    expect(JSON.stringify(t.toJSON())).not.toContain("middleware");
    expect(t).toBeInstanceOf(Task);
  });
});
