/**
 * Counting and emptying queues: size, clear, stats, listQueues, and several
 * queues sharing one backend. Decided: a claimed task no longer counts in
 * `size()` or `getPending()`; `clear()` removes workflows too (Q-29, decided: their steps are tasks of the queue).
 */

import { describe, expect, it } from "vitest";
import type { Backend, QueueStats, TaskData } from "../../index.js";
import { TaskCancellationError, task } from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { requeued, settleClaim } from "../support/records.js";

const add = task({ name: "clear-stats.add" }, (a: number, b: number) => a + b);
const echo = task({ name: "clear-stats.echo" }, (queue: string) => queue);

const now = () => new Date().toISOString();
const LATENCY_START = Date.parse("2030-01-01T00:00:00Z");
const inAMinute = () => Date.now() + 60_000;

/** Claims the next pending task of `queue` and stores it with `status` (finished statuses get `finishedAt`). */
async function settleNext(
  backend: Backend,
  queue: string,
  status: "completed" | "failed" | "crashed" | "retrying",
): Promise<TaskData> {
  const [claim] = await backend.claim(queue, 1);
  if (!claim) throw new Error(`settleNext: nothing pending in ${queue}`);
  const claimed = claim.record;
  const record: TaskData =
    status === "retrying"
      ? {
          ...claimed,
          status,
          retryCount: 1,
          nextRetryAt: new Date(inAMinute()).toISOString(),
        }
      : {
          ...claimed,
          status,
          result: status === "completed" ? 1 : null,
          finishedAt: now(),
        };
  await settleClaim(backend, queue, claim, record);
  return record;
}

