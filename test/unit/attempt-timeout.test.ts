/**
 * A task's `timeout` bounds its whole attempt: middleware (task-level and
 * worker-level), dependency setup, the function and the dependencies'
 * teardown. An attempt still running at the bound fails with
 * TaskTimeoutError then; one that blocked the event loop past its bound fails
 * with it when it ends. Timing bounds sit far from both sides: the bound is
 * 0.2 s, what overruns it takes 5 s or never ends, and a test asserts only
 * that the attempt ended well before 3 s.
 */
import { currentTask, type Middleware, type Task, TaskTimeoutError, task, use } from "sheppy";
import { TestQueue } from "sheppy/testing";
import { describe, expect, test } from "vitest";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const never = () => new Promise<never>(() => {});
/** Holds the event loop for `ms`, as CPU-bound synchronous code does. */
const block = (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
};

/** Adds `t`, runs it, and says how it ended and how long that took. */
async function runTimed(queue: TestQueue, t: Task<unknown>) {
  await queue.add(t);
  const started = Date.now();
  const done = await queue.processNext();
  return { done: done!, ms: Date.now() - started };
}

function expectTimedOut(done: Awaited<ReturnType<typeof runTimed>>["done"], seconds = 0.2): void {
  expect(done.status).toBe("failed");
  expect(done.result).toBeNull();
  expect(done.error?.type).toBe("TaskTimeoutError");
  expect(done.error?.message).toBe(`Task exceeded timeout of ${seconds} seconds`);
}

describe("a timeout bounds middleware", () => {
  test("task-level middleware slower than the bound fails the attempt at the bound; the function never runs", async () => {
    let ran = false;
    let aborted: unknown;
    const slowBefore: Middleware = async (ctx, next) => {
      ctx.signal.addEventListener("abort", () => {
        aborted = ctx.signal.reason;
      });
      await sleep(5000);
      await next();
    };
    const t = task({ name: "to-mw.slow-before", timeout: 0.2, middleware: [slowBefore] }, () => {
      ran = true;
      return 1;
    });
    const { done, ms } = await runTimed(new TestQueue(), t());
    expectTimedOut(done);
    expect(ms).toBeLessThan(3000);
    expect(aborted).toBeInstanceOf(TaskTimeoutError);
    expect(ran).toBe(false);
  });

  test("middleware that never resolves, after next(), does not leave the task processing", async () => {
    const hangsAfter: Middleware = async (_ctx, next) => {
      await next();
      await never();
    };
    const t = task({ name: "to-mw.hangs-after", timeout: 0.2, middleware: [hangsAfter] }, () => 1);
    const { done, ms } = await runTimed(new TestQueue(), t());
    expectTimedOut(done);
    expect(ms).toBeLessThan(3000);
  });

  test("worker-level middleware counts too", async () => {
    const hangs: Middleware = () => never();
    const t = task({ name: "to-mw.worker-level", timeout: 0.2 }, async () => 1);
    const { done, ms } = await runTimed(new TestQueue({ middleware: [hangs] }), t());
    expectTimedOut(done);
    expect(ms).toBeLessThan(3000);
  });

  test("middleware within the bound leaves the task completed", async () => {
    const quick: Middleware = async (ctx, next) => {
      await sleep(5);
      await next();
      ctx.result = (ctx.result as number) + 1;
    };
    const t = task({ name: "to-mw.quick", timeout: 2, middleware: [quick] }, async () => 1);
    const { done } = await runTimed(new TestQueue(), t());
    expect([done.status, done.result]).toEqual(["completed", 2]);
  });
});

