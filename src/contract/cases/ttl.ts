/**
 * Retention of finished records: `ttl` (completed) and `errorTtl` (failed,
 * crashed, cancelled) per task, with the backend's defaults behind them; the
 * clock starts when the finished record is stored; `null` keeps it forever.
 * An expired record is gone from every read, and pruning keeps counts exact.
 * A `TestClock` moves time, so no test waits for a TTL — except the one
 * real-clock test.
 */

import { describe, expect, it } from "vitest";
import type { Queue, Task } from "../../index.js";
import { task, WaitTimeoutError } from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { until } from "../support/until.js";

const START = Date.parse("2030-01-01T00:00:00Z");

const echo = (label: string) => label;
const throwIt = (label: string): string => {
  throw new Error(label);
};
const inherit = task({ name: "ttl.inherit" }, echo);
const keepForever = task({ name: "ttl.keep-forever", ttl: null }, echo);
const fiveSeconds = task({ name: "ttl.five-seconds", ttl: 5 }, echo);
const completedErrorTtl2 = task({ name: "ttl.completed-error-ttl-2", errorTtl: 2 }, echo);
const fail = task({ name: "ttl.fail" }, throwIt);
const failTtl5 = task({ name: "ttl.fail-ttl-5", ttl: 5 }, throwIt);
const failTtl5ErrorTtl2 = task(
  { name: "ttl.fail-ttl-5-error-ttl-2", ttl: 5, errorTtl: 2 },
  throwIt,
);
const failTtlNull = task({ name: "ttl.fail-ttl-null", ttl: null }, throwIt);
const failErrorTtlNull = task({ name: "ttl.fail-error-ttl-null", errorTtl: null }, throwIt);
const failThenRetry = task({ name: "ttl.fail-then-retry", retry: 1, retryDelay: 3600 }, throwIt);

/** Adds `tasks` and runs them to their outcome on `clock` (stored at the clock's current time). */
async function finish(h: ContractHarness, queue: Queue, clock: TestClock, tasks: Task[]) {
  await queue.add(tasks);
  await h.worker(queue, { clock }).work({ maxTasks: tasks.length });
}

/** Which of `tasks` the queue still returns. */
async function present(queue: Queue, tasks: readonly Task[]): Promise<boolean[]> {
  return (await queue.getTask(tasks)).map((t) => t !== null);
}