export function clearStatsCases(h: ContractHarness): void {
  describe("size, clear, stats and listQueues", () => {
    it("Q-18 size() counts pending tasks only: not scheduled, claimed or finished ones", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await queue.add([add(1, 1), add(2, 2), add(3, 3), add(4, 4)]);
      await queue.schedule(add(5, 5), 60);
      await settleNext(backend, queue.name, "completed");
      await backend.claim(queue.name, 1);
      expect(await queue.size()).toBe(2);
      expect(await backend.size(queue.name)).toBe(2);
    });

    it("Q-19 / Q-24 a claimed task no longer counts in size() nor appears in getPending()", async () => {
      const queue = h.queue();
      const [t1, t2, t3] = [add(1, 0), add(2, 0), add(3, 0)];
      await queue.add([t1, t2, t3]);
      const backend = await queue.connect();
      const [claimed] = await backend.claim(queue.name, 1);
      expect(claimed?.record.id).toBe(t1.id);
      expect(await queue.size()).toBe(2);
      expect((await queue.getPending(10)).map((t) => t.id)).toEqual([t2.id, t3.id]);
      // Back to the queue: counted again, at the end.
      await settleClaim(backend, queue.name, claimed!, requeued(claimed!.record));
      expect(await queue.size()).toBe(3);
      expect((await queue.getPending(10)).map((t) => t.id)).toEqual([t2.id, t3.id, t1.id]);
    });

    it("Q-27 clear() removes every task record (pending, claimed, scheduled, finished) and the crons, and counts them", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await queue.add([add(1, 1), add(2, 2), add(3, 3)]);
      await settleNext(backend, queue.name, "completed");
      await backend.claim(queue.name, 1);
      await queue.schedule(add(4, 4), 60);
      await backend.addCron(queue.name, "cron-a", {
        deterministicId: "cron-a",
        expression: "* * * * *",
      });
      expect(await queue.clear()).toBe(5);
      expect(await backend.getCrons(queue.name)).toEqual([]);
      expect(await queue.clear()).toBe(0);
    });

    it("Q-27 clear() does not count a record whose retention has run out, swept or not", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await queue.add([add(1, 1), add(2, 2)]);
      const [claim] = await backend.claim(queue.name, 1);
      await settleClaim(backend, queue.name, claim!, undefined, { expiresAt: Date.now() - 1000 });
      expect(await queue.getTask(claim!.record.id)).toBeNull();
      expect(await queue.clear()).toBe(1);
      expect(await queue.clear()).toBe(0);
    });

    it("Q-27 clear() resets the queue's rate-limit state", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const request = {
        key: "clear-stats.limited",
        maxRate: 1,
        periodMs: 60_000,
        taskId: "t",
        strategy: "fixed_window" as const,
        now: Date.now(),
      };
      expect(await backend.acquireRateLimit(queue.name, request)).toBeNull();
      expect(
        await backend.acquireRateLimit(queue.name, { ...request, taskId: "u" }),
      ).toBeGreaterThan(0);
      await queue.clear();
      expect(await backend.acquireRateLimit(queue.name, { ...request, taskId: "v" })).toBeNull();
    });

    it("Q-28 after clear(): size 0, nothing pending, scheduled, claimable or listed", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await queue.add([add(1, 1), add(2, 2)]);
      await settleNext(backend, queue.name, "failed");
      await queue.schedule(add(3, 3), 60);
      await queue.clear();
      expect(await queue.size()).toBe(0);
      expect(await queue.getPending(10)).toEqual([]);
      expect(await queue.getAllTasks()).toEqual([]);
      expect(await queue.getScheduled()).toEqual([]);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      expect(await backend.promoteDue(queue.name, Date.now() + 3_600_000)).toEqual([]);
      const { held, ...counts } = await queue.stats();
      expect(counts).toEqual({
        pending: 0,
        scheduled: 0,
        processing: 0,
        completed: 0,
        failed: 0,
        crashed: 0,
        cancelled: 0,
      });
      expect(held ?? 0).toBe(0);
      expect(await queue.listQueues()).not.toHaveProperty(queue.name);
      // The queue works as before.
      const t = add(9, 9);
      expect(await queue.add(t)).toBe(true);
      expect(await queue.size()).toBe(1);
    });

    it("Q-32 several queues on one backend are independent; one worker serving three processes one task from each", async () => {
      const queues = [h.queue(), h.queue(), h.queue()];
      expect(new Set(queues.map((q) => q.backend)).size).toBe(1);
      const tasks = queues.map((q) => echo(q.name));
      const extras = [add(1, 1), add(2, 2), add(3, 3)];
      await queues[0]!.add(tasks[0]!);
      await queues[1]!.add([tasks[1]!, extras[0]!]);
      await queues[2]!.add([tasks[2]!, extras[1]!, extras[2]!]);
      expect(await Promise.all(queues.map((q) => q.size()))).toEqual([1, 2, 3]);
      for (const [i, queue] of queues.entries()) {
        for (const [j, t] of tasks.entries()) {
          expect((await queue.getTask(t)) === null).toBe(i !== j);
        }
      }
      await queues[1]!.cancel(extras[0]!);
      await expect(queues[1]!.cancel(extras[1]!)).rejects.toThrow(TaskCancellationError);
      await queues[2]!.cancel(extras[1]!);
      await queues[2]!.cancel(extras[2]!);
      expect(await Promise.all(queues.map((q) => q.size()))).toEqual([1, 1, 1]);

      const worker = h.worker(queues, { concurrency: 1 });
      const summary = await worker.work({ oneshot: true });
      expect(summary.processed).toBe(3);
      const done = await Promise.all(queues.map((q, i) => q.waitFor(tasks[i]!, { timeout: 5 })));
      expect(done.map((t) => t.result)).toEqual(queues.map((q) => q.name));
      expect(await Promise.all(queues.map((q) => q.size()))).toEqual([0, 0, 0]);
    });

    it("B-9 backend.clear returns how many it removed (then 0); another queue is untouched", async () => {
      const [queue, other] = [h.queue(), h.queue()];
      const backend = await queue.connect();
      await queue.add([add(1, 1), add(2, 2), add(3, 3)]);
      await queue.schedule(add(4, 4), 60);
      await other.add(add(5, 5));
      expect(await backend.clear(queue.name)).toBe(4);
      expect(await backend.clear(queue.name)).toBe(0);
      expect(await backend.size(queue.name)).toBe(0);
      expect(await backend.claim(queue.name, 1)).toEqual([]);
      expect(await backend.size(other.name)).toBe(1);
      expect(await h.queue().clear()).toBe(0);
    });

    it("B-12 stats() counts every record by life stage", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const empty: QueueStats = {
        pending: 0,
        scheduled: 0,
        processing: 0,
        completed: 0,
        failed: 0,
        crashed: 0,
        cancelled: 0,
      };
      /** The counts without `held`, which is optional (0 here, no concurrency keys, where told). */
      const countsOf = async (of = queue) => {
        const { held, ...counts } = await of.stats();
        expect(held ?? 0).toBe(0);
        return counts;
      };
      expect(await countsOf()).toEqual(empty);
      // Claimed first, in FIFO order: completed, failed, crashed, retrying, processing.
      await queue.add([add(1, 0), add(2, 0), add(3, 0), add(4, 0), add(5, 0)]);
      await settleNext(backend, queue.name, "completed");
      await settleNext(backend, queue.name, "failed");
      await settleNext(backend, queue.name, "crashed");
      await settleNext(backend, queue.name, "retrying");
      await backend.claim(queue.name, 1);
      const cancelled = add(6, 0);
      await queue.add([cancelled, add(7, 0), add(8, 0)]);
      await queue.cancel(cancelled);
      await queue.schedule(add(9, 0), 60);
      expect(await countsOf()).toEqual({
        pending: 2,
        scheduled: 2,
        processing: 1,
        completed: 1,
        failed: 1,
        crashed: 1,
        cancelled: 1,
      });
      expect(await backend.getStats(queue.name)).toEqual(await queue.stats());
      expect(await countsOf(h.queue())).toEqual(empty);
    });

    it("queue.latency() is how long the next task to be claimed has waited since it was due, 0 when none waits", async () => {
      const clock = new TestClock(LATENCY_START);
      const queue = h.queue({ clock });
      const backend = await queue.connect();
      expect(await queue.latency()).toBe(0);
      await queue.add(add(1, 1));
      expect(await queue.latency()).toBe(0);
      await clock.advance(30);
      expect(await queue.latency()).toBe(30_000);
      // A task that jumps the queue is the next one claimed: the latency is its wait.
      await clock.advance(10);
      await queue.add(add(2, 2), { priority: 5 });
      await clock.advance(2);
      expect(await queue.latency()).toBe(2_000);
      // A scheduled task waits from its time, not from when it was added; a paused queue's tasks wait all the same.
      await backend.claim(queue.name, 2);
      expect(await queue.latency()).toBe(0);
      await queue.schedule(add(3, 3), 60);
      await queue.pause();
      await clock.advance(70);
      expect(await backend.promoteDue(queue.name, clock.now())).toHaveLength(1);
      expect(await queue.latency()).toBe(10_000);
    });

    it("B-13 listQueues() maps every queue holding records to its pending count", async () => {
      const [a, b, finishedOnly, empty] = [h.queue(), h.queue(), h.queue(), h.queue()];
      const backend = await a.connect();
      await a.add([add(1, 1), add(2, 2)]);
      await b.add(add(3, 3));
      await b.schedule(add(4, 4), 60);
      await finishedOnly.add(add(5, 5));
      await settleNext(backend, finishedOnly.name, "completed");
      await empty.size();
      const listed = await a.listQueues();
      expect(listed).toMatchObject({ [a.name]: 2, [b.name]: 1, [finishedOnly.name]: 0 });
      expect(listed).not.toHaveProperty(empty.name);
      expect(Object.fromEntries(await backend.listQueues())).toEqual(listed);
      await b.clear();
      expect(await a.listQueues()).not.toHaveProperty(b.name);
    });
  });
}
