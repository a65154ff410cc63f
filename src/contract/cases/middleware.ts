/**
 * Onion middleware around each attempt, task-level and worker-level: it can
 * change the arguments before `next()` and the result after; any error in it
 * fails the task, never the worker.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Middleware, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { PerTest } from "../support/until.js";

/** What happened during one task's attempts, keyed by task id. */
const trace = new PerTest<string[]>(() => []);
/** Calls of the task functions, keyed by a token argument. */
const calls = new PerTest(() => ({ count: 0 }));

const noopAsync: Middleware = async (_ctx, next) => {
  await next();
};
const noopSync: Middleware = (_ctx, next) => next();
const firstArgTo5: Middleware = async (ctx, next) => {
  ctx.args = [5, ...ctx.args.slice(1)];
  await next();
};
const plus100000: Middleware = async (ctx, next) => {
  await next();
  ctx.result = (ctx.result as number) + 100000;
};
const plus5000: Middleware = async (ctx, next) => {
  await next();
  ctx.result = (ctx.result as number) + 5000;
};
const traced =
  (label: string): Middleware =>
  async (ctx, next) => {
    trace.get(ctx.task.id).push(`${label}:before`);
    await next();
    trace.get(ctx.task.id).push(`${label}:after`);
  };
/** Returns values but changes nothing: only assignments to ctx change the args and result. */
const returnsValues: Middleware = async (_ctx, next) => {
  await next();
  return 999;
};
const failsBefore: Middleware = async () => {
  throw new Error("middleware failed before");
};
const failsAfter: Middleware = async (_ctx, next) => {
  await next();
  throw new Error("middleware failed after");
};
const nextTwice: Middleware = async (_ctx, next) => {
  await next();
  await next();
};
const sees: Middleware = async (ctx, next) => {
  trace
    .get(ctx.task.id)
    .push(`task=${ctx.task.id} status=${ctx.task.status} queue=${ctx.queueName}`);
  trace.get(ctx.task.id).push(`signal=${ctx.signal.aborted}`);
  await next();
};

const sum = (a: number, b: number) => a + b;
const noop = task({ name: "middleware.noop", middleware: [noopSync, noopAsync] }, sum);
const changeArg = task({ name: "middleware.changeArg", middleware: [firstArgTo5] }, sum);
const changeResult = task(
  { name: "middleware.changeResult", middleware: [plus100000, plus5000] },
  sum,
);
const stacked = task(
  { name: "middleware.stacked", middleware: [noopAsync, firstArgTo5, plus100000, plus5000] },
  sum,
);
const ordered = task(
  { name: "middleware.ordered", middleware: [traced("first"), traced("second")] },
  (a: number) => a,
);
const plain = task({ name: "middleware.plain" }, sum);
const ignoredReturns = task(
  { name: "middleware.ignoredReturns", middleware: [returnsValues] },
  sum,
);
const inspected = task({ name: "middleware.inspected", middleware: [sees] }, sum);

const counted = (token: string) => {
  calls.get(token).count++;
  return 5;
};
const brokenBefore = task({ name: "middleware.brokenBefore", middleware: [failsBefore] }, counted);
const brokenBeforeRetriable = task(
  { name: "middleware.brokenBeforeRetriable", middleware: [failsBefore], retry: 1, retryDelay: 0 },
  counted,
);
const brokenAfter = task({ name: "middleware.brokenAfter", middleware: [failsAfter] }, counted);
const doubleNext = task({ name: "middleware.doubleNext", middleware: [nextTwice] }, counted);