describe("a timeout bounds dependencies", () => {
  test("a teardown that never ends fails the attempt at the bound", async () => {
    async function* stuckResource() {
      yield "value";
      await never();
    }
    const t = task({ name: "to-dep.stuck-teardown", timeout: 0.2 }, async () => use(stuckResource));
    const { done, ms } = await runTimed(new TestQueue(), t());
    expectTimedOut(done);
    expect(ms).toBeLessThan(3000);
  });

  test("a teardown cut off at the bound goes on in the background: it sees the signal, and its error is still reported", async () => {
    const queue = new TestQueue();
    let sawAbort: unknown;
    async function* slowResource() {
      const { signal } = currentTask();
      yield "value";
      await sleep(2000);
      sawAbort = signal.reason;
      throw new Error("closed late");
    }
    const t = task({ name: "to-dep.slow-teardown", timeout: 0.2 }, async () => use(slowResource));
    const { done, ms } = await runTimed(queue, t());
    expectTimedOut(done);
    expect(ms).toBeLessThan(1500);
    await expect.poll(() => queue.teardownErrors.length).toBe(1);
    expect(String(queue.teardownErrors[0]!.error)).toBe("Error: closed late");
    expect(sawAbort).toBeInstanceOf(TaskTimeoutError);
  });

  test("a dependency slower to set up than the bound fails the attempt at the bound", async () => {
    const slowSetup = () => sleep(5000).then(() => "late");
    const t = task({ name: "to-dep.slow-setup", timeout: 0.2 }, async () => use(slowSetup));
    const { done, ms } = await runTimed(new TestQueue(), t());
    expectTimedOut(done);
    expect(ms).toBeLessThan(3000);
  });

  test("a function still running at the bound has its dependencies torn down then, once", async () => {
    const closed: string[] = [];
    async function* resource() {
      yield "value";
      closed.push("closed");
    }
    const t = task({ name: "to-dep.torn-down-at-bound", timeout: 0.2 }, async () => {
      await use(resource);
      await sleep(600);
      return "late";
    });
    const { done } = await runTimed(new TestQueue(), t());
    expectTimedOut(done);
    await expect.poll(() => closed).toEqual(["closed"]);
    await sleep(800); // the function returns: its teardown is not run again
    expect(closed).toEqual(["closed"]);
  });

  test("a teardown within the bound runs before the outcome, which stays completed", async () => {
    const closed: string[] = [];
    async function* resource() {
      yield 2;
      await sleep(5);
      closed.push("closed");
    }
    const t = task({ name: "to-dep.in-time", timeout: 2 }, async () => (await use(resource)) * 2);
    const { done } = await runTimed(new TestQueue(), t());
    expect([done.status, done.result]).toEqual(["completed", 4]);
    expect(closed).toEqual(["closed"]);
  });
});

describe("an attempt that blocked the event loop past its bound", () => {
  test("a synchronous function that returns past its bound fails with TaskTimeoutError", async () => {
    const spin = task({ name: "to-block.sync", timeout: 0.2 }, (ms: number) => {
      block(ms);
      return "done";
    });
    const { done } = await runTimed(new TestQueue(), spin(400));
    expectTimedOut(done);
  });

  test("so does one that throws past its bound, and an async one that blocks before it resolves", async () => {
    const throws = task({ name: "to-block.sync-throws", timeout: 0.2 }, (ms: number) => {
      block(ms);
      throw new Error("late failure");
    });
    const asyncBlock = task({ name: "to-block.async", timeout: 0.2 }, async (ms: number) => {
      await sleep(1);
      block(ms);
      return "done";
    });
    const queue = new TestQueue();
    expectTimedOut((await runTimed(queue, throws(400))).done);
    expectTimedOut((await runTimed(queue, asyncBlock(400))).done);
  });

  test("middleware that blocks past the bound around a synchronous function counts too", async () => {
    const blocking: Middleware = async (_ctx, next) => {
      block(400);
      await next();
    };
    const t = task({ name: "to-block.middleware", timeout: 0.2, middleware: [blocking] }, () => 1);
    expectTimedOut((await runTimed(new TestQueue(), t())).done);
  });

  test("a synchronous function within its bound completes", async () => {
    const spin = task({ name: "to-block.in-time", timeout: 2 }, (ms: number) => {
      block(ms);
      return "done";
    });
    const { done } = await runTimed(new TestQueue(), spin(5));
    expect([done.status, done.result]).toEqual(["completed", "done"]);
  });
});