export function ttlCases(h: ContractHarness): void {
  describe("retention (ttl)", () => {
    it("TTL-10 a completed record is gone once its TTL has passed (task ttl, else the backend's); a null TTL keeps it", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock, ttl: 10 });
      const [inherited, kept, short] = [inherit("i"), keepForever("k"), fiveSeconds("s")];
      await finish(h, queue, clock, [inherited, kept, short]);
      const all = [inherited, kept, short];
      expect((await queue.getTask(all)).map((t) => t?.status)).toEqual(Array(3).fill("completed"));

      await clock.advanceTo(START + 4999);
      expect(await present(queue, all)).toEqual([true, true, true]);
      await clock.advanceTo(START + 5000);
      expect(await present(queue, all)).toEqual([true, true, false]);
      await clock.advanceTo(START + 9999);
      expect(await present(queue, all)).toEqual([true, true, false]);
      await clock.advanceTo(START + 10_000);
      // Gone from every read: single and batch getTask, getAllTasks, waitFor, stats.
      expect(await queue.getTask(inherited)).toBeNull();
      expect(await present(queue, all)).toEqual([false, true, false]);
      expect((await queue.getAllTasks()).map((t) => t.id)).toEqual([kept.id]);
      await expect(queue.waitFor(inherited, { timeout: 0 })).rejects.toThrow(WaitTimeoutError);
      expect((await queue.waitFor(kept, { timeout: 0 })).result).toBe("k");
      expect(await queue.delete(inherited)).toBe(false);
      expect(await queue.retry(inherited)).toBe(false);
      expect(await queue.stats()).toMatchObject({ completed: 1 });

      await clock.advance(10 * 365 * 24 * 3600);
      expect(await present(queue, all)).toEqual([false, true, false]);
    });

    it("TTL-13 an id is free again once its record has expired, before any sweep deletes it", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock, ttl: 5 });
      const first = inherit("first");
      await queue.add(inherit("keyed"), { id: "ttl-13" });
      await finish(h, queue, clock, [first]);
      await h.worker(queue, { clock }).work({ maxTasks: 1 });
      // Still held while the records are there to read.
      expect(await queue.add(first)).toBe(false);
      expect(await queue.add(inherit("keyed again"), { id: "ttl-13" })).toEqual({
        outcome: "ignored",
        id: "ttl-13",
      });
      await clock.advanceTo(START + 5000);
      expect(await queue.add(first)).toBe(true);
      expect(await queue.add(inherit("keyed again"), { id: "ttl-13" })).toEqual({
        outcome: "added",
        id: "ttl-13",
      });
      expect((await queue.getTask(first))?.status).toBe("pending");
      expect((await queue.getTask("ttl-13"))?.args).toEqual(["keyed again"]);
      expect(await queue.stats()).toMatchObject({ pending: 2, completed: 0 });
    });

    it("TTL-4 / TTL-5 / C-12 failed and cancelled records follow errorTtl → ttl → backend errorTtl → backend ttl", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock, ttl: 100, errorTtl: 10 });
      const tasks = [
        fail("backend errorTtl → 10 s"),
        failTtl5("task ttl → 5 s"),
        failTtl5ErrorTtl2("task errorTtl → 2 s"),
        failTtlNull("task ttl null → forever"),
        failErrorTtlNull("task errorTtl null → forever"),
        completedErrorTtl2("completed: errorTtl ignored → backend ttl 100 s"),
      ];
      await finish(h, queue, clock, tasks);
      const cancelled = inherit("cancelled → backend errorTtl 10 s");
      await queue.add(cancelled);
      expect((await queue.cancel(cancelled)).status).toBe("cancelled");
      const all = [...tasks, cancelled];
      expect((await queue.getTask(all)).map((t) => t?.status)).toEqual([
        "failed",
        "failed",
        "failed",
        "failed",
        "failed",
        "completed",
        "cancelled",
      ]);

      const at = async (seconds: number) => {
        await clock.advanceTo(START + seconds * 1000);
        return present(queue, all);
      };
      expect(await at(1.999)).toEqual([true, true, true, true, true, true, true]);
      expect(await at(2)).toEqual([true, true, false, true, true, true, true]);
      expect(await at(5)).toEqual([true, false, false, true, true, true, true]);
      expect(await at(9.999)).toEqual([true, false, false, true, true, true, true]);
      expect(await at(10)).toEqual([false, false, false, true, true, true, false]);
      expect(await at(99.999)).toEqual([false, false, false, true, true, true, false]);
      expect(await at(100)).toEqual([false, false, false, true, true, false, false]);
      expect(await at(1_000_000)).toEqual([false, false, false, true, true, false, false]);
      expect(await queue.stats()).toMatchObject({ failed: 2, completed: 0, cancelled: 0 });
    });

    it("TTL-4 / TTL-6 a backend errorTtl inherits its ttl; a null backend ttl keeps everything not told otherwise", async () => {
      const clock = new TestClock(START);
      const inheriting = h.queue({ clock, ttl: 30 });
      const forever = h.queue({ clock, ttl: null });
      const errorsOnly = h.queue({ clock, ttl: null, errorTtl: 3 });
      const runs = await Promise.all(
        [inheriting, forever, errorsOnly].map(async (queue) => {
          const pair = [inherit("done"), fail("failed")];
          await finish(h, queue, clock, pair);
          return { queue, pair };
        }),
      );
      const check = async () => Promise.all(runs.map(({ queue, pair }) => present(queue, pair)));
      await clock.advanceTo(START + 2999);
      expect(await check()).toEqual([
        [true, true],
        [true, true],
        [true, true],
      ]);
      await clock.advanceTo(START + 3000);
      expect(await check()).toEqual([
        [true, true],
        [true, true],
        [true, false],
      ]);
      await clock.advanceTo(START + 30_000);
      expect(await check()).toEqual([
        [false, false],
        [true, true],
        [true, false],
      ]);
    });

    it("TTL-1 / TTL-2 unfinished records never expire: pending, scheduled, retrying", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock, ttl: 1, errorTtl: 1 });
      const retrying = failThenRetry("once");
      await finish(h, queue, clock, [retrying]);
      const pending = inherit("pending");
      const scheduled = inherit("scheduled");
      await queue.add(pending);
      await queue.schedule(scheduled, 3 * 3600);
      await clock.advance(3600);
      const stored = await queue.getTask([pending, scheduled, retrying]);
      expect(stored.map((t) => t?.status)).toEqual(["pending", "scheduled", "retrying"]);
      expect(stored[2]?.finishedAt).toBeNull();
    });

    it("TTL-12 a finished record re-queued by a retry loses its expiry; the next outcome's clock starts when it is stored", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock, ttl: 10 });
      const [failed, done] = [fail("again"), inherit("again")];
      await finish(h, queue, clock, [failed, done]);
      await clock.advance(5);
      expect(await queue.retry(failed)).toBe(true);
      expect(await queue.retry(done, { force: true, at: 3600 })).toBe(true);
      await clock.advance(20);
      expect((await queue.getTask([failed, done])).map((t) => t?.status)).toEqual([
        "pending",
        "scheduled",
      ]);
      // Run the failed one again at 25 s: its new record expires 10 s after it is stored.
      await h.worker(queue, { clock }).work({ maxTasks: 1 });
      expect((await queue.getTask(failed))?.finishedAt?.getTime()).toBe(START + 25_000);
      await clock.advanceTo(START + 34_999);
      expect(await present(queue, [failed, done])).toEqual([true, true]);
      await clock.advanceTo(START + 35_000);
      expect(await present(queue, [failed, done])).toEqual([false, true]);
    });

    it("TTL-12 pruneExpired deletes expired records once and keeps counts and listings exact", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock, ttl: 10 });
      const expiring = [inherit("a"), inherit("b"), fail("c")];
      const kept = keepForever("d");
      await finish(h, queue, clock, [...expiring, kept]);
      const backend = await queue.connect();
      expect(await backend.pruneExpired(queue.name, clock.now())).toBe(0);
      expect(await queue.stats()).toMatchObject({ completed: 3, failed: 1 });

      await clock.advance(10);
      // Nothing has read the queue since the records expired: the prune finds all three.
      expect(await backend.pruneExpired(queue.name, clock.now())).toBe(3);
      expect(await backend.pruneExpired(queue.name, clock.now())).toBe(0);
      expect(await queue.stats()).toMatchObject({ completed: 1, failed: 0, pending: 0 });
      expect((await queue.getAllTasks()).map((t) => t.id)).toEqual([kept.id]);
      expect((await queue.listQueues())[queue.name]).toBe(0);
      await queue.delete(kept);
      expect((await queue.listQueues())[queue.name]).toBeUndefined();
      expect(await queue.stats()).toMatchObject({ completed: 0, failed: 0 });
    });

    it("TTL-10 real clock: a record with a 2 s TTL is there when it finishes and gone soon after", async () => {
      // Long enough that a loaded machine still reads the result before it expires.
      const queue = h.queue({ ttl: 2 });
      const t = inherit("short-lived");
      await queue.add(t);
      void h.worker(queue, { expiryInterval: 0.1 }).work();
      // Generous bounds: a loaded machine may take seconds to start a worker and run its sweep.
      const done = await queue.waitFor(t, { timeout: 20 });
      expect(done.result).toBe("short-lived");
      const finishedAt = done.finishedAt!.getTime();
      await until(async () => (await queue.getTask(t)) === null, {
        what: "the record to expire",
        timeoutMs: 20_000,
      });
      expect(Date.now() - finishedAt).toBeGreaterThanOrEqual(2000);
      await expect(queue.waitFor(t, { timeout: 0 })).rejects.toThrow(WaitTimeoutError);
      expect(await queue.stats()).toMatchObject({ completed: 0 });
    }, 60_000);
  });
}