export function middlewareCases(h: ContractHarness): void {
  describe("middleware", () => {
    it("MW-2 no-op middleware, sync or async, leaves the result unchanged", async () => {
      const queue = h.queue();
      const t = noop(1, 2);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const done = await queue.getTask(t);
      expect([done?.status, done?.result]).toEqual(["completed", 3]);
    });

    it("MW-3 middleware before next() can change the arguments", async () => {
      const queue = h.queue();
      const t = changeArg(1, 2);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const done = await queue.getTask(t);
      expect(done?.result).toBe(7);
      expect(done?.args).toEqual([1, 2]); // the stored arguments are not rewritten
    });

    it("MW-4 middleware after next() can change the result", async () => {
      const queue = h.queue();
      const t = changeResult(1, 2);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.getTask(t))?.result).toBe(105003);
    });

    it("MW-5 several middleware compose: before parts in order, after parts in reverse", async () => {
      const queue = h.queue();
      const t = stacked(1, 2);
      const o = ordered(1);
      await queue.add([t, o]);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.getTask(t))?.result).toBe(105007);
      expect(trace.get(o.id)).toEqual([
        "first:before",
        "second:before",
        "second:after",
        "first:after",
      ]);
    });

    it("MW-6 worker-level middleware runs outside task-level middleware", async () => {
      const queue = h.queue();
      const t = ordered(42);
      await queue.add(t);
      const worker = h.worker(queue, { middleware: [traced("worker-a"), traced("worker-b")] });
      await worker.work({ oneshot: true });
      expect((await queue.getTask(t))?.result).toBe(42);
      expect(trace.get(t.id)).toEqual([
        "worker-a:before",
        "worker-b:before",
        "first:before",
        "second:before",
        "second:after",
        "first:after",
        "worker-b:after",
        "worker-a:after",
      ]);
    });

    it("MW-6 worker-level middleware applies to tasks without middleware of their own", async () => {
      const queue = h.queue();
      const t = plain(1, 2);
      await queue.add(t);
      await h.worker(queue, { middleware: [firstArgTo5, plus100000] }).work({ oneshot: true });
      expect((await queue.getTask(t))?.result).toBe(100007);
    });

    it("MW-7 what middleware returns is ignored: only assigning ctx.args / ctx.result changes them", async () => {
      const queue = h.queue();
      const t = ignoredReturns(1, 2);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const done = await queue.getTask(t);
      expect([done?.status, done?.result]).toEqual(["completed", 3]);
    });

    it("MW-1 / MW-8 middleware sees the running task, its queue and its signal", async () => {
      const queue = h.queue();
      const t = inspected(1, 2);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.getTask(t))?.result).toBe(3);
      expect(trace.get(t.id)).toEqual([
        `task=${t.id} status=processing queue=${queue.name}`,
        "signal=false",
      ]);
    });

    it("MW-9 / MW-11 an error before next(): the task fails, its function never runs, the worker carries on", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = brokenBefore(token);
      const after = plain(2, 3);
      await queue.add([t, after]);
      const summary = await h.worker(queue, { concurrency: 1 }).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 1, failed: 1 });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.result).toBeNull();
      expect(failed.error?.message).toBe("middleware failed before");
      expect(calls.get(token).count).toBe(0);
      expect((await queue.getTask(after))?.result).toBe(5);
    });

    it("MW-9 a middleware failure counts as a failed attempt: a retriable task spends a retry on it", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = brokenBeforeRetriable(token);
      await queue.add(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ retried: 1, failed: 1 });
      const failed = (await queue.getTask(t))!;
      expect([failed.status, failed.retryCount]).toEqual(["failed", 1]);
      expect(calls.get(token).count).toBe(0);
    });

    it("MW-10 / MW-11 (decided) an error after next() fails the task too; the worker carries on", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = brokenAfter(token);
      const after = plain(3, 4);
      await queue.add([t, after]);
      const summary = await h.worker(queue, { concurrency: 1 }).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 1, failed: 1 });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.result).toBeNull();
      expect(failed.error?.message).toBe("middleware failed after");
      expect(calls.get(token).count).toBe(1);
      expect((await queue.getTask(after))?.result).toBe(7);
    });

    it("calling next() twice fails the task with MiddlewareError", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = doubleNext(token);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.error?.type).toBe("MiddlewareError");
      expect(calls.get(token).count).toBe(1);
    });
  });
}
