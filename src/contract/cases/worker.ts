/**
 * The worker's lifecycle: construction, work({ maxTasks, oneshot }), claim
 * sizes, concurrency, skipping cancelled tasks, the WorkSummary, graceful and
 * forced close, typed events and unknown task names.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  type Backend,
  currentTask,
  InvalidOptionError,
  type Logger,
  type Queue,
  SheppyError,
  Task,
  type TaskData,
  TaskInterruptedError,
  task,
  Worker,
} from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { gate, PerTest, sleep, until } from "../support/until.js";

const add = task({ name: "worker.add" }, (a: number, b: number) => a + b);

const boom = task({ name: "worker.boom" }, (): number => {
  throw new Error("boom");
});

/** Stores, as another process would, a pending record of a task named `name`, which no module here defines. */
async function addUnknown(
  queue: Queue,
  name: string,
  config: Partial<TaskData["config"]> = {},
): Promise<TaskData> {
  const template = add(1, 1).toJSON();
  const unknown: TaskData = {
    ...template,
    id: randomUUID(),
    name,
    status: "pending",
    config: { ...template.config, ...config },
  };
  expect(await (await queue.connect()).add(queue.name, [unknown])).toEqual([true]);
  return unknown;
}

const attempts = new PerTest(() => ({ count: 0 }));
const failOnce = task({ name: "worker.failOnce", retry: 1, retryDelay: 0 }, (token: string) => {
  if (++attempts.get(token).count === 1) throw new Error("transient error");
  return "ok";
});

const slowFailOnce = task(
  { name: "worker.slowFailOnce", retry: 1, retryDelay: 0 },
  async (token: string) => {
    await sleep(5);
    if (++attempts.get(token).count === 1) throw new Error("transient error");
    return "ok";
  },
);

/** Which tasks of a test ran, in order. */
const ran = new PerTest<string[]>(() => []);
const mark = task({ name: "worker.mark" }, (token: string, label: string) => {
  ran.get(token).push(label);
  return label;
});

/** Tasks that hold until the test opens their gate, counting how many run at once. */
const order = new PerTest<number[]>(() => []);
const ordered = task({ name: "worker.ordered" }, (token: string, n: number) => {
  order.get(token).push(n);
  return n;
});

const loads = new PerTest(() => ({
  now: 0,
  max: 0,
  started: 0,
  aborted: [] as unknown[],
  release: gate(),
}));
const hold = task({ name: "worker.hold" }, async (token: string) => {
  const load = loads.get(token);
  load.now++;
  load.started++;
  load.max = Math.max(load.max, load.now);
  try {
    await load.release.opened;
  } finally {
    load.now--;
  }
  return load.started;
});

/** Ignores its AbortSignal (only records that it fired) and holds until released. */
const stubborn = task({ name: "worker.stubborn" }, async (token: string) => {
  const load = loads.get(token);
  load.started++;
  currentTask().signal.addEventListener("abort", (event) => {
    load.aborted.push((event.target as AbortSignal).reason);
  });
  await load.release.opened;
  return "finished anyway";
});

/** Works until its worker begins to stop, then saves and returns: whether `signal` had fired by then. */
const savesOnStop = task({ name: "worker.savesOnStop" }, async (token: string) => {
  const load = loads.get(token);
  load.started++;
  const { stopping, signal } = currentTask();
  await new Promise<void>((resolve) => {
    stopping.addEventListener("abort", () => resolve(), { once: true });
    if (stopping.aborted) resolve();
  });
  return { saved: true, interruptedFirst: signal.aborted };
});

/** Works until its worker begins to stop, then hands its task back (throws the stop's reason); a later attempt returns at once. */
const handsBackOnStop = task({ name: "worker.handsBackOnStop" }, async (token: string) => {
  const load = loads.get(token);
  load.started++;
  if (load.started > 1) return "ran again";
  const { stopping } = currentTask();
  await new Promise<void>((resolve) => {
    stopping.addEventListener("abort", () => resolve(), { once: true });
    if (stopping.aborted) resolve();
  });
  load.aborted.push(stopping.reason);
  stopping.throwIfAborted();
  return "not reached";
});

/** Throws a TaskInterruptedError of its own while no worker stops. */
const throwsInterrupted = task({ name: "worker.throwsInterrupted" }, async () => {
  throw new TaskInterruptedError("thrown by the task itself");
});

