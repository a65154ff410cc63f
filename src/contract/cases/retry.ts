/**
 * Automatic retries (status `retrying` between attempts, delays, exhaustion)
 * and manual `queue.retry(task | id, { force, at })`.
 */

import { randomUUID } from "node:crypto";
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { describe, expect, it } from "vitest";
import { currentTask, type Queue, type Task, TaskStateError, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { settleClaim } from "../support/records.js";
import { PerTest, sleep, until } from "../support/until.js";

/** Attempts per test token. */
const attempts = new PerTest(() => ({ count: 0 }));
const attempt = (token: string) => ++attempts.get(token).count;

const failOnceWith = (token: string) => {
  if (attempt(token) === 1) throw new Error("transient error");
  return "ok";
};

const failOnce = task({ name: "retry.failOnce", retry: 2, retryDelay: 0 }, failOnceWith);
const failOnceRetry1 = task(
  { name: "retry.failOnceRetry1", retry: 1, retryDelay: 0 },
  failOnceWith,
);
const failOnceAsync = task(
  { name: "retry.failOnceAsync", retry: 1, retryDelay: 0 },
  async (token: string) => {
    await sleep(1);
    return failOnceWith(token);
  },
);
const failOnceNoRetry = task({ name: "retry.failOnceNoRetry" }, failOnceWith);

const alwaysFail = (token: string): string => {
  throw new Error(`failure #${attempt(token)}`);
};
const failRetry1 = task({ name: "retry.failRetry1", retry: 1, retryDelay: 0 }, alwaysFail);
const failRetry2 = task({ name: "retry.failRetry2", retry: 2, retryDelay: 0 }, alwaysFail);
const failSlowRetry = task({ name: "retry.failSlowRetry", retry: 1, retryDelay: 10 }, alwaysFail);
const failDefaultDelay = task({ name: "retry.failDefaultDelay", retry: 1 }, alwaysFail);
const failDelayList = task(
  { name: "retry.failDelayList", retry: 4, retryDelay: [0.1, 0, 0.05] },
  alwaysFail,
);
const failDelayNumber = task(
  { name: "retry.failDelayNumber", retry: 2, retryDelay: 0.05 },
  alwaysFail,
);
const failOnceSoon = task({ name: "retry.failOnceSoon", retry: 1, retryDelay: 0.2 }, failOnceWith);

/** Returns which attempt this is: a re-run gives a new result. */
const countRuns = task({ name: "retry.countRuns" }, (token: string) => attempt(token));

/** The attempt numbers each run saw, per token; every run fails. */
const attemptsReported = new PerTest<number[]>(() => []);
const reportAttempt = task(
  { name: "retry.reportAttempt", retry: 1, retryDelay: 0 },
  (token: string) => {
    attemptsReported.get(token).push(currentTask().attempt);
    throw new Error("always fails");
  },
);

/** Adds to the list it was given and sets a field, then fails on its first attempt: what does the retry get? */
const changesItsArguments = task(
  { name: "retry.changesItsArguments", retry: 1, retryDelay: 0 },
  (given: { items: number[]; seen?: boolean }, token: string) => {
    given.items.push(given.items.length + 1);
    const saw = given.seen === true;
    given.seen = true;
    if (attempt(token) === 1) throw new Error("first attempt fails");
    return { items: given.items, sawFieldSetBefore: saw };
  },
);

/** An args schema that trims its input where it lies, as some validators' transforms do. */
const trimsInPlace: StandardSchemaV1<[string], [string]> = {
  "~standard": {
    version: 1,
    vendor: "contract",
    validate(value) {
      if (!Array.isArray(value) || typeof value[0] !== "string")
        return { issues: [{ message: "expected [string]" }] };
      value[0] = value[0].trim();
      return { value: value as [string] };
    },
  },
};
const trimmed = task({ name: "retry.trimmed", args: trimsInPlace }, (text) => `[${text}]`);

/** Milliseconds between `lastRetryAt` and `nextRetryAt` of a retrying record. */
const delayOf = (t: Task) => t.nextRetryAt!.getTime() - t.lastRetryAt!.getTime();

/** Adds `t`, runs a worker until `t` has finished (every retry included), and returns its final record. */
async function addAndRunToTheEnd<R>(
  h: ContractHarness,
  queue: Queue,
  t: Task<R>,
): Promise<Task<R>> {
  await queue.add(t);
  const worker = h.worker(queue);
  const running = worker.work();
  const done = await queue.waitFor(t, { timeout: 10 });
  await worker.close();
  await running;
  return done;
}

export function retryCases(h: ContractHarness): void {
  describe("retry", () => {
    it("R-1 / R-3 a failure with retries left stores `retrying` with the error kept and nextRetryAt = now + delay", async () => {
      const queue = h.queue();
      const t = failSlowRetry(randomUUID());
      await queue.add(t);
      const summary = await h.worker(queue).work({ maxTasks: 1 });
      expect(summary).toMatchObject({ processed: 0, failed: 0, retried: 1 });
      const stored = (await queue.getTask(t))!;
      expect(stored.status).toBe("retrying");
      expect(stored.retryCount).toBe(1);
      expect(stored.result).toBeNull();
      expect(stored.finishedAt).toBeNull();
      expect(stored.error?.message).toBe("failure #1");
      expect(stored.lastRetryAt).not.toBeNull();
      expect(delayOf(stored)).toBe(10_000);
      // Waiting for its time as a scheduled entry, same id; not pending.
      expect((await queue.getScheduled()).map((s) => s.id)).toEqual([t.id]);
      expect(await queue.size()).toBe(0);
      // Not finished: waitFor does not return it.
      await expect(queue.waitFor(t, { timeout: 0 })).rejects.toThrow(/Did not complete/);
    });

    it("R-2 the default delay is 1 second", async () => {
      const queue = h.queue();
      expect(failDefaultDelay.config.retryDelay).toBe(1);
      const t = failDefaultDelay(randomUUID());
      await queue.add(t);
      await h.worker(queue).work({ maxTasks: 1 });
      const stored = (await queue.getTask(t))!;
      expect(stored.status).toBe("retrying");
      expect(delayOf(stored)).toBe(1000);
    });

    it("R-2 a delay list is indexed by retry number (first retry uses element 0) and its last value repeats; `retrying` between attempts, `failed` after the last", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = failDelayList(token);
      await queue.add(t);
      const worker = h.worker(queue);
      const retrying: Task[] = [];
      worker.on("task:retrying", ({ task: r }) => retrying.push(r));
      const summary = await worker.work({ maxTasks: 5 });
      expect(summary).toMatchObject({ processed: 0, retried: 4, failed: 1 });
      expect(retrying.map((r) => r.status)).toEqual([
        "retrying",
        "retrying",
        "retrying",
        "retrying",
      ]);
      expect(retrying.map((r) => r.retryCount)).toEqual([1, 2, 3, 4]);
      expect(retrying.map(delayOf)).toEqual([100, 0, 50, 50]);
      const final = (await queue.getTask(t))!;
      expect(final.status).toBe("failed");
      expect(final.retryCount).toBe(4);
      expect(final.error?.message).toBe("failure #5");
      expect(attempts.get(token).count).toBe(5);
    });

    it("R-2 a worker tells each attempt's start after the previous attempt's `retrying`, even when the retry is due at once", async () => {
      const queue = h.queue();
      const tokens = Array.from({ length: 20 }, () => randomUUID());
      await queue.add(tokens.map((token) => failOnce(token)));
      const worker = h.worker(queue, { concurrency: 10 });
      const told = new Map<string, string[]>();
      const tell = (what: string) => (e: { task: Task }) => {
        const steps = told.get(e.task.id) ?? [];
        steps.push(`${what}:${e.task.retryCount}`);
        told.set(e.task.id, steps);
      };
      worker.on("task:started", tell("started"));
      worker.on("task:retrying", tell("retrying"));
      worker.on("task:completed", tell("completed"));
      await worker.work({ maxTasks: 40 });
      expect(told.size).toBe(20);
      for (const steps of told.values())
        expect(steps).toEqual(["started:0", "retrying:1", "started:1", "completed:1"]);
    });

    it("R-2 a single delay number applies to every retry", async () => {
      const queue = h.queue();
      const t = failDelayNumber(randomUUID());
      await queue.add(t);
      const worker = h.worker(queue);
      const delays: number[] = [];
      worker.on("task:retrying", ({ task: r }) => delays.push(delayOf(r)));
      await worker.work({ maxTasks: 3 });
      expect(delays).toEqual([50, 50]);
      expect((await queue.getTask(t))?.status).toBe("failed");
    });

    it("R-3 a retry becomes pending (same id) when its time comes", async () => {
      const queue = h.queue();
      const t = failOnceSoon(randomUUID());
      await queue.add(t);
      await h.worker(queue).work({ maxTasks: 1 });
      expect((await queue.getTask(t))?.status).toBe("retrying");
      expect(await queue.size()).toBe(0);
      const scheduler = h.worker(queue, { processing: false });
      const running = scheduler.work();
      await until(async () => (await queue.size()) === 1, { what: "retry pending" });
      await scheduler.close();
      await running;
      const [pending] = await queue.getPending(1);
      expect(pending?.id).toBe(t.id);
      expect(pending?.status).toBe("pending");
      expect(pending?.retryCount).toBe(1);
      expect(await queue.getScheduled()).toEqual([]);
    });

    it("R-4 / E-9 a fail-once task with retry 2 completes on the second attempt; the error and the next retry's time are cleared", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = failOnce(token);
      await queue.add(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 1, retried: 1, failed: 0 });
      const done = (await queue.getTask(t))!;
      expect(done.status).toBe("completed");
      expect(done.retryCount).toBe(1);
      expect(done.error).toBeNull();
      expect(done.result).toBe("ok");
      // The retry ran: no retry is next any more; when it was decided stays.
      expect(done.nextRetryAt).toBeNull();
      expect(done.lastRetryAt).not.toBeNull();
      expect(attempts.get(token).count).toBe(2);
      expect(await queue.size()).toBe(0);
      expect(await queue.getScheduled()).toEqual([]);
    });

    it("R-4 retryDelay 0 retries at once: nextRetryAt equals lastRetryAt", async () => {
      const queue = h.queue();
      const t = failOnce(randomUUID());
      await queue.add(t);
      const worker = h.worker(queue);
      const delays: number[] = [];
      worker.on("task:retrying", ({ task: r }) => delays.push(delayOf(r)));
      await worker.work({ maxTasks: 2 });
      expect(delays).toEqual([0]);
      expect((await queue.getTask(t))?.status).toBe("completed");
    });

    it("R-5 retry 1 means exactly one extra attempt", async () => {
      const queue = h.queue();
      const [okToken, failToken] = [randomUUID(), randomUUID()];
      const recovers = failOnceRetry1(okToken);
      const fails = failRetry1(failToken);
      await queue.add([recovers, fails]);
      await h.worker(queue).work({ oneshot: true });
      const [done, failed] = await queue.getTask([recovers, fails]);
      expect(done?.status).toBe("completed");
      expect(done?.retryCount).toBe(1);
      expect(failed?.status).toBe("failed");
      expect(failed?.retryCount).toBe(1);
      expect(attempts.get(failToken).count).toBe(2);
    });

    it("R-6 failing on the last retry: failed, retryCount = retry, finishedAt set, no next retry", async () => {
      const queue = h.queue();
      const t = failRetry2(randomUUID());
      await queue.add(t);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ failed: 1, retried: 2 });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(failed.retryCount).toBe(2);
      expect(failed.finishedAt).not.toBeNull();
      expect(failed.error?.message).toBe("failure #3");
      expect(failed.shouldRetry).toBe(false);
      expect(failed.nextRetryAt).toBeNull();
    });

    it("R-7 each attempt is a separate claim: a fail-once task needs maxTasks 2", async () => {
      const queue = h.queue();
      const t = failOnce(randomUUID());
      await queue.add(t);
      const worker = h.worker(queue);
      expect(await worker.work({ maxTasks: 1 })).toMatchObject({ processed: 0, retried: 1 });
      const between = (await queue.getTask(t))!;
      expect(between.status).not.toBe("completed");
      expect(between.retryCount).toBe(1);
      expect(await worker.work({ maxTasks: 1 })).toMatchObject({ processed: 1, retried: 0 });
      expect((await queue.getTask(t))?.status).toBe("completed");
    });

    it("R-8 sync and async tasks retry identically", async () => {
      const queue = h.queue();
      const sync = failOnceRetry1(randomUUID());
      const async = failOnceAsync(randomUUID());
      await queue.add([sync, async]);
      await h.worker(queue).work({ oneshot: true });
      const [a, b] = await queue.getTask([sync, async]);
      expect([a?.status, a?.retryCount, a?.result]).toEqual(["completed", 1, "ok"]);
      expect([b?.status, b?.retryCount, b?.result]).toEqual(["completed", 1, "ok"]);
    });

    it("R-9 retrying an unknown task returns false", async () => {
      const queue = h.queue();
      expect(await queue.retry(randomUUID())).toBe(false);
      expect(await queue.retry(countRuns("x"))).toBe(false);
    });

    it("R-10 a completed task is not retried without force, also with `at`; nothing is enqueued", async () => {
      const queue = h.queue();
      const t = countRuns(randomUUID());
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      await expect(queue.retry(t)).rejects.toThrow(TaskStateError);
      await expect(queue.retry(t.id, { at: 60 })).rejects.toThrow(/force/);
      await expect(queue.retry(t)).rejects.toMatchObject({ reason: "completed", id: t.id });
      expect(await queue.size()).toBe(0);
      expect(await queue.getScheduled()).toEqual([]);
      expect((await queue.getTask(t))?.status).toBe("completed");
    });

    it("R-11 a task that has not finished (pending, scheduled, processing) cannot be retried", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const refused = async (t: Task, status: string) => {
        expect((await queue.getTask(t))?.status).toBe(status);
        await expect(queue.retry(t)).rejects.toThrow(TaskStateError);
        await expect(queue.retry(t, { force: true })).rejects.toThrow(`with status '${status}'`);
        await expect(queue.retry(t)).rejects.toMatchObject({
          reason: status === "processing" ? "running" : "waiting",
          status,
        });
      };
      const pending = countRuns("pending");
      await queue.add(pending);
      const scheduled = countRuns("scheduled");
      await queue.schedule(scheduled, 60);
      await refused(pending, "pending");
      await refused(scheduled, "scheduled");
      expect(await backend.claim(queue.name, 2)).toHaveLength(1);
      await refused(pending, "processing");
      expect(await queue.size()).toBe(0);
      expect((await queue.getScheduled()).map((s) => s.id)).toEqual([scheduled.id]);
    });

    it("R-12 / R-13 a failed task retried by hand is pending again with finishedAt cleared; retryCount untouched", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = failOnceNoRetry(token);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const failed = (await queue.getTask(t))!;
      expect(failed.status).toBe("failed");
      expect(await queue.retry(t)).toBe(true);
      expect(await queue.size()).toBe(1);
      const again = (await queue.getTask(t))!;
      expect(again.status).toBe("pending");
      expect(again.finishedAt).toBeNull();
      expect(again.retryCount).toBe(0);
      expect(again.lastRetryAt).not.toBeNull();
      expect(again.nextRetryAt).toEqual(again.lastRetryAt);
      expect(again.lastRetryAt!.getTime()).toBeGreaterThanOrEqual(failed.finishedAt!.getTime());
      await h.worker(queue).work({ oneshot: true });
      const done = (await queue.getTask(t))!;
      expect(done.status).toBe("completed");
      expect(done.retryCount).toBe(0);
      expect(done.error).toBeNull();
    });

    it("R-13 a forced re-run keeps the retryCount of the earlier run", async () => {
      const queue = h.queue();
      const t = failOnceRetry1(randomUUID());
      await queue.add(t);
      const worker = h.worker(queue);
      await worker.work({ oneshot: true });
      expect((await queue.getTask(t))?.retryCount).toBe(1);
      expect(await queue.retry(t, { force: true })).toBe(true);
      await worker.work({ oneshot: true });
      const done = (await queue.getTask(t))!;
      expect(done.status).toBe("completed");
      expect(done.retryCount).toBe(1);
    });

    it("attempt numbers keep counting across manual retries: the run sees and the record stores the attempt it is on", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = reportAttempt(token);
      await queue.add(t);
      expect((await queue.getTask(t))?.attempt).toBe(1);
      const worker = h.worker(queue);
      await worker.work({ oneshot: true });
      const afterRetry = (await queue.getTask(t))!;
      expect([afterRetry.status, afterRetry.retryCount, afterRetry.attempt]).toEqual([
        "failed",
        1,
        2,
      ]);
      expect(await queue.retry(t)).toBe(true);
      const manual = (await queue.getTask(t))!;
      expect([manual.retryCount, manual.manualRetryCount, manual.attempt]).toEqual([1, 1, 3]);
      await worker.work({ oneshot: true });
      expect(await queue.retry(t)).toBe(true);
      await worker.work({ oneshot: true });
      const last = (await queue.getTask(t))!;
      expect([last.status, last.retryCount, last.manualRetryCount, last.attempt]).toEqual([
        "failed",
        1,
        2,
        4,
      ]);
      expect(attemptsReported.get(token)).toEqual([1, 2, 3, 4]);
    });

    it("R-14 / R-15 a task that used up its retries and fails after a manual retry fails at once, same id, new finishedAt", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = failRetry1(token);
      await queue.add(t);
      const worker = h.worker(queue);
      await worker.work({ oneshot: true });
      const first = (await queue.getTask(t))!;
      expect([first.status, first.retryCount]).toEqual(["failed", 1]);
      expect(attempts.get(token).count).toBe(2);
      await sleep(5);
      expect(await queue.retry(t)).toBe(true);
      const summary = await worker.work({ oneshot: true });
      expect(summary).toMatchObject({ failed: 1, retried: 0 });
      expect(attempts.get(token).count).toBe(3);
      const second = (await queue.getTask(t))!;
      expect(second.id).toBe(first.id);
      expect([second.status, second.retryCount]).toEqual(["failed", 1]);
      expect(second.error?.message).toBe("failure #3");
      expect(second.finishedAt!.getTime()).toBeGreaterThan(first.finishedAt!.getTime());
    });

    it("R-16 force re-runs a completed task, which ends with the new outcome", async () => {
      const queue = h.queue();
      const t = countRuns(randomUUID());
      await queue.add(t);
      const worker = h.worker(queue);
      await worker.work({ oneshot: true });
      expect((await queue.getTask(t))?.result).toBe(1);
      expect(await queue.retry(t, { force: true })).toBe(true);
      expect(await queue.size()).toBe(1);
      await worker.work({ oneshot: true });
      const done = (await queue.getTask(t))!;
      expect(done.status).toBe("completed");
      expect(done.result).toBe(2);
    });

    it("R-17 retry with `at` schedules the task instead of making it pending; it runs once due", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = failOnceNoRetry(token);
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.getTask(t))?.status).toBe("failed");
      expect(await queue.retry(t, { at: 0.2 })).toBe(true);
      expect(await queue.size()).toBe(0);
      expect((await queue.getScheduled()).map((s) => s.id)).toEqual([t.id]);
      const scheduled = (await queue.getTask(t))!;
      expect(scheduled.status).toBe("scheduled");
      expect(scheduled.scheduledAt).not.toBeNull();
      expect(scheduled.nextRetryAt).toEqual(scheduled.scheduledAt);
      expect(attempts.get(token).count).toBe(1);
      await h.worker(queue).work({ maxTasks: 1 });
      const done = (await queue.getTask(t))!;
      expect(done.status).toBe("completed");
      expect(done.startedAt!.getTime()).toBeGreaterThanOrEqual(scheduled.scheduledAt!.getTime());
    });

    it("R-18 force and `at` together on a completed task schedule it", async () => {
      const queue = h.queue();
      const t = countRuns(randomUUID());
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const at = new Date(Date.now() + 60_000);
      expect(await queue.retry(t, { force: true, at })).toBe(true);
      expect(await queue.size()).toBe(0);
      const scheduled = await queue.getScheduled();
      expect(scheduled.map((s) => s.id)).toEqual([t.id]);
      expect(scheduled[0]?.status).toBe("scheduled");
      expect(scheduled[0]?.scheduledAt).toEqual(at);
      expect(scheduled[0]?.result).toBeNull();
    });

    it("R-19 retrying, crashed and cancelled tasks are accepted by manual retry and run again", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      // retrying: waiting 10 s for its automatic retry; a manual retry makes it pending now.
      const token = randomUUID();
      const waiting = failSlowRetry(token);
      await queue.add(waiting);
      await h.worker(queue).work({ maxTasks: 1 });
      expect((await queue.getTask(waiting))?.status).toBe("retrying");
      // crashed: as a reclaiming worker stores it.
      const crashed = countRuns(randomUUID());
      await queue.add(crashed);
      const [claim] = await backend.claim(queue.name, 1);
      const claimed = claim?.record;
      expect(claimed?.id).toBe(crashed.id);
      await settleClaim(backend, queue.name, claim!, {
        ...claimed!,
        status: "crashed",
        finishedAt: new Date().toISOString(),
        error: {
          type: "WorkerCrashedError",
          message: "Worker crashed during execution",
          stack: null,
          cause: null,
        },
      });
      // cancelled
      const cancelled = countRuns(randomUUID());
      await queue.add(cancelled);
      await queue.cancel(cancelled);
      for (const t of [waiting, crashed, cancelled]) expect(await queue.retry(t)).toBe(true);
      expect(await queue.size()).toBe(3);
      expect(await queue.getScheduled()).toEqual([]);
      await h.worker(queue).work({ oneshot: true });
      const [w, c, x] = await queue.getTask([waiting, crashed, cancelled]);
      expect([w?.status, w?.retryCount]).toEqual(["failed", 1]);
      expect(attempts.get(token).count).toBe(2);
      expect([c?.status, c?.result]).toEqual(["completed", 1]);
      expect([x?.status, x?.result]).toEqual(["completed", 1]);
    });

    it("a retry undoes a cancel: a task cancelled while it waited for a time still ahead goes back to that time; one whose time has passed runs now", async () => {
      const queue = h.queue();
      const [later, bulk, passed] = [
        countRuns(randomUUID()),
        countRuns(randomUUID()),
        countRuns(randomUUID()),
      ];
      for (const t of [later, bulk]) expect(await queue.schedule(t, 3600)).toBe(true);
      const due = (await queue.getTask(later))!.scheduledAt!;
      const bulkDue = (await queue.getTask(bulk))!.scheduledAt!;
      expect(await queue.schedule(passed, 1)).toBe(true);
      for (const t of [later, bulk, passed]) {
        expect((await queue.cancel(t))?.status).toBe("cancelled");
      }
      expect(await queue.retry(later)).toBe(true);
      const back = await queue.getTask(later);
      expect([back?.status, back?.scheduledAt]).toEqual(["scheduled", due]);
      expect(back?.manualRetryCount).toBe(1);
      await sleep(1100);
      expect(await queue.retry(passed)).toBe(true);
      const now = await queue.getTask(passed);
      expect([now?.status, now?.scheduledAt]).toEqual(["pending", null]);
      // retryAll undoes a cancelAll the same way (the one cancelled task left).
      expect(await queue.retryAll({ status: "cancelled" })).toMatchObject({ retried: 1 });
      const bulkBack = await queue.getTask(bulk);
      expect([bulkBack?.status, bulkBack?.scheduledAt]).toEqual(["scheduled", bulkDue]);
      expect((await queue.getScheduled()).map((t) => t.id).sort()).toEqual(
        [later.id, bulk.id].sort(),
      );
      await h.worker(queue).work({ oneshot: true });
      const [kept, done] = await queue.getTask([later, passed]);
      expect(kept?.status).toBe("scheduled");
      expect([done?.status, done?.result, done?.scheduledAt]).toEqual(["completed", 1, null]);
      // `at` moves it; reschedule runs it sooner.
      expect(await queue.reschedule(later)).toBe(true);
      expect((await queue.getTask(later))?.status).toBe("pending");
    });

    it("W-10 waitFor returns only the final outcome of a retried task", async () => {
      const queue = h.queue();
      const t = failOnceRetry1(randomUUID());
      const done = await addAndRunToTheEnd(h, queue, t);
      expect(done.status).toBe("completed");
      expect(done.retryCount).toBe(1);
      expect(done.result).toBe("ok");
    });

    it("a task that changes the arguments it was given changes neither its stored arguments nor what its retry gets", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const t = changesItsArguments({ items: [1, 2] }, token);
      const done = await addAndRunToTheEnd(h, queue, t);
      expect(done.status).toBe("completed");
      expect(done.retryCount).toBe(1);
      // The retry got the stored arguments, not what the first attempt left of them.
      expect(done.result).toEqual({ items: [1, 2, 3], sawFieldSetBefore: false });
      expect(done.args).toEqual([{ items: [1, 2] }, token]);
      expect((await queue.getTask(t))?.args).toEqual([{ items: [1, 2] }, token]);
    });

    it("an args schema that changes its input where it lies reads the attempt's own copy of the stored arguments", async () => {
      const queue = h.queue();
      const t = trimmed("  spaced  ");
      expect(t.args).toEqual(["spaced"]);
      const done = await addAndRunToTheEnd(h, queue, t);
      expect([done.status, done.result, done.error?.message]).toEqual([
        "completed",
        "[spaced]",
        undefined,
      ]);
    });
  });
}
