/**
 * Scheduling: `queue.schedule(task, at)` with a `Date` or a delay in seconds,
 * `getScheduled()`, the worker's scheduler moving due tasks to pending, and
 * manual retry at a time. Decided: a past `Date` is an error (S-8); the
 * caller's task object is never changed (S-10); ISO-8601 text is accepted only
 * with an explicit offset. Time-dependent cases run on a `TestClock` (nothing
 * sleeps for a delay), plus one real-clock case proving the wiring.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import {
  currentTask,
  InvalidOptionError,
  InvalidTaskError,
  type Queue,
  type Task,
  TaskStateError,
  task,
  WaitTimeoutError,
} from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { advanceInSteps, advanceUntil } from "../support/clocks.js";
import { PerTest } from "../support/until.js";

const add = task({ name: "schedule.add" }, (a: number, b: number) => a + b);
const boom = task({ name: "schedule.boom" }, () => {
  throw new Error("boom");
});
/** Labels whose first run has failed. */
const failedOnce = new Set<string>();
/** Fails the first time it runs for a label (no automatic retry), then returns the label. */
const failOnce = task({ name: "schedule.fail-once" }, (label: string) => {
  if (!failedOnce.has(label)) {
    failedOnce.add(label);
    throw new Error("first run fails");
  }
  return label;
});

/** Fails the first time it runs for a label, and is retried 10 s later. */
const retryOnce = task(
  { name: "schedule.retry-once", retry: 1, retryDelay: 10 },
  (label: string) => {
    if (!failedOnce.has(label)) {
      failedOnce.add(label);
      throw new Error("first run fails");
    }
    return label;
  },
);

/** How often each task id ran, per test. */
const runs = new PerTest<Map<string, number>>(() => new Map());
const countRun = task({ name: "schedule.count-run" }, (token: string, n: number) => {
  const seen = runs.get(token);
  const { id } = currentTask();
  seen.set(id, (seen.get(id) ?? 0) + 1);
  return n;
});

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** Where test clocks start: far from the real time, so nothing can pass by accident. */
const CLOCK_START = Date.parse("2030-01-01T08:00:00.000Z");