/** A logger that keeps what it is told (and keeps test output quiet). */
function capturingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (objOrMsg: object | string, msg?: string): void => {
      lines.push({ level, msg: typeof objOrMsg === "string" ? objOrMsg : (msg ?? "") });
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** Records the limit of every claim made on `backend`, with the worker's running count at that moment. */
function spyClaims(backend: Backend, running: () => number): { limit: number; running: number }[] {
  const calls: { limit: number; running: number }[] = [];
  const original = backend.claim.bind(backend);
  backend.claim = (queue, limit, waitMs) => {
    calls.push({ limit, running: running() });
    return original(queue, limit, waitMs);
  };
  return calls;
}

export function workerCases(h: ContractHarness): void {
  describe("worker", () => {
    it("WK-1 a Worker takes one queue or a list; bad arguments are refused at construction", () => {
      const queue = h.queue();
      const other = h.queue();
      expect(h.worker(queue).queues).toEqual([queue]);
      expect(h.worker([queue, other]).queues).toEqual([queue, other]);
      expect(() => new Worker([])).toThrow(SheppyError);
      expect(() => new Worker([queue, queue])).toThrow(/same queue name/);
      expect(() => new Worker(queue, { concurrency: 0 })).toThrow(InvalidOptionError);
      expect(() => new Worker(queue, { prefetch: 1.5 })).toThrow(InvalidOptionError);
      expect(() => new Worker(queue, { shutdownTimeout: -1 })).toThrow(InvalidOptionError);
    });

    it("WK-1 by default at most 10 tasks run at once", async () => {
      const queue = h.queue();
      const token = randomUUID();
      await queue.add(Array.from({ length: 12 }, () => hold(token)));
      const worker = h.worker(queue);
      const running = worker.work({ oneshot: true });
      const load = loads.get(token);
      await until(() => load.started === 10, { what: "10 tasks started" });
      expect(worker.running).toBe(10);
      expect(await queue.size()).toBe(2);
      load.release.open();
      const summary = await running;
      expect(summary.processed).toBe(12);
      expect(load.max).toBe(10);
    });

    it("WK-2 disabling processing, the scheduler and the cron manager all at once is an error at construction", () => {
      const queue = h.queue();
      expect(
        () => new Worker(queue, { processing: false, scheduler: false, cronManager: false }),
      ).toThrow(InvalidOptionError);
      expect(
        () => new Worker(queue, { processing: false, scheduler: false, cronManager: false }),
      ).toThrow(/processing, scheduler and cron manager are all disabled/);
      expect(() => h.worker(queue, { processing: false, scheduler: false })).not.toThrow();
      expect(() => h.worker(queue, { processing: false, cronManager: false })).not.toThrow();
      expect(() => h.worker(queue, { scheduler: false, cronManager: false })).not.toThrow();
    });

    it("WK-3 a close() while work() is still starting (connecting, checking the backend) ends it, with job processing on or off", async () => {
      for (const processing of [true, false]) {
        const queue = h.queue();
        const worker = h.worker(queue, { processing });
        const running = worker.work();
        await worker.close();
        expect(await running).toMatchObject({ processed: 0 });
      }
    });

    it("WK-3 work() connects the queue's backend itself", async () => {
      const queue = h.queue();
      expect(queue.backend.isConnected).toBe(false);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(queue.backend.isConnected).toBe(true);
      expect(summary.processed).toBe(0);
    });

    it("WK-4 work() can be called again on the same worker after it returns, not while it runs", async () => {
      const queue = h.queue();
      const tasks = [add(1, 1), add(2, 2), add(3, 3)];
      await queue.add(tasks);
      const worker = h.worker(queue);
      for (const t of tasks) {
        const summary = await worker.work({ maxTasks: 1 });
        expect(summary.processed).toBe(1);
        expect((await queue.getTask(t))?.status).toBe("completed");
      }
      const again = worker.work();
      await expect(worker.work()).rejects.toThrow(/already running/);
      await worker.close();
      expect((await again).processed).toBe(0);
      await expect(worker.work({ maxTasks: 0 })).rejects.toThrow(/maxTasks/);
    });

    it("WK-5 work({ maxTasks }) returns once that many tasks were claimed and finished", async () => {
      const queue = h.queue();
      const tasks = [add(1, 0), add(2, 0), add(3, 0)];
      await queue.add(tasks);
      const summary = await h.worker(queue).work({ maxTasks: 2 });
      expect(summary.processed).toBe(2);
      const [first, second, third] = await queue.getTask(tasks);
      expect([first?.status, second?.status, third?.status]).toEqual([
        "completed",
        "completed",
        "pending",
      ]);
      expect([first?.result, second?.result]).toEqual([1, 2]);
      expect(await queue.size()).toBe(1);
    });

    it("WK-5 a worker serving several queues with maxTasks runs that many across them and returns", async () => {
      const queues = [h.queue(), h.queue(), h.queue()];
      for (const [i, queue] of queues.entries()) await queue.add(add(i, 0));
      // Each queue's claim loop shares the budget: the first one must not keep it from the others.
      const summary = await h.worker(queues).work({ maxTasks: 3 });
      expect(summary.processed).toBe(3);
      expect(await Promise.all(queues.map((q) => q.size()))).toEqual([0, 0, 0]);

      for (const queue of queues) await queue.add(add(10, 0));
      expect((await h.worker(queues).work({ maxTasks: 2 })).processed).toBe(2);
      const left = await Promise.all(queues.map((q) => q.size()));
      expect(left.reduce((a, b) => a + b, 0)).toBe(1);
    });

    it("WK-6 a claim never asks for more than the remaining maxTasks", async () => {
      const queue = h.queue();
      await queue.add(Array.from({ length: 6 }, (_, i) => add(i, 0)));
      const worker = h.worker(queue, { concurrency: 4, prefetch: 10 });
      const claims = spyClaims(await queue.connect(), () => worker.running);
      const summary = await worker.work({ maxTasks: 3 });
      expect(summary.processed).toBe(3);
      expect(claims[0]?.limit).toBe(3);
      expect(claims.every((c) => c.limit <= 3)).toBe(true);
      expect(await queue.size()).toBe(3);
    });

    it("WK-6 a claim never asks for more than the prefetch", async () => {
      const queue = h.queue();
      await queue.add(Array.from({ length: 5 }, (_, i) => add(i, 0)));
      const worker = h.worker(queue, { concurrency: 4, prefetch: 2 });
      const claims = spyClaims(await queue.connect(), () => worker.running);
      const summary = await worker.work({ oneshot: true });
      expect(summary.processed).toBe(5);
      expect(claims[0]?.limit).toBe(2);
      expect(claims.every((c) => c.limit <= 2)).toBe(true);
    });

    it("WK-6 a claim never asks for more than the free slots", async () => {
      const queue = h.queue();
      const token = randomUUID();
      await queue.add(Array.from({ length: 5 }, () => hold(token)));
      const worker = h.worker(queue, { concurrency: 2, prefetch: 10 });
      const claims = spyClaims(await queue.connect(), () => worker.running);
      const running = worker.work({ oneshot: true });
      const load = loads.get(token);
      await until(() => load.started === 2, { what: "2 tasks started" });
      // Both slots are taken: no further claim is made until one frees up.
      await sleep(50);
      expect(claims.map((c) => c.limit)).toEqual([2]);
      load.release.open();
      expect((await running).processed).toBe(5);
      expect(claims.length).toBeGreaterThan(1);
      for (const claim of claims) expect(claim.limit).toBeLessThanOrEqual(2 - claim.running);
    });

    it("WK-7 maxTasks 1 with only a not-yet-due scheduled task waits for it, runs it and returns", async () => {
      const queue = h.queue();
      const t = add(20, 22);
      await queue.schedule(t, 0.2);
      const summary = await h.worker(queue).work({ maxTasks: 1 });
      expect(summary.processed).toBe(1);
      const done = await queue.getTask(t);
      expect(done?.status).toBe("completed");
      expect(done?.result).toBe(42);
      expect(done!.startedAt!.getTime()).toBeGreaterThanOrEqual(done!.scheduledAt!.getTime());
    });

    it("WK-8 oneshot returns once the queue is empty; tasks scheduled for later do not keep it running", async () => {
      const queue = h.queue();
      const later = add(9, 9);
      await queue.add([add(1, 1), add(2, 2)]);
      await queue.schedule(later, 60);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary.processed).toBe(2);
      expect((await queue.getTask(later))?.status).toBe("scheduled");
      expect((await queue.getScheduled()).map((t) => t.id)).toEqual([later.id]);
    });

    it("WK-8 oneshot runs a failing task once and returns", async () => {
      const queue = h.queue();
      const t = boom();
      await queue.add(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 0, failed: 1, retried: 0 });
      expect((await queue.getTask(t))?.status).toBe("failed");
    });

    it("WK-8 oneshot does not miss a retry re-queued while an empty claim was on its way back", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = slowFailOnce(token);
      await queue.add(t);
      const backend = await queue.connect();
      const claim = backend.claim.bind(backend);
      // Empty claims come back late, so the attempt lands while the claim is out.
      backend.claim = async (name, limit, waitMs) => {
        const claimed = await claim(name, limit, waitMs);
        if (claimed.length === 0) await sleep(100);
        return claimed;
      };
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 1, retried: 1, failed: 0 });
      expect(attempts.get(token).count).toBe(2);
      expect((await queue.getTask(t))?.status).toBe("completed");
    });

    it("WK-8 / C-3 oneshot on a queue holding only a cancelled task runs nothing and returns", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = mark(token, "cancelled");
      await queue.add(t);
      await queue.cancel(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toEqual({
        processed: 0,
        failed: 0,
        retried: 0,
        reclaimed: 0,
        interrupted: 0,
        handedBack: 0,
      });
      expect(ran.get(token)).toEqual([]);
      const stored = await queue.getTask(t);
      expect(stored?.status).toBe("cancelled");
      expect(stored?.result).toBeNull();
    });

    it("WK-9 one worker serves several queues and processes tasks from each", async () => {
      const queues = [h.queue(), h.queue(), h.queue()];
      const tasks = queues.map((_, i) => add(i, 10));
      for (const [i, queue] of queues.entries()) await queue.add(tasks[i]!);
      const summary = await h.worker(queues).work({ oneshot: true });
      expect(summary.processed).toBe(3);
      for (const [i, queue] of queues.entries()) {
        const done = await queue.getTask(tasks[i]!);
        expect(done?.status).toBe("completed");
        expect(done?.result).toBe(i + 10);
        expect(await queue.size()).toBe(0);
      }
    });

    it("WK-10 at most `concurrency` tasks run at once", async () => {
      const queue = h.queue();
      const token = randomUUID();
      await queue.add(Array.from({ length: 8 }, () => hold(token)));
      const worker = h.worker(queue, { concurrency: 3 });
      const running = worker.work({ oneshot: true });
      const load = loads.get(token);
      await until(() => load.started === 3, { what: "3 tasks started" });
      await sleep(50);
      expect(load.started).toBe(3);
      expect(worker.running).toBe(3);
      load.release.open();
      expect((await running).processed).toBe(8);
      expect(load.max).toBe(3);
    });

    it("WK-11 a cancelled (or cancelled and deleted) pending task is never executed", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const [first, cancelled, deleted, last] = ["first", "cancelled", "deleted", "last"].map(
        (label) => mark(token, label),
      ) as [Task<string>, Task<string>, Task<string>, Task<string>];
      await queue.add([first, cancelled, deleted, last]);
      await queue.cancel(cancelled);
      await queue.cancel(deleted);
      expect(await queue.delete(deleted)).toBe(true);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary.processed).toBe(2);
      expect(ran.get(token)).toEqual(["first", "last"]);
      expect((await queue.getTask(cancelled))?.status).toBe("cancelled");
      expect(await queue.getTask(deleted)).toBeNull();
    });

    it("WK-14 work() returns a WorkSummary of what it did", async () => {
      const queue = h.queue();
      await queue.add([add(1, 2), add(3, 4), boom(), failOnce(randomUUID())]);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toEqual({
        processed: 3,
        failed: 1,
        retried: 1,
        reclaimed: 0,
        interrupted: 0,
        handedBack: 0,
      });
    });

    it("WK-16 close() stops claiming and lets running tasks finish within shutdownTimeout", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const running = hold(token);
      const waiting = add(1, 1);
      await queue.add([running]);
      const worker = h.worker(queue, { concurrency: 1 });
      const working = worker.work();
      const load = loads.get(token);
      await until(() => load.started === 1, { what: "task started" });
      await queue.add(waiting);
      let closed = false;
      const closing = worker.close().then(() => {
        closed = true;
      });
      await sleep(50);
      expect(closed).toBe(false);
      load.release.open();
      await closing;
      const summary = await working;
      expect(summary).toMatchObject({ processed: 1, interrupted: 0 });
      expect((await queue.getTask(running))?.status).toBe("completed");
      expect(load.aborted).toEqual([]);
      expect((await queue.getTask(waiting))?.status).toBe("pending");
    });

    it("WK-16 an idle worker's close() does not sit out its wait for work, on one queue or several", async () => {
      for (const queues of [[h.queue()], [h.queue(), h.queue()]]) {
        const worker = h.worker(queues, { claimWait: 20 });
        const working = worker.work();
        // Started and waiting for work: a task added now runs.
        const first = add(2, 3);
        await queues[0]!.add(first);
        await until(async () => (await queues[0]!.getTask(first))?.status === "completed", {
          what: "a task run by the idle worker",
        });
        await sleep(100);
        const startedAt = Date.now();
        await worker.close();
        await working;
        // Far inside the 20 s wait: the close ended it.
        expect(Date.now() - startedAt).toBeLessThan(10_000);
        const after = add(1, 1);
        await queues[0]!.add(after);
        await sleep(50);
        expect((await queues[0]!.getTask(after))?.status).toBe("pending");
      }
    });

    it("worker.pause() stops this worker's claims until resume(): its running task finishes, tasks added meanwhile wait (other workers run them), and a claim waiting for work stops waiting", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const running = hold(token);
      await queue.add(running);
      // A long wait for work: a pause must end it, not sit it out.
      const worker = h.worker(queue, { concurrency: 2, claimWait: 20 });
      const working = worker.work();
      const load = loads.get(token);
      await until(() => load.started === 1, { what: "task started" });
      await worker.pause();
      await worker.pause();
      expect(worker.isPaused).toBe(true);
      expect(worker.health()).toMatchObject({ status: "ok", paused: true, running: 1 });
      const whilePaused = add(1, 2);
      await queue.add(whilePaused);
      load.release.open();
      await until(async () => (await queue.getTask(running))?.status === "completed", {
        what: "the running task's outcome stored while paused",
      });
      await sleep(300);
      expect((await queue.getTask(whilePaused))?.status).toBe("pending");
      // Another worker is not paused by this one.
      expect(await h.worker(h.sibling(queue)).work({ oneshot: true })).toMatchObject({
        processed: 1,
      });
      const afterResume = add(3, 4);
      await queue.add(afterResume);
      await sleep(200);
      expect((await queue.getTask(afterResume))?.status).toBe("pending");
      const resumedAt = Date.now();
      worker.resume();
      expect(worker.isPaused).toBe(false);
      await until(async () => (await queue.getTask(afterResume))?.status === "completed", {
        what: "a task run once resumed",
      });
      // Far inside the 20 s wait: the resumed worker claimed at once.
      expect(Date.now() - resumedAt).toBeLessThan(10_000);
      await worker.close();
      expect(await working).toMatchObject({ processed: 2 });
    });

    it("worker.pause() ends an idle worker's wait for work and resolves once it has: tasks added from then on are not claimed and handed back, so they keep their order", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const worker = h.worker(queue, { concurrency: 1, claimWait: 20 });
      const working = worker.work();
      await queue.add(add(0, 0));
      await until(async () => (await queue.stats()).completed === 1, { what: "a first task" });
      // Now waiting for work, for up to 20 s.
      await sleep(100);
      // Resolves once the wait has ended: no claim of this worker is out any more.
      await worker.pause();
      const made = [1, 2, 3].map((n) => ordered(token, n));
      for (const t of made) await queue.add(t);
      await sleep(300);
      expect((await queue.getPending(10)).map((t) => t.id)).toEqual(made.map((t) => t.id));
      worker.resume();
      await until(async () => (await queue.stats()).completed === 4, { what: "the three run" });
      expect(order.get(token)).toEqual([1, 2, 3]);
      await worker.close();
      await working;
    });

    h.itIf("leases", "a backend without leases has no claims to take over")(
      "a worker with a short lease leaves a live worker's task alone: a takeover waits for the holder's own (longer) lease",
      async () => {
        const queue = h.queue();
        const token = randomUUID();
        const running = hold(token);
        await queue.add(running);
        // The holder renews every 5 s (the default), so its claim goes 3 s unrenewed: well past
        // the hasty worker's lease and confirmation window (0.3 s + 1.15 s), within the holder's.
        const holder = h.worker(queue, { concurrency: 1 });
        const holding = holder.work();
        const load = loads.get(token);
        await until(() => load.started === 1, { what: "task started" });
        const hasty = h.worker(h.sibling(queue), {
          leaseTimeout: 0.3,
          heartbeatInterval: 0.1,
          reclaimInterval: 0.1,
        });
        const watching = hasty.work();
        await sleep(3000);
        load.release.open();
        await until(async () => (await queue.getTask(running))?.status === "completed", {
          what: "the holder's task completed",
        });
        await Promise.all([hasty.close(), holder.close()]);
        expect((await watching).reclaimed).toBe(0);
        expect(await holding).toMatchObject({ processed: 1 });
        expect(load.started).toBe(1);
      },
      20_000,
    );

    it("WK-16 queue.close() while a worker runs on it closes the worker first: its running task finishes and is stored before the backend disconnects", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const running = hold(token);
      const waiting = add(2, 2);
      await queue.add(running);
      const worker = h.worker(queue, { concurrency: 1 });
      const working = worker.work();
      const load = loads.get(token);
      await until(() => load.started === 1, { what: "task started" });
      await queue.add(waiting);
      // What the store holds when the disconnect comes (an in-memory store keeps nothing after it).
      const backend = queue.backend;
      const disconnect = backend.disconnect.bind(backend);
      let atDisconnect: (string | undefined)[] = [];
      Object.assign(backend, {
        disconnect: async () => {
          atDisconnect = [
            (await queue.getTask(running))?.status,
            (await queue.getTask(waiting))?.status,
          ];
          await disconnect();
        },
      });
      let closed = false;
      const closing = queue.close().then(() => {
        closed = true;
      });
      await sleep(50);
      expect(closed).toBe(false);
      load.release.open();
      await closing;
      expect(await working).toMatchObject({ processed: 1, interrupted: 0 });
      expect(atDisconnect).toEqual(["completed", "pending"]);
      expect(backend.isConnected).toBe(false);
      expect(load.aborted).toEqual([]);
    });

    it("WK-19 after shutdownTimeout a task that ignores its signal is interrupted, its signal fires, and it is put back to pending", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = stubborn(token);
      await queue.add(t);
      const logger = capturingLogger();
      const worker = h.worker(queue, { shutdownTimeout: 0.1, logger });
      const interrupted: string[] = [];
      worker.on("task:interrupted", ({ task: it }) => interrupted.push(it.id));
      const working = worker.work();
      const load = loads.get(token);
      try {
        await until(() => load.started === 1, { what: "task started" });
        await worker.close();
        const summary = await working;
        expect(summary).toMatchObject({ processed: 0, failed: 0, interrupted: 1 });
        expect(load.aborted).toHaveLength(1);
        expect(load.aborted[0]).toBeInstanceOf(TaskInterruptedError);
        expect(interrupted).toEqual([t.id]);
        expect(logger.lines).toContainEqual({
          level: "warn",
          msg: expect.stringMatching(/interrupted/),
        });
        const stored = await queue.getTask(t);
        expect(stored?.status).toBe("pending");
        expect(stored?.result).toBeNull();
        expect(stored?.retryCount).toBe(0);
        expect(await queue.size()).toBe(1);
      } finally {
        load.release.open();
      }
    });

    it("a running task hears its worker begin to stop (currentTask().stopping) when close() is called, not when the shutdown timeout ends, and may finish within it", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = savesOnStop(token);
      await queue.add(t);
      // Longer than the test may take: a task that only heard of the stop at the timeout fails it.
      const worker = h.worker(queue, { shutdownTimeout: 60 });
      const working = worker.work();
      const load = loads.get(token);
      await until(() => load.started === 1, { what: "task started" });
      await worker.close();
      expect(await working).toMatchObject({ processed: 1, interrupted: 0 });
      const stored = await queue.getTask(t);
      expect([stored?.status, stored?.result]).toEqual([
        "completed",
        { saved: true, interruptedFirst: false },
      ]);
    });

    it("a running task that throws its stopping signal's reason is put back in the queue at once, pending and no attempt spent, without waiting for the shutdown timeout", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = handsBackOnStop(token);
      await queue.add(t);
      // Longer than the test may take: a task put back only at the timeout fails it.
      const worker = h.worker(queue, { shutdownTimeout: 60, logger: capturingLogger() });
      const working = worker.work();
      const load = loads.get(token);
      await until(() => load.started === 1, { what: "task started" });
      await worker.close();
      expect(await working).toMatchObject({ processed: 0, interrupted: 0, handedBack: 1 });
      expect(load.aborted).toHaveLength(1);
      expect(load.aborted[0]).toBeInstanceOf(TaskInterruptedError);
      const stored = await queue.getTask(t);
      expect([stored?.status, stored?.retryCount, stored?.error]).toEqual(["pending", 0, null]);
      expect(await queue.size()).toBe(1);
      // The next worker runs it as a first attempt.
      const next = h.worker(queue, { logger: capturingLogger() });
      expect(await next.work({ maxTasks: 1 })).toMatchObject({ processed: 1, handedBack: 0 });
      const done = await queue.getTask(t);
      expect([done?.status, done?.result, done?.retryCount]).toEqual(["completed", "ran again", 0]);
    });

    it("a task that throws a TaskInterruptedError while its worker is not stopping fails as with any error", async () => {
      const queue = h.queue();
      const t = throwsInterrupted();
      await queue.add(t);
      const worker = h.worker(queue, { logger: capturingLogger() });
      expect(await worker.work({ maxTasks: 1 })).toMatchObject({ failed: 1, handedBack: 0 });
      const stored = await queue.getTask(t);
      expect([stored?.status, stored?.error?.type]).toEqual(["failed", "TaskInterruptedError"]);
    });

    it("WK-19 a run that has started its maxTasks still honours close(): its last tasks get shutdownTimeout, then are interrupted; force interrupts at once", async () => {
      for (const force of [false, true]) {
        const queue = h.queue();
        const token = randomUUID();
        const t = stubborn(token);
        await queue.add(t);
        const worker = h.worker(queue, {
          shutdownTimeout: force ? 30 : 0.1,
          logger: capturingLogger(),
        });
        const working = worker.work({ maxTasks: 1 });
        const load = loads.get(token);
        try {
          await until(() => load.started === 1, { what: "the last task allowed started" });
          await worker.close(force ? { force: true } : {});
          const summary = await working;
          expect(summary).toMatchObject({ processed: 0, interrupted: 1 });
          expect(load.aborted).toHaveLength(1);
          expect(load.aborted[0]).toBeInstanceOf(TaskInterruptedError);
          expect((await queue.getTask(t))?.status).toBe("pending");
        } finally {
          load.release.open();
        }
      }
    });

    it("WK-20 close({ force: true }) interrupts running tasks at once and puts them back", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = stubborn(token);
      await queue.add(t);
      // Default shutdownTimeout (30 s): only force ends this within the test's time.
      const worker = h.worker(queue, { logger: capturingLogger() });
      const working = worker.work();
      const load = loads.get(token);
      try {
        await until(() => load.started === 1, { what: "task started" });
        await worker.close({ force: true });
        expect((await working).interrupted).toBe(1);
        expect(load.aborted[0]).toBeInstanceOf(TaskInterruptedError);
        expect((await queue.getTask(t))?.status).toBe("pending");
      } finally {
        load.release.open();
      }
    });

    it("events task:started / completed / failed / retrying carry { queue, task }", async () => {
      const queue = h.queue();
      const ok = add(1, 2);
      const bad = boom();
      const flaky = failOnce(randomUUID());
      await queue.add([ok, bad, flaky]);
      const worker = h.worker(queue);
      const seen: { event: string; queue: string; id: string; status: string }[] = [];
      for (const event of [
        "task:started",
        "task:completed",
        "task:failed",
        "task:retrying",
      ] as const) {
        worker.on(event, (payload: { queue: string; task: Task }) => {
          expect(payload.task).toBeInstanceOf(Task);
          seen.push({
            event,
            queue: payload.queue,
            id: payload.task.id,
            status: payload.task.status,
          });
        });
      }
      await worker.work({ oneshot: true });
      expect(seen.every((e) => e.queue === queue.name)).toBe(true);
      const of = (id: string) =>
        seen.filter((e) => e.id === id).map((e) => `${e.event}=${e.status}`);
      expect(of(ok.id)).toEqual(["task:started=processing", "task:completed=completed"]);
      expect(of(bad.id)).toEqual(["task:started=processing", "task:failed=failed"]);
      expect(of(flaky.id)).toEqual([
        "task:started=processing",
        "task:retrying=retrying",
        "task:started=processing",
        "task:completed=completed",
      ]);
    });

    it("T-18 with unknownTaskGrace 0, a record whose name no definition has fails with UnknownTaskError (never retried) and the worker goes on", async () => {
      const queue = h.queue();
      const unknown = await addUnknown(queue, "worker.nope", { retry: 3, retryDelay: 0 });
      const next = add(2, 3);
      await queue.add(next);
      const summary = await h.worker(queue, { unknownTaskGrace: 0 }).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 1, failed: 1, retried: 0 });
      const failed = await queue.getTask(unknown.id);
      expect(failed?.status).toBe("failed");
      expect(failed?.retryCount).toBe(0);
      expect(failed?.error?.type).toBe("UnknownTaskError");
      expect(failed?.error?.message).toMatch(/worker\.nope/);
      expect((await queue.getTask(next))?.result).toBe(5);
    });

    it("T-18 by default a task of a name unknown here is put back for a worker that knows it, not failed, and not counted as an attempt", async () => {
      const queue = h.queue();
      const unknown = await addUnknown(queue, "worker.from-a-newer-deploy");
      const deferred: string[] = [];
      const worker = h.worker(queue, { scheduler: false });
      worker.on("task:deferred", ({ task }) => deferred.push(task.id));
      const summary = await worker.work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 0, failed: 0 });
      expect(deferred).toEqual([unknown.id]);
      const put = await queue.getTask(unknown.id);
      expect(put?.status).toBe("scheduled");
      expect(put?.retryCount).toBe(0);
      expect(put?.error).toBeNull();
      expect(put?.scheduledAt).not.toBeNull();
    });

    it("T-18 the grace counts from the task's first put-back by any worker: a worker started later (a restart, a deploy) does not count it from zero", async () => {
      const queue = h.queue();
      const unknown = await addUnknown(queue, "worker.gone-for-good");
      // The first worker puts it back (a second later) and the record keeps since when.
      await h.worker(queue, { scheduler: false }).work({ oneshot: true });
      const put = await queue.getTask(unknown.id);
      expect(put?.status).toBe("scheduled");
      const since = put?.meta["sheppy.unknownSince"];
      expect(typeof since).toBe("string");
      expect(Math.abs(Date.parse(since as string) - Date.now())).toBeLessThan(60_000);

      // A worker started afterwards with a shorter grace finds it over at its first claim.
      const later = h.worker(queue, { unknownTaskGrace: 0.3, schedulerInterval: 0.05 });
      const deferred: string[] = [];
      later.on("task:deferred", ({ task }) => deferred.push(task.id));
      const working = later.work();
      const finished = await queue.waitFor(unknown.id, { timeout: 10 });
      await later.close();
      await working;
      expect(finished.status).toBe("failed");
      expect(finished.error?.type).toBe("UnknownTaskError");
      expect(deferred).toEqual([]);
      // Run again by hand, it gets a whole grace anew.
      expect(await queue.retry(unknown.id)).toBe(true);
      expect((await queue.getTask(unknown.id))?.meta["sheppy.unknownSince"]).toBeUndefined();
    });

    it("T-18 a task still unknown when the grace is over fails with UnknownTaskError", async () => {
      const queue = h.queue();
      const unknown = await addUnknown(queue, "worker.never-defined");
      const worker = h.worker(queue, { unknownTaskGrace: 0.3, schedulerInterval: 0.05 });
      const working = worker.work();
      const finished = await queue.waitFor(unknown.id, { timeout: 10 });
      await worker.close();
      await working;
      expect(finished.status).toBe("failed");
      expect(finished.error?.type).toBe("UnknownTaskError");
      expect(finished.retryCount).toBe(0);
    });
  });
}
