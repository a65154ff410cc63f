/**
 * Task timeouts: over-time attempts fail with TaskTimeoutError even when the
 * function ignores its AbortSignal; the signal fires; the bound covers
 * middleware and dependency teardown, and an attempt that held the event loop
 * past it; a timeout is final unless the task opts into `retryOnTimeout`.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { currentTask, TaskTimeoutError, task, use } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { PerTest, sleep } from "../support/until.js";

/** What each test's task saw: how many attempts started, and the abort reasons its signal fired with. */
const seen = new PerTest(() => ({ attempts: 0, aborts: [] as unknown[] }));

const watchSignal = (token: string) => {
  const state = seen.get(token);
  state.attempts++;
  const { signal } = currentTask();
  signal.addEventListener("abort", () => state.aborts.push(signal.reason), { once: true });
  return state;
};

/** Takes `ms` and ignores its signal. */
const slowIgnoring = (token: string, ms: number) => {
  watchSignal(token);
  return sleep(ms).then(() => "too late");
};

const noLimit = task({ name: "timeout.noLimit" }, async (ms: number) => {
  await sleep(ms);
  return "done";
});
const ignoresSignal = task({ name: "timeout.ignoresSignal", timeout: 0.05 }, slowIgnoring);
const cooperative = task({ name: "timeout.cooperative", timeout: 0.05 }, async (token: string) => {
  watchSignal(token);
  const { signal } = currentTask();
  await new Promise((_, reject) =>
    signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
  );
  return "unreachable";
});
const quick = task({ name: "timeout.quick", timeout: 5 }, (a: number, b: number) => a + b);
const quickAsync = task({ name: "timeout.quickAsync", timeout: 0.5 }, async (token: string) => {
  watchSignal(token);
  await sleep(5);
  return "in time";
});
const timesOutRetriable = task(
  { name: "timeout.timesOutRetriable", timeout: 0.05, retry: 2, retryDelay: 0 },
  slowIgnoring,
);
const retriesOnTimeout = task(
  {
    name: "timeout.retriesOnTimeout",
    timeout: 0.05,
    retry: 1,
    retryDelay: 0,
    retryOnTimeout: true,
  },
  slowIgnoring,
);
const slowOnce = task(
  { name: "timeout.slowOnce", timeout: 0.05, retry: 2, retryDelay: 0, retryOnTimeout: true },
  async (token: string) => {
    const state = watchSignal(token);
    if (state.attempts === 1) await sleep(300);
    return `attempt ${state.attempts}`;
  },
);

/** Never settles: what a stuck middleware or teardown waits on. */
const never = () => new Promise<never>(() => {});
const stuckMiddleware = task(
  {
    name: "timeout.stuckMiddleware",
    timeout: 0.05,
    middleware: [
      async (_ctx, next) => {
        await next();
        await never();
      },
    ],
  },
  () => "done",
);
async function* stuckResource() {
  yield "resource";
  await never();
}
const stuckTeardown = task({ name: "timeout.stuckTeardown", timeout: 0.05 }, async () =>
  use(stuckResource),
);
/** Holds the event loop for `ms`: no timer can fire meanwhile. */
const blocking = task({ name: "timeout.blocking", timeout: 0.05 }, (ms: number) => {
  const until = Date.now() + ms;
  while (Date.now() < until);
  return "done";
});

export function timeoutCases(h: ContractHarness): void {
  describe("timeout", () => {
    it("TO-1 without a timeout there is no time limit", async () => {
      const queue = h.queue();
      const t = noLimit(150);
      expect(t.config.timeout).toBeNull();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const done = await queue.getTask(t);
      expect(done?.status).toBe("completed");
      expect(done?.result).toBe("done");
    });

    it("TO-2 a task over its timeout fails with TaskTimeoutError even if it ignores its signal, and its signal fires", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = ignoresSignal(token, 300);
      await queue.add(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 0, failed: 1 });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.result).toBeNull();
      expect(failed.finishedAt).not.toBeNull();
      expect(failed.error?.type).toBe("TaskTimeoutError");
      expect(failed.error?.message).toBe("Task exceeded timeout of 0.05 seconds");
      const rebuilt = failed.error!.toError();
      expect(rebuilt).toBeInstanceOf(TaskTimeoutError);
      const { aborts } = seen.get(token);
      expect(aborts).toHaveLength(1);
      expect(aborts[0]).toBeInstanceOf(TaskTimeoutError);
    });

    it("TO-2 the timeout is the stored task's, as its retries are: a record made with one is bound by it, whatever the worker's definition says", async () => {
      const queue = h.queue();
      const made = noLimit(2000);
      // As a producer whose definition of the name has a timeout (or an earlier version) stored it.
      const record = { ...made.toJSON(), config: { ...made.config, timeout: 0.05 } };
      const backend = await queue.connect();
      await backend.add(queue.name, [{ ...record, status: "pending" }]);
      await h.worker(queue).work({ oneshot: true });
      const failed = (await queue.getTask(made.id))!;
      expect(failed.status).toBe("failed");
      expect(failed.error?.type).toBe("TaskTimeoutError");
      expect(failed.error?.message).toBe("Task exceeded timeout of 0.05 seconds");
    });

    it("TO-2 a task that honours its signal stops and fails with TaskTimeoutError", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = cooperative(token);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.error?.type).toBe("TaskTimeoutError");
      expect(seen.get(token).aborts[0]).toBeInstanceOf(TaskTimeoutError);
    });

    it("TO-3 a task that finishes within its timeout completes normally; its signal never fires", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const sync = quick(1, 2);
      const async = quickAsync(token);
      await queue.add([sync, async]);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 2, failed: 0 });
      const [a, b] = await queue.getTask([sync, async]);
      expect([a?.status, a?.result]).toEqual(["completed", 3]);
      expect([b?.status, b?.result]).toEqual(["completed", "in time"]);
      await sleep(600); // past the 0.5 s limit: the finished attempt's timer must not fire
      expect(seen.get(token).aborts).toEqual([]);
    });

    it("TO-4 a timed-out task is not retried by default, even with retry > 0", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = timesOutRetriable(token, 300);
      await queue.add(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ failed: 1, retried: 0 });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.retryCount).toBe(0);
      expect(failed.error?.type).toBe("TaskTimeoutError");
      expect(seen.get(token).attempts).toBe(1);
    });

    it("TO-5 with retryOnTimeout a timeout is retried like any failure until retries run out", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = retriesOnTimeout(token, 300);
      await queue.add(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ failed: 1, retried: 1 });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.retryCount).toBe(1);
      expect(failed.error?.type).toBe("TaskTimeoutError");
      expect(seen.get(token).attempts).toBe(2);
    });

    it("TO-5 with retryOnTimeout a timed-out attempt is followed by one that can complete", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = slowOnce(token);
      await queue.add(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 1, retried: 1, failed: 0 });
      const done = (await queue.getTask(t))!;
      expect(done.status).toBe("completed");
      expect(done.retryCount).toBe(1);
      expect(done.result).toBe("attempt 2");
      expect(done.error).toBeNull();
    });

    it("TO-6 the bound covers middleware and dependency teardown, and an attempt that blocked the event loop past it fails when it ends", async () => {
      const queue = h.queue();
      const tasks = [stuckMiddleware(), stuckTeardown(), blocking(300)];
      await queue.add(tasks);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 0, failed: 3 });
      const done = await queue.getTask(tasks);
      expect(done.map((t) => [t?.status, t?.error?.type])).toEqual(
        tasks.map(() => ["failed", "TaskTimeoutError"]),
      );
    });
  });
}
