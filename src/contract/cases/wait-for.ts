/**
 * Waiting for outcomes: `queue.waitFor(task | id | list, { timeout })`. Our
 * design (see `WaitOptions`): timeout in seconds; absent = wait without limit;
 * 0 (or a negative value) = check once; elapsed → `WaitTimeoutError`, never a
 * `null`; a list returns an array aligned with its input.
 */

import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type Clock,
  currentTask,
  type FinishedTaskStatus,
  InvalidOptionError,
  InvalidTaskError,
  Queue,
  type Task,
  TaskNotFoundError,
  task,
  type WaitOptions,
  WaitTimeoutError,
} from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { finishedRecord, settleClaim } from "../support/records.js";

const add = task({ name: "wait-for.add" }, (a: number, b: number) => a + b);
const greet = task({ name: "wait-for.greet" }, async (who: string) => `hello ${who}`);
const boom = task({ name: "wait-for.boom" }, (): number => {
  throw new Error("boom");
});
/** Fails its first attempt, then returns "ok"; the retry is due at once. */
const flaky = task({ name: "wait-for.flaky", retry: 1, retryDelay: 0 }, () => {
  if (currentTask().attempt === 1) throw new Error("transient");
  return "ok";
});
/** Fails its first attempt; the retry is due only after a minute. */
const flakySlow = task({ name: "wait-for.flaky-slow", retry: 1, retryDelay: 60 }, () => {
  if (currentTask().attempt === 1) throw new Error("transient");
  return "ok";
});

/** A clock whose time never moves and whose timers never fire: only a notification can wake a waiter. */
function frozenClock(): Clock {
  const at = Date.now();
  const sleepUntilAborted = (_ms: number, signal?: AbortSignal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      signal?.addEventListener("abort", () => resolve(), { once: true });
    });
  return { now: () => at, setTimer: () => ({ cancel() {} }), sleep: sleepUntilAborted };
}

/** Tracks whether a promise has settled, without handling its outcome. */
function track(promise: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => {
      state.settled = true;
    },
    () => {
      state.settled = true;
    },
  );
  return state;
}

/** Claims `count` of `queue`'s tasks and completes them in one settle, each expiring in a minute. */
async function completeInOneSettle(queue: Queue, count: number): Promise<string[]> {
  const backend = await queue.connect();
  const claims = await backend.claim(queue.name, count);
  return backend.settle(
    queue.name,
    claims.map((c) => ({
      fence: c.fence,
      record: finishedRecord(c.record),
      children: [],
      expiresAt: Date.now() + 60_000,
    })),
    Date.now(),
  );
}