export function scheduleCases(h: ContractHarness): void {
  describe("schedule", () => {
    it("S-1 schedule with a Date returns true and stores the task scheduled for exactly that time", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      const at = new Date(Date.now() + HOUR);
      expect(await queue.schedule(t, at)).toBe(true);
      const stored = await queue.getTask(t);
      expect(stored?.toJSON()).toEqual({
        ...t.toJSON(),
        status: "scheduled",
        scheduledAt: at.toISOString(),
      });
      expect(stored?.scheduledAt?.getTime()).toBe(at.getTime());
      expect([stored?.result, stored?.error, stored?.finishedAt]).toEqual([null, null, null]);
    });

    it("S-1 / S-10 schedule with a delay in seconds; the caller's task is left untouched", async () => {
      const queue = h.queue();
      const t = add(2, 3);
      const before = Date.now();
      expect(await queue.schedule(t, 30)).toBe(true);
      const after = Date.now();
      const due = (await queue.getTask(t))?.scheduledAt?.getTime() ?? 0;
      expect(due).toBeGreaterThanOrEqual(before + 30_000);
      expect(due).toBeLessThanOrEqual(after + 30_000);
      expect(t.status).toBe("new");
      expect(t.scheduledAt).toBeNull();
    });

    it("S-2 a scheduled task is not pending: not counted, not listed, not claimable before it is due", async () => {
      const queue = h.queue();
      const t = add(1, 1);
      await queue.schedule(t, 60);
      expect(await queue.size()).toBe(0);
      expect(await queue.getPending(10)).toEqual([]);
      const backend = await queue.connect();
      expect(await backend.claim(queue.name, 1, 50)).toEqual([]);
      expect((await queue.getTask(t))?.status).toBe("scheduled");
    });

    it("S-3 getScheduled lists scheduled tasks earliest first; cancelled or due-and-moved ones leave it", async () => {
      const queue = h.queue();
      const [late, early, middle] = [add(3, 0), add(1, 0), add(2, 0)];
      const base = Date.now();
      await queue.schedule(late, new Date(base + 3 * HOUR));
      await queue.schedule(early, new Date(base + HOUR));
      await queue.schedule(middle, new Date(base + 2 * HOUR));
      await queue.add(add(9, 9));
      const listed = await queue.getScheduled();
      expect(listed.map((t) => t.id)).toEqual([early.id, middle.id, late.id]);
      expect(listed.every((t) => t.status === "scheduled")).toBe(true);

      await queue.cancel(middle);
      expect((await queue.getScheduled()).map((t) => t.id)).toEqual([early.id, late.id]);

      const backend = await queue.connect();
      const moved = await backend.promoteDue(queue.name, base + HOUR);
      expect(moved).toEqual([early.id]);
      expect((await queue.getScheduled()).map((t) => t.id)).toEqual([late.id]);
      expect(await h.queue().getScheduled()).toEqual([]);
    });

    it("S-4 a worker runs the task once it is due; the completed record keeps scheduledAt", async () => {
      const queue = h.queue();
      const t = add(20, 22);
      await queue.schedule(t, 0.2);
      const scheduledAt = (await queue.getTask(t))!.scheduledAt!;
      const summary = await h.worker(queue).work({ maxTasks: 1 });
      expect(summary.processed).toBe(1);
      const done = await queue.waitFor(t, { timeout: 0 });
      expect(done.status).toBe("completed");
      expect(done.result).toBe(42);
      expect(done.scheduledAt?.getTime()).toBe(scheduledAt.getTime());
      expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(scheduledAt.getTime());
      expect(await queue.getScheduled()).toEqual([]);
    });

    it("S-5 due order is respected: one task per work({ maxTasks: 1 }), earliest first", async () => {
      const queue = h.queue();
      const [first, second, third] = [add(1, 0), add(2, 0), add(3, 0)];
      // Connected first: a slow first connect (a cluster learns its slots) must not eat the offsets below.
      await queue.size();
      const base = Date.now();
      await queue.schedule(third, new Date(base + 300));
      await queue.schedule(first, new Date(base + 100));
      await queue.schedule(second, new Date(base + 200));
      const worker = h.worker(queue);
      const statuses = async () =>
        (await queue.getTask([first, second, third])).map((t) => t?.status === "completed");
      await worker.work({ maxTasks: 1 });
      expect(await statuses()).toEqual([true, false, false]);
      await worker.work({ maxTasks: 1 });
      expect(await statuses()).toEqual([true, true, false]);
      await worker.work({ maxTasks: 1 });
      expect(await statuses()).toEqual([true, true, true]);
    });

    it("S-6 a task added for now runs before an earlier-scheduled task that is not yet due", async () => {
      const queue = h.queue();
      const [later, now] = [add(1, 1), add(2, 2)];
      await queue.schedule(later, 60);
      await queue.add(now);
      await h.worker(queue).work({ maxTasks: 1 });
      expect((await queue.getTask(now))?.status).toBe("completed");
      expect((await queue.getTask(later))?.status).toBe("scheduled");
      expect((await queue.getScheduled()).map((t) => t.id)).toEqual([later.id]);
    });

    it("S-7 a scheduled task that throws ends failed, like an immediate one", async () => {
      const queue = h.queue();
      const t = boom();
      await queue.schedule(t, 0.05);
      const summary = await h.worker(queue).work({ maxTasks: 1 });
      expect(summary.failed).toBe(1);
      const failed = await queue.waitFor(t, { timeout: 0 });
      expect(failed.status).toBe("failed");
      expect(failed.error?.message).toBe("boom");
      expect(failed.result).toBeNull();
      expect(failed.finishedAt).toBeInstanceOf(Date);
      expect(failed.scheduledAt).toBeInstanceOf(Date);
    });

    it("S-8 a past or invalid date, a negative or non-finite delay, or a non-task is a clear error (decided)", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      const bad: unknown[] = [
        new Date(Date.now() - 60_000),
        new Date(Number.NaN),
        -1,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        "10",
      ];
      for (const at of bad) {
        await expect(queue.schedule(t, at as never)).rejects.toThrow(InvalidOptionError);
      }
      await expect(queue.schedule(t, new Date(Date.now() - 60_000))).rejects.toThrow(/in the past/);
      await expect(queue.schedule(add as never, 10)).rejects.toThrow(InvalidTaskError);
      expect(await queue.getTask(t)).toBeNull();
      expect(await queue.getScheduled()).toEqual([]);
    });

    it("S-8 a delay of 0 is due at once: the next scheduler run makes it pending", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      expect(await queue.schedule(t, 0)).toBe(true);
      expect(await queue.size()).toBe(0);
      const backend = await queue.connect();
      const moved = await backend.promoteDue(queue.name, Date.now());
      expect(moved).toEqual([t.id]);
      expect(await queue.size()).toBe(1);
    });

    it("S-9 scheduling an id the queue holds returns false, whatever the time; add of a scheduled task returns false", async () => {
      const queue = h.queue();
      const [scheduled, added] = [add(1, 1), add(2, 2)];
      expect(await queue.schedule(scheduled, 60)).toBe(true);
      const first = (await queue.getTask(scheduled))!.toJSON();
      expect(await queue.schedule(scheduled, 60)).toBe(false);
      expect(await queue.schedule(scheduled, new Date(Date.now() + 2 * HOUR))).toBe(false);
      expect(await queue.add(scheduled)).toBe(false);
      expect((await queue.getTask(scheduled))!.toJSON()).toEqual(first);
      expect(await queue.getScheduled()).toHaveLength(1);
      expect(await queue.size()).toBe(0);

      await queue.add(added);
      expect(await queue.schedule(added, 60)).toBe(false);
      expect((await queue.getTask(added))?.status).toBe("pending");
      expect(await queue.size()).toBe(1);
      expect(await queue.getScheduled()).toHaveLength(1);
    });

    it("S-11 the scheduler moves every due task to pending in due order, status pending", async () => {
      const queue = h.queue();
      const [a, b, c, notDue] = [add(1, 0), add(2, 0), add(3, 0), add(4, 0)];
      await queue.size();
      // Far enough ahead that the first times are still in the future when a loaded machine
      // reaches their schedule calls.
      const base = Date.now() + 1_000;
      await queue.schedule(c, new Date(base + 150));
      await queue.schedule(a, new Date(base + 50));
      await queue.schedule(b, new Date(base + 100));
      await queue.schedule(notDue, 60);
      const worker = h.worker(queue, { processing: false });
      const running = worker.work();
      await vi.waitFor(async () => expect(await queue.size()).toBe(3), {
        timeout: 15_000,
        interval: 20,
      });
      await worker.close();
      await running;
      const pending = await queue.getPending(10);
      expect(pending.map((t) => t.id)).toEqual([a.id, b.id, c.id]);
      expect(pending.map((t) => t.status)).toEqual(["pending", "pending", "pending"]);
      expect((await queue.getScheduled()).map((t) => t.id)).toEqual([notDue.id]);
    });

    it("R-17 retry({ at: Date }) schedules a failed task: not pending, listed, scheduledAt = nextRetryAt = at", async () => {
      const queue = h.queue();
      const label = randomUUID();
      const t = failOnce(label);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.getTask(t))?.status).toBe("failed");

      const at = new Date(Date.now() + 200);
      expect(await queue.retry(t, { at })).toBe(true);
      const scheduled = (await queue.getTask(t))!;
      expect(scheduled.status).toBe("scheduled");
      expect(scheduled.scheduledAt?.getTime()).toBe(at.getTime());
      expect(scheduled.nextRetryAt?.getTime()).toBe(at.getTime());
      expect(scheduled.finishedAt).toBeNull();
      expect(scheduled.retryCount).toBe(0);
      expect(await queue.size()).toBe(0);
      expect((await queue.getScheduled()).map((x) => x.id)).toEqual([t.id]);
      await expect(queue.waitFor(t, { timeout: 0 })).rejects.toThrow(WaitTimeoutError);

      await h.worker(queue).work({ maxTasks: 1 });
      const done = await queue.waitFor(t, { timeout: 0 });
      expect(done.status).toBe("completed");
      expect(done.result).toBe(label);
      expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(at.getTime());
      expect(await queue.getScheduled()).toEqual([]);
    });

    it("R-17 retry({ at: seconds }) schedules the re-run after that delay; a past date is an error", async () => {
      const queue = h.queue();
      const t = boom();
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      await expect(queue.retry(t, { at: new Date(Date.now() - 1000) })).rejects.toThrow(
        InvalidOptionError,
      );
      expect((await queue.getTask(t))?.status).toBe("failed");

      const before = Date.now();
      expect(await queue.retry(t, { at: 0.1 })).toBe(true);
      const due = (await queue.getTask(t))!.scheduledAt!.getTime();
      expect(due).toBeGreaterThanOrEqual(before + 100);
      expect(await queue.size()).toBe(0);
      await h.worker(queue).work({ maxTasks: 1 });
      const again = await queue.waitFor(t, { timeout: 0 });
      expect(again.status).toBe("failed");
      expect(again.scheduledAt?.getTime()).toBe(due);
    });

    it("R-18 retry({ force, at }) schedules a completed task; without force it throws and schedules nothing", async () => {
      const queue = h.queue();
      const t = add(5, 6);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const first = await queue.waitFor(t, { timeout: 0 });

      await expect(queue.retry(t, { at: 60 })).rejects.toThrow(TaskStateError);
      expect(await queue.getScheduled()).toEqual([]);
      expect((await queue.getTask(t))?.toJSON()).toEqual(first.toJSON());

      expect(await queue.retry(t, { at: 0.1, force: true })).toBe(true);
      expect(await queue.size()).toBe(0);
      expect((await queue.getScheduled()).map((x) => x.id)).toEqual([t.id]);
      expect((await queue.getTask(t))?.status).toBe("scheduled");
      expect((await queue.getTask(t))?.result).toBeNull();

      await h.worker(queue).work({ maxTasks: 1 });
      const again = await queue.waitFor(t, { timeout: 0 });
      expect(again.status).toBe("completed");
      expect(again.result).toBe(11);
      expect(again.retryCount).toBe(0);
    });
  });

  describe("schedule: ISO text, test clock, several workers", () => {
    it("S-1 ISO-8601 text with Z or an offset is that instant", async () => {
      const clock = new TestClock(CLOCK_START);
      const queue = h.queue({ clock });
      const [utc, offset] = [add(1, 1), add(2, 2)];
      expect(await queue.schedule(utc, "2030-01-01T09:30:00Z")).toBe(true);
      expect(await queue.schedule(offset, "2030-01-01T10:30:00.250+01:00")).toBe(true);
      const [a, b] = await queue.getTask([utc, offset]);
      expect(a?.scheduledAt?.toISOString()).toBe("2030-01-01T09:30:00.000Z");
      expect(b?.scheduledAt?.toISOString()).toBe("2030-01-01T09:30:00.250Z");
      expect((await queue.getScheduled()).map((t) => t.status)).toEqual(["scheduled", "scheduled"]);
    });

    it("S-8 ISO text without an offset, an impossible date or an instant a second or more past is an InvalidOptionError (decided); a moment past is now", async () => {
      const clock = new TestClock(CLOCK_START);
      const queue = h.queue({ clock });
      const t = add(1, 2);
      await expect(queue.schedule(t, "2030-01-01T09:00:00")).rejects.toThrow(
        /'2030-01-01T09:00:00'.*no UTC offset/,
      );
      await expect(queue.schedule(t, "2030-01-01")).rejects.toThrow(/no UTC offset/);
      await expect(queue.schedule(t, "next tuesday")).rejects.toThrow(/ISO-8601 with an offset/);
      // The CLI's way of writing a delay: the API takes the number of seconds.
      await expect(queue.schedule(t, "1h")).rejects.toThrow(
        /'1h'.*a number of seconds \(e\.g\. 3600/,
      );
      await expect(queue.schedule(t, "2030-02-30T09:00:00Z")).rejects.toThrow(/not a valid date/);
      await expect(queue.schedule(t, "2030-01-01T24:00:00Z")).rejects.toThrow(/not a valid date/);
      await expect(queue.schedule(t, "2030-01-01T07:59:59Z")).rejects.toThrow(/in the past/);
      for (const text of ["2030-01-01T09:00:00", "2030-02-30T09:00:00Z"]) {
        await expect(queue.schedule(t, text)).rejects.toThrow(InvalidOptionError);
      }
      expect(await queue.getTask(t)).toBeNull();
      // A moment past (`new Date()` handed on) means now: due at once, not refused.
      const [justNow, justPast] = [add(3, 4), add(5, 6)];
      expect(await queue.schedule(justNow, new Date(CLOCK_START))).toBe(true);
      expect(await queue.schedule(justPast, new Date(CLOCK_START - 999))).toBe(true);
      const stored = await queue.getTask([justNow, justPast]);
      expect(stored.map((s) => s?.scheduledAt?.getTime())).toEqual([CLOCK_START, CLOCK_START]);
    });

    it("S-4 (test clock) a task scheduled 30 min ahead runs only after the clock passes it", async () => {
      const clock = new TestClock(CLOCK_START);
      const queue = h.queue({ clock });
      const due = CLOCK_START + 30 * MINUTE;
      const [t, early, late] = [add(1, 2), add(2, 2), add(3, 3)];
      await queue.schedule(t, 30 * 60);
      // Controls that show the scheduler is running: one due after a minute, one 10 s before t.
      await queue.schedule(early, 60);
      await queue.schedule(late, new Date(due - 10_000));
      const worker = h.worker(queue, { clock, schedulerInterval: 1 });
      const running = worker.work();

      const status = async (x: typeof t) => (await queue.getTask(x))?.status;
      await clock.advanceTo(CLOCK_START + 55_000);
      await advanceUntil(clock, async () => (await status(early)) === "completed", {
        what: "the task due after a minute completed",
      });
      expect(await status(t)).toBe("scheduled");

      await clock.advanceTo(due - MINUTE);
      await advanceUntil(clock, async () => (await status(late)) === "completed", {
        step: 0.5,
        notAfter: due - 1000,
        what: "the task due 10 s before it completed",
      });
      expect(clock.now()).toBeLessThan(due);
      expect(await status(t)).toBe("scheduled");
      expect((await queue.getScheduled()).map((x) => x.id)).toEqual([t.id]);

      const done = await advanceUntil(
        clock,
        async () => {
          const stored = await queue.getTask(t);
          return stored?.status === "completed" ? stored : null;
        },
        { step: 0.5, what: "the 30-minute task completed" },
      );
      expect(done.result).toBe(3);
      expect(done.scheduledAt?.getTime()).toBe(due);
      expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(due);
      await worker.close();
      expect((await running).processed).toBe(3);
    });

    h.itIfReportsNextDue("the backend does not report due times (optional)")(
      "nextDueAt gives the earliest waiting task's time: not a pending one's, not a cancelled or promoted one's; null when none waits",
      async () => {
        const queue = h.queue();
        const backend = await queue.connect();
        expect(await backend.nextDueAt!(queue.name)).toBeNull();
        const base = Date.now();
        const [late, early, middle] = [add(3, 0), add(1, 0), add(2, 0)];
        await queue.schedule(late, new Date(base + 3 * HOUR));
        await queue.schedule(early, new Date(base + HOUR));
        await queue.schedule(middle, new Date(base + 2 * HOUR));
        await queue.add(add(9, 9));
        expect(await backend.nextDueAt!(queue.name)).toBe(base + HOUR);
        await queue.cancel(early);
        expect(await backend.nextDueAt!(queue.name)).toBe(base + 2 * HOUR);
        expect(await backend.promoteDue(queue.name, base + 2 * HOUR)).toEqual([middle.id]);
        expect(await backend.nextDueAt!(queue.name)).toBe(base + 3 * HOUR);
        expect(await backend.nextDueAt!(`${queue.name}-other`)).toBeNull();
        await queue.cancel(late);
        expect(await backend.nextDueAt!(queue.name)).toBeNull();
      },
    );

    const status = async (queue: Queue, x: Task) => (await queue.getTask(x))?.status;

    h.itIfReportsNextDue("the backend does not report due times (optional)")(
      "(test clock) a worker whose scheduler looks once a minute starts a task known at its last look at its time, not at the next look",
      async () => {
        const clock = new TestClock(CLOCK_START);
        const queue = h.queue({ clock });
        const other = h.sibling(queue, { clock });
        const known = add(1, 1);
        // Scheduled through another queue object before the worker starts: its first look finds it.
        await other.schedule(known, new Date(CLOCK_START + 5_000));
        const worker = h.worker(queue, { clock, schedulerInterval: 60 });
        const running = worker.work();
        await advanceUntil(clock, async () => (await status(queue, known)) === "completed", {
          step: 0.5,
          notAfter: CLOCK_START + 30_000,
          what: "the task known at the scheduler's look completed",
        });
        expect(clock.now()).toBeLessThan(CLOCK_START + 30_000);
        await worker.close();
        expect((await running).processed).toBe(1);
      },
    );

    it("(test clock) a worker whose scheduler looks once a minute starts at their time a task scheduled through its queue and a retry it settled", async () => {
      const clock = new TestClock(CLOCK_START);
      const queue = h.queue({ clock });
      const told = add(2, 2);
      const worker = h.worker(queue, { clock, schedulerInterval: 60 });
      const running = worker.work();
      await advanceInSteps(clock, 1);

      const dueTold = clock.now() + 4_000;
      await queue.schedule(told, new Date(dueTold));
      await advanceUntil(clock, async () => (await status(queue, told)) === "completed", {
        step: 0.5,
        notAfter: dueTold + 20_000,
        what: "the task scheduled through the worker's queue completed",
      });
      expect(clock.now()).toBeLessThan(dueTold + 20_000);

      const flaky = retryOnce(randomUUID());
      await queue.add(flaky);
      const added = clock.now();
      // Its retry is due 10 s after the failure; the scheduler's next look is a minute after its last.
      const retried = await advanceUntil(
        clock,
        async () => {
          const stored = await queue.getTask(flaky);
          return stored?.status === "completed" ? stored : null;
        },
        { step: 0.5, notAfter: added + 30_000, what: "the retried task completed" },
      );
      expect(retried.retryCount).toBe(1);
      expect(retried.startedAt!.getTime()).toBeLessThan(added + 30_000);
      await worker.close();
      expect((await running).processed).toBe(2);
    });

    it("S-11 promoteDue from two backend instances at once moves each due task exactly once", async () => {
      const clock = new TestClock(CLOCK_START);
      const queue = h.queue({ clock });
      const other = h.sibling(queue, { clock });
      const tasks = Array.from({ length: 40 }, (_, i) => add(i, 0));
      for (const t of tasks) await queue.schedule(t, 60);
      const [backendA, backendB] = [await queue.connect(), await other.connect()];
      const due = CLOCK_START + MINUTE;
      const [movedA, movedB] = await Promise.all([
        backendA.promoteDue(queue.name, due),
        backendB.promoteDue(queue.name, due),
      ]);
      const ids = [...movedA, ...movedB];
      expect(ids.sort()).toEqual(tasks.map((t) => t.id).sort());
      expect(await queue.size()).toBe(40);
      expect(await queue.getScheduled()).toEqual([]);
    });

    it("S-11 two workers (on Redis: each on its own backend instance and connections): every due task runs exactly once", async () => {
      const clock = new TestClock(CLOCK_START);
      const queue = h.queue({ clock });
      const other = h.sibling(queue, { clock });
      const token = randomUUID();
      const tasks = Array.from({ length: 20 }, (_, i) => countRun(token, i));
      for (const t of tasks) await queue.schedule(t, 60);
      const workers = [h.worker(queue, { clock }), h.worker(other, { clock })];
      const running = workers.map((w) => w.work());

      await clock.advanceTo(CLOCK_START + MINUTE - 1000);
      await advanceUntil(
        clock,
        async () =>
          (await queue.getTask(tasks)).every((t) => t?.status === "completed") ? true : null,
        { step: 0.25, what: "every scheduled task completed" },
      );
      const counts = runs.get(token);
      expect([...counts.keys()].sort()).toEqual(tasks.map((t) => t.id).sort());
      expect([...counts.values()].every((n) => n === 1)).toBe(true);
      await Promise.all(workers.map((w) => w.close()));
      const summaries = await Promise.all(running);
      expect(summaries.reduce((sum, s) => sum + s.processed, 0)).toBe(20);
    });

    it("S-4 (real clock) a task scheduled 0.3 s ahead with ISO text runs once due", async () => {
      const queue = h.queue();
      const t = add(20, 1);
      const at = new Date(Date.now() + 300);
      expect(await queue.schedule(t, at.toISOString())).toBe(true);
      expect((await queue.getTask(t))?.status).toBe("scheduled");
      const summary = await h.worker(queue).work({ maxTasks: 1 });
      expect(summary.processed).toBe(1);
      const done = await queue.waitFor(t, { timeout: 0 });
      expect(done.result).toBe(21);
      expect(done.scheduledAt?.getTime()).toBe(at.getTime());
      expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(at.getTime());
    });
  });
}