export function waitForCases(h: ContractHarness): void {
  describe("waitFor", () => {
    /** Runs every pending task of `queue` once with a oneshot worker. */
    const drain = async (queue: ReturnType<ContractHarness["queue"]>) =>
      h.worker(queue).work({ oneshot: true });

    it("W-1 resolves with the completed record, by task or by id, with a typed result", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      const waiting = queue.waitFor(t);
      await drain(queue);
      const done = await waiting;
      expectTypeOf(done).toEqualTypeOf<Task<number, FinishedTaskStatus>>();
      expect(done.status).toBe("completed");
      expect(done.result).toBe(3);
      expect(done.finishedAt).toBeInstanceOf(Date);
      const byId = await queue.waitFor(t.id);
      expect(byId.toJSON()).toEqual(done.toJSON());
    });

    it("W-1 resolves with a failed record (error kept) and with a crashed one", async () => {
      const queue = h.queue();
      const failing = boom();
      await queue.add(failing);
      const waiting = queue.waitFor(failing);
      await drain(queue);
      const failed = await waiting;
      expect(failed.status).toBe("failed");
      expect(failed.result).toBeNull();
      expect(failed.error?.message).toBe("boom");

      const crashing = add(2, 2);
      await queue.add(crashing);
      const crashWait = queue.waitFor(crashing);
      const backend = await queue.connect();
      const [claim] = await backend.claim(queue.name, 1);
      await settleClaim(backend, queue.name, claim!, {
        ...claim!.record,
        status: "crashed",
        finishedAt: new Date().toISOString(),
        error: {
          type: "WorkerCrashedError",
          message: "Worker crashed during execution",
          stack: null,
          cause: null,
        },
      });
      const crashed = await crashWait;
      expect(crashed.status).toBe("crashed");
      expect(crashed.error?.type).toBe("WorkerCrashedError");
    });

    it("W-2 / W-5 without a timeout (absent or undefined) it waits until the task finishes", async () => {
      const queue = h.queue();
      const t = add(4, 5);
      await queue.add(t);
      const absent = queue.waitFor(t);
      // Plain JS callers may pass `undefined` explicitly (the type forbids it under exactOptionalPropertyTypes).
      const undef = queue.waitFor(t, { timeout: undefined } as unknown as WaitOptions);
      const tracked = [track(absent), track(undef)];
      await sleep(150);
      expect(tracked.map((s) => s.settled)).toEqual([false, false]);
      await drain(queue);
      expect((await absent).result).toBe(9);
      expect((await undef).result).toBe(9);
    });

    it("waitFor is woken by the completion while the worker keeps running", async () => {
      const queue = h.queue();
      const t = greet("bob");
      await queue.add(t);
      const waiting = queue.waitFor(t);
      const worker = h.worker(queue);
      const running = worker.work();
      const working = track(running);
      const done = await waiting;
      expect(done.result).toBe("hello bob");
      expect(working.settled).toBe(false);
      await worker.close();
      expect((await running).processed).toBe(1);
    });

    h.itIf("blockingWait", "the backend polls for results instead of being notified")(
      "waitFor wakes on the backend's notification, not on a clock tick",
      async () => {
        // Timers of this clock never fire, so a polling or timer-driven wait would hang.
        const queue = h.queue({ clock: frozenClock() });
        const t = add(20, 22);
        await queue.add(t);
        const waiting = queue.waitFor(t, { timeout: 5 });
        await drain(queue);
        const done = await waiting;
        expect(done.status).toBe("completed");
        expect(done.result).toBe(42);
      },
    );

    it("W-3 a positive timeout that elapses throws WaitTimeoutError naming the seconds and the unfinished task", async () => {
      const queue = h.queue();
      const t = add(1, 1);
      await queue.add(t);
      const error = await queue.waitFor(t, { timeout: 0.1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      const timeout = error as WaitTimeoutError;
      expect(timeout.message).toMatch(/^Did not complete within 0\.1 seconds/);
      expect(timeout.timeoutSeconds).toBe(0.1);
      expect(timeout.unfinished).toEqual([t.id]);
      expect((await queue.getTask(t))?.status).toBe("pending");
      // Nothing claimed it: the message asks whether a worker serves the queue.
      expect(timeout.message).toContain(
        `no worker has claimed them — is a worker serving queue '${queue.name}' running (sheppy work)?`,
      );
    });

    it("W-3 a task scheduled for a time that has passed, with no worker to start it, gets the same hint", async () => {
      const queue = h.queue();
      const t = add(2, 2);
      await queue.schedule(t, new Date(Date.now() + 50));
      const error = await queue.waitFor(t, { timeout: 0.3 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      expect((await queue.getTask(t))?.status).toBe("scheduled");
      expect((error as WaitTimeoutError).message).toContain(
        `no worker has claimed them — is a worker serving queue '${queue.name}' running (sheppy work)?`,
      );
    });

    it("W-3 a task waiting for its retry's time: the timeout says when it retries and what it failed of", async () => {
      const queue = h.queue();
      const t = flakySlow();
      await queue.add(t);
      await h.worker(queue, { scheduler: false }).work({ oneshot: true });
      const stored = await queue.getTask(t);
      expect(stored?.status).toBe("retrying");
      const error = await queue.waitFor(t, { timeout: 0.1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      expect((error as WaitTimeoutError).message).toContain(
        `; it is waiting to retry at ${stored!.toJSON().nextRetryAt}, by the queue's clock; its last attempt failed: Error: transient`,
      );
      expect((error as WaitTimeoutError).message).not.toContain("is a worker serving");
    });

    it("W-3 a task put back by workers that do not define it: the timeout names its task, not an idle queue", async () => {
      const queue = h.queue();
      const template = add(1, 1).toJSON();
      const orphan = {
        ...template,
        id: randomUUID(),
        name: "wait-for.defined-nowhere",
        status: "pending" as const,
      };
      expect(await (await queue.connect()).add(queue.name, [orphan])).toEqual([true]);
      await h.worker(queue, { scheduler: false }).work({ oneshot: true });
      const error = await queue.waitFor(orphan.id, { timeout: 0.2 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      expect((error as WaitTimeoutError).message).toContain(
        "; the workers that claimed it do not define task 'wait-for.defined-nowhere': put back for a worker that does, it fails once the unknown-task grace is over (load the module that defines it in the workers)",
      );
    });

    it("W-3 a wait's timeout is real time, whatever clock the queue's tasks see", async () => {
      const clock = new TestClock(Date.parse("2030-01-01T00:00:00Z"));
      const queue = h.queue({ clock });
      const t = add(1, 1);
      await queue.add(t);
      // The test clock does not move: the wait still ends after 0.2 s of real time.
      const started = Date.now();
      await expect(queue.waitFor(t, { timeout: 0.2 })).rejects.toThrow(WaitTimeoutError);
      const waited = Date.now() - started;
      expect(waited).toBeGreaterThanOrEqual(180);
      expect(waited).toBeLessThan(5000);
      // And moving the test clock by hours does not end a wait early.
      const waiting = queue.waitFor(t, { timeout: 2 }).then(
        () => "finished",
        () => "timed out",
      );
      await clock.advance(3 * 3600);
      await h.worker(queue, { clock }).work({ maxTasks: 1 });
      expect(await waiting).toBe("finished");
    });

    it("a signal ends a wait when it aborts, with its reason, leaving the tasks as they are; an aborted one ends it at once; one of the wrong kind is refused", async () => {
      const queue = h.queue();
      const t = add(3, 4);
      await queue.add(t);
      // A client that went away: the wait ends then, long before its timeout.
      const controller = new AbortController();
      const waiting = queue.waitFor(t, { timeout: 60, signal: controller.signal });
      const started = Date.now();
      setTimeout(() => controller.abort(new Error("client gone")), 50);
      await expect(waiting).rejects.toThrow("client gone");
      expect(Date.now() - started).toBeLessThan(30_000);
      expect((await queue.getTask(t))?.status).toBe("pending");
      // Without a timeout too, and by the default reason.
      const again = new AbortController();
      const unbounded = queue.waitFor(t, { signal: again.signal });
      again.abort();
      await expect(unbounded).rejects.toMatchObject({ name: "AbortError" });
      await expect(queue.waitFor(t, { signal: AbortSignal.abort() })).rejects.toMatchObject({
        name: "AbortError",
      });
      await expect(queue.waitFor(t, { signal: "soon" as never })).rejects.toThrow(
        'queue.waitFor(): signal must be an AbortSignal (got "soon")',
      );
      // Not aborted, it changes nothing: the wait ends with the task.
      const kept = new AbortController();
      const finishing = queue.waitFor(t, { timeout: 30, signal: kept.signal });
      await drain(queue);
      expect((await finishing).result).toBe(7);
    });

    it("W-4 / W-5 timeout 0 checks once: a finished record at once, else WaitTimeoutError", async () => {
      const queue = h.queue();
      const [done, open] = [add(1, 0), add(2, 0)];
      await queue.add(done);
      await drain(queue);
      await queue.add(open);
      expect((await queue.waitFor(done, { timeout: 0 })).result).toBe(1);
      await expect(queue.waitFor(open, { timeout: 0 })).rejects.toThrow(WaitTimeoutError);
      expect((await queue.getTask(open))?.status).toBe("pending");
    });

    it("W-4 (decided) a negative timeout is an InvalidOptionError, not read as 0", async () => {
      const queue = h.queue();
      const done = add(1, 0);
      await queue.add(done);
      await drain(queue);
      await expect(queue.waitFor(done, { timeout: -1 })).rejects.toThrow(InvalidOptionError);
      await expect(queue.waitFor(done, { timeout: -1 })).rejects.toThrow(
        "queue.waitFor(): timeout must be a number of seconds ≥ 0 (got -1)",
      );
    });

    it("a timeout that is not a number, or a ref that is not a task, is a clear error", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      await expect(queue.waitFor(t, { timeout: Number.NaN })).rejects.toThrow(InvalidOptionError);
      await expect(queue.waitFor(t, { timeout: "1" as never })).rejects.toThrow(InvalidOptionError);
      await expect(queue.waitFor(null as never)).rejects.toThrow(InvalidTaskError);
      await expect(queue.waitFor([t, 5] as never)).rejects.toThrow(InvalidTaskError);
    });

    it("W-6 an id the queue does not hold looks unfinished: WaitTimeoutError with a timeout, naming it as not held", async () => {
      const queue = h.queue();
      const unknown = "00000000-0000-0000-0000-000000000000";
      const error = await queue.waitFor(unknown, { timeout: 0.05 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      expect((error as WaitTimeoutError).unknown).toEqual([unknown]);
      expect((error as Error).message).toContain(`the queue does not hold ${unknown}`);
      await expect(queue.waitFor(unknown, { timeout: 0 })).rejects.toThrow(WaitTimeoutError);
      // A task added to another queue is unknown here.
      const other = h.queue();
      const t = add(1, 2);
      await other.add(t);
      await drain(other);
      await expect(queue.waitFor(t, { timeout: 0 })).rejects.toThrow(WaitTimeoutError);
    });

    it("a wait without a timeout for an id the queue does not hold fails at once with TaskNotFoundError", async () => {
      const queue = h.queue();
      const unknown = "00000000-0000-0000-0000-000000000000";
      const error = await queue.waitFor(unknown).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TaskNotFoundError);
      expect((error as TaskNotFoundError).taskId).toBe(unknown);
      // In a list, one unknown id is enough: the wait could never end.
      const t = add(1, 1);
      await queue.add(t);
      await drain(queue);
      await expect(queue.waitFor([t, unknown])).rejects.toThrow(TaskNotFoundError);
    });

    it("a wait without a timeout ends with TaskNotFoundError when the task is removed meanwhile", async () => {
      const queue = h.queue();
      const t = add(5, 5);
      await queue.add(t);
      if ((await queue.getTask(t))?.isFinished) return; // processed as it was added: nothing to remove
      const waiting = queue.waitFor(t).catch((e: unknown) => e);
      await sleep(20);
      expect(await queue.clear()).toBe(1);
      expect(await waiting).toBeInstanceOf(TaskNotFoundError);
    });

    /** Resolves once the queue's backend has answered a read of task records (a waiter's first look). */
    const nextRead = async (queue: ReturnType<ContractHarness["queue"]>): Promise<void> => {
      const backend = await queue.connect();
      const read = backend.getTasks.bind(backend);
      return new Promise((resolve) => {
        backend.getTasks = async (...args) => {
          const found = await read(...args);
          backend.getTasks = read;
          resolve();
          return found;
        };
      });
    };

    it("a bounded wait ends at once with TaskNotFoundError when a task it saw is removed, saying so", async () => {
      const queue = h.queue();
      const t = add(6, 6);
      await queue.add(t);
      if ((await queue.getTask(t))?.isFinished) return; // processed as it was added: nothing to remove
      const looked = nextRead(queue);
      // Far longer than the test may run: only noticing the removal ends this wait in time.
      const waiting = queue.waitFor(t, { timeout: 3600 }).catch((e: unknown) => e);
      await looked;
      expect(await queue.clear()).toBe(1);
      const error = await waiting;
      expect(error).toBeInstanceOf(TaskNotFoundError);
      expect((error as Error).message).toContain("removed while waited for");
    });

    it("waiting for more tasks than maxFinished keeps: those deleted before the wait read them end it, named (never the timeout)", async () => {
      const queue = h.queue({ maxFinished: 2 });
      const tasks = [add(1, 0), add(2, 0), add(3, 0), add(4, 0), add(5, 0)];
      await queue.add(tasks);
      if ((await queue.getTask(tasks)).some((r) => r?.isFinished !== false)) return; // run as added
      const looked = nextRead(queue);
      const waiting = queue.waitFor(tasks, { timeout: 3600 }).catch((e: unknown) => e);
      await looked;
      // All five end in one atomic settle, which deletes the three beyond maxFinished.
      expect(await completeInOneSettle(queue, 5)).toEqual(Array(5).fill("settled"));
      const outcome = await waiting;
      // A backend that trims past the bound after the settle commits (PostgreSQL) may let the
      // wait read every record first; either way the wait never sits out its timeout.
      if (Array.isArray(outcome)) {
        expect(outcome.map((t: { status: string }) => t.status)).toEqual(
          Array(5).fill("completed"),
        );
        return;
      }
      expect(outcome).toBeInstanceOf(TaskNotFoundError);
      expect((outcome as Error).message).toMatch(/removed while waited for.*maxFinished/);
      expect(tasks.map((t) => t.id)).toContain((outcome as TaskNotFoundError).taskId);
    });

    it("a task this queue added, gone before the wait first reads it (past maxFinished), ends even a bounded wait at once, named; an id added elsewhere still counts as not added yet", async () => {
      const queue = h.queue({ maxFinished: 2 });
      const tasks = [add(1, 0), add(2, 0), add(3, 0), add(4, 0), add(5, 0)];
      await queue.add(tasks);
      if ((await queue.getTask(tasks)).some((r) => r?.isFinished !== false)) return; // run as added
      await completeInOneSettle(queue, 5);
      const backend = await queue.connect();
      // A settle that finds another trimming leaves it to the sweep (PostgreSQL).
      await backend.pruneExpired(queue.name, Date.now());
      const started = Date.now();
      const outcome = await queue.waitFor(tasks, { timeout: 3600 }).catch((e: unknown) => e);
      expect(outcome).toBeInstanceOf(TaskNotFoundError);
      expect((outcome as Error).message).toMatch(
        /this queue added it, and the queue no longer holds it/,
      );
      expect(tasks.map((t) => t.id)).toContain((outcome as TaskNotFoundError).taskId);
      expect(Date.now() - started).toBeLessThan(60_000);
      // Another queue object of the same queue did not add them: to it they may yet be added. The
      // one the wait named is gone (which three went is the trim's choice: their expiries may tie).
      const gone = (outcome as TaskNotFoundError).taskId;
      const elsewhere = new Queue(queue.backend, { name: queue.name });
      await expect(elsewhere.waitFor(gone, { timeout: 0.2 })).rejects.toThrow(WaitTimeoutError);
    });

    it("a queue whose kept failures fill their bound still hands back every result that comes after them", async () => {
      // The default retention's shape: failures kept far longer than results.
      const queue = h.queue({ maxFinished: 3, maxFailed: 3, ttl: 3600, errorTtl: 7 * 86_400 });
      await queue.add([boom(), boom(), boom(), boom(), boom()]);
      await drain(queue);
      // A settle that finds another trimming leaves it to the next (PostgreSQL): the sweep settles it.
      const backend = await queue.connect();
      await backend.pruneExpired(queue.name, Date.now());
      expect((await queue.stats()).failed).toBe(3);
      for (const n of [1, 2, 3, 4]) {
        const t = add(n, n);
        await queue.add(t);
        await drain(queue);
        const done = await queue.waitFor(t, { timeout: 5 });
        expect([done.status, done.result]).toEqual(["completed", 2 * n]);
      }
      await backend.pruneExpired(queue.name, Date.now());
      const stats = await queue.stats();
      expect([stats.completed, stats.failed]).toEqual([3, 3]);
    });

    it("cancels over maxFailed are trimmed by the next expiry sweep, the soonest-expiring first; results are not touched", async () => {
      const queue = h.queue({ maxFinished: 3, maxFailed: 3, ttl: 3600, errorTtl: 7 * 86_400 });
      const done = add(1, 1);
      await queue.add(done);
      await drain(queue);
      const later = [add(1, 0), add(2, 0), add(3, 0), add(4, 0), add(5, 0), add(6, 0)];
      for (const t of later) {
        await queue.schedule(t, 3600);
        expect((await queue.cancel(t)).status).toBe("cancelled");
      }
      const backend = await queue.connect();
      await backend.pruneExpired(queue.name, Date.now());
      const stats = await queue.stats();
      expect([stats.cancelled, stats.completed]).toEqual([3, 1]);
      const kept = await queue.getTask(later);
      expect(kept.map((t) => t?.status ?? null)).toEqual([
        null,
        null,
        null,
        "cancelled",
        "cancelled",
        "cancelled",
      ]);
    });

    it("W-7 an already finished task returns even with a tiny timeout", async () => {
      const queue = h.queue();
      const t = add(3, 4);
      await queue.add(t);
      await drain(queue);
      const done = await queue.waitFor(t, { timeout: 0.001 });
      expect(done.status).toBe("completed");
      expect(done.result).toBe(7);
    });

    it("W-8 a list returns the finished records as an array aligned with the input (typed tuple)", async () => {
      const queue = h.queue();
      const [t1, t2] = [add(10, 1), greet("ann")];
      await queue.add([t1, t2]);
      const waiting = queue.waitFor([t2, t1.id, t1]);
      await drain(queue);
      const [a, b, c] = await waiting;
      expectTypeOf(a).toEqualTypeOf<Task<string, FinishedTaskStatus>>();
      expectTypeOf(c).toEqualTypeOf<Task<number, FinishedTaskStatus>>();
      expect([a.id, b.id, c.id]).toEqual([t2.id, t1.id, t1.id]);
      expect([a.result, b.result, c.result]).toEqual(["hello ann", 11, 11]);
      expect(await queue.waitFor([])).toEqual([]);
    });

    it("W-8 the timeout covers the whole list: any unfinished task makes it throw, naming only those", async () => {
      const queue = h.queue();
      const [done, open] = [add(1, 1), add(2, 2)];
      await queue.add(done);
      await drain(queue);
      await queue.add(open);
      const error = await queue
        .waitFor([done, open], { timeout: 0.1 })
        .catch((e: unknown) => e as WaitTimeoutError);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      expect((error as WaitTimeoutError).unfinished).toEqual([open.id]);
      await expect(queue.waitFor([done, open], { timeout: 0 })).rejects.toThrow(WaitTimeoutError);
    });

    it("W-9 a duplicated id in a list gives one entry per item, the same record", async () => {
      const queue = h.queue();
      const t = add(5, 5);
      await queue.add(t);
      await drain(queue);
      const found = await queue.waitFor([t, t.id, t], { timeout: 1 });
      expect(found).toHaveLength(3);
      expect(found.map((x) => x.toJSON())).toEqual([t, t, t].map(() => found[0]!.toJSON()));
      expect(found[0]?.result).toBe(10);
    });

    it("W-10 a task waiting for a retry is not finished; waitFor resolves with the final outcome", async () => {
      const queue = h.queue();
      const slow = flakySlow();
      await queue.add(slow);
      await drain(queue);
      expect((await queue.getTask(slow))?.status).toBe("retrying");
      await expect(queue.waitFor(slow, { timeout: 0 })).rejects.toThrow(WaitTimeoutError);

      const quick = flaky();
      await queue.add(quick);
      const waiting = queue.waitFor(quick);
      const worker = h.worker(queue);
      const running = worker.work();
      const done = await waiting;
      await worker.close();
      await running;
      expect(done.status).toBe("completed");
      expect(done.retryCount).toBe(1);
      expect(done.result).toBe("ok");
      expect(done.error).toBeNull();
    });

    it("W-11 after a manual retry waitFor throws until the re-run finishes; the new record differs", async () => {
      const queue = h.queue();
      const t = boom();
      await queue.add(t);
      await drain(queue);
      const first = await queue.waitFor(t, { timeout: 0 });
      expect(first.status).toBe("failed");
      expect(first.lastRetryAt).toBeNull();

      expect(await queue.retry(t)).toBe(true);
      await expect(queue.waitFor(t, { timeout: 0 })).rejects.toThrow(WaitTimeoutError);
      await expect(queue.waitFor(t, { timeout: 0.05 })).rejects.toThrow(WaitTimeoutError);

      await drain(queue);
      const again = await queue.waitFor(t, { timeout: 1 });
      expect(again.id).toBe(t.id);
      expect(again.status).toBe("failed");
      expect(again.lastRetryAt).not.toBeNull();
      expect(again.toJSON()).not.toEqual(first.toJSON());
      expect(again.finishedAt!.getTime()).toBeGreaterThanOrEqual(first.finishedAt!.getTime());
    });

    it("W-12 a cancelled task counts as finished: a waiting waitFor returns it", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      const waiting = queue.waitFor(t);
      await queue.cancel(t);
      const cancelled = await waiting;
      expect(cancelled.status).toBe("cancelled");
      expect(cancelled.result).toBeNull();
      expect((await queue.waitFor(t, { timeout: 0 })).status).toBe("cancelled");
    });

    it("W-13 waitFor consumes and changes nothing; it can be called repeatedly", async () => {
      const queue = h.queue();
      const [done, open] = [add(1, 2), add(3, 4)];
      await queue.add(done);
      await drain(queue);
      await queue.add(open);
      const before = await queue.stats();
      const once = await queue.waitFor(done);
      const twice = await queue.waitFor(done, { timeout: 1 });
      expect(twice.toJSON()).toEqual(once.toJSON());
      await expect(queue.waitFor(open, { timeout: 0.02 })).rejects.toThrow(WaitTimeoutError);
      expect(await queue.stats()).toEqual(before);
      expect((await queue.getTask(done))?.toJSON()).toEqual(once.toJSON());
      expect((await queue.getTask(open))?.status).toBe("pending");
      expect(await queue.size()).toBe(1);
    });

    it("W-14 waiting for 10 tasks one after another while a worker runs returns each completed", async () => {
      const queue = h.queue();
      const tasks = Array.from({ length: 10 }, (_, i) => add(i, 100));
      await queue.add(tasks);
      const worker = h.worker(queue);
      const running = worker.work();
      const results: (number | null)[] = [];
      for (const t of tasks) {
        const done = await queue.waitFor(t, { timeout: 10 });
        expect(done.status).toBe("completed");
        results.push(done.result);
      }
      await worker.close();
      await running;
      expect(results).toEqual(tasks.map((_, i) => i + 100));
    });
  });
}
