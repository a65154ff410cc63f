/**
 * Moving a waiting task to another time or priority: `queue.reschedule()`
 * and the backend's `reschedule`. A scheduled task or a retry that waits
 * can run now; a pending one can wait. Only a task that still waits, and
 * still is the run that was read, moves: a claim, a settle, a retry or a
 * debounced replacement in between makes the write a no-op, so nothing
 * runs twice and nothing newer is undone.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InvalidOptionError, TaskStateError, task } from "../../index.js";
import { rescheduledRecord } from "../../queue/reschedule-api.js";
import type { ContractHarness } from "../harness.js";
import { finishedRecord, retryingRecord, settleClaim } from "../support/records.js";

const echo = task({ name: "reschedule.echo" }, (label: string) => label);
const keyed = task(
  { name: "reschedule.keyed", concurrency: { key: "one-at-a-time", limit: 1 } },
  (label: string) => label,
);

/** Labels whose first run has failed. */
const failedOnce = new Set<string>();
/** Fails its first run, and is retried an hour later. */
const retryInAnHour = task(
  { name: "reschedule.retry-in-an-hour", retry: 1, retryDelay: 3600 },
  (label: string) => {
    if (!failedOnce.has(label)) {
      failedOnce.add(label);
      throw new Error("first run fails");
    }
    return label;
  },
);

const HOUR = 3_600_000;
const UNKNOWN = "00000000-0000-0000-0000-000000000000";

export function rescheduleCases(h: ContractHarness): void {
  describe("reschedule", () => {
    it("RS-1 a scheduled task moved to now is pending at once, same id and arguments, and a worker runs it", async () => {
      const queue = h.queue();
      const t = echo("soon");
      await queue.schedule(t, new Date(Date.now() + HOUR));
      expect(await queue.reschedule(t)).toBe(true);
      const moved = await queue.getTask(t);
      expect([moved?.status, moved?.scheduledAt, moved?.args]).toEqual(["pending", null, ["soon"]]);
      expect(await queue.size()).toBe(1);
      expect((await queue.getScheduled()).map((s) => s.id)).toEqual([]);
      await h.worker(queue).work({ oneshot: true });
      const done = await queue.getTask(t);
      expect([done?.status, done?.result, done?.retryCount]).toEqual(["completed", "soon", 0]);
    });

    it("RS-2 a pending task moved an hour ahead waits: scheduled for that time, not counted, not claimable", async () => {
      const queue = h.queue();
      const t = echo("later");
      await queue.add(t);
      const before = Date.now();
      expect(await queue.reschedule(t, { at: 3600 })).toBe(true);
      const moved = await queue.getTask(t);
      expect(moved?.status).toBe("scheduled");
      const due = moved?.scheduledAt?.getTime() ?? 0;
      expect(due).toBeGreaterThanOrEqual(before + HOUR);
      expect(due).toBeLessThanOrEqual(Date.now() + HOUR);
      expect(await queue.size()).toBe(0);
      const backend = await queue.connect();
      expect(await backend.claim(queue.name, 5, 50)).toEqual([]);
      expect((await queue.getScheduled()).map((s) => s.id)).toEqual([t.id]);
    });

    it("RS-3 scheduled tasks moved earlier and later take their new places in getScheduled", async () => {
      const queue = h.queue();
      const [a, b, c] = [echo("a"), echo("b"), echo("c")];
      const base = Date.now();
      await queue.schedule(a, new Date(base + HOUR));
      await queue.schedule(b, new Date(base + 2 * HOUR));
      await queue.schedule(c, new Date(base + 3 * HOUR));
      await queue.reschedule(c, { at: new Date(base + HOUR / 2) });
      await queue.reschedule(a, { at: new Date(base + 4 * HOUR).toISOString() });
      const listed = await queue.getScheduled();
      expect(listed.map((s) => s.id)).toEqual([c.id, b.id, a.id]);
      expect(listed[0]?.scheduledAt?.getTime()).toBe(base + HOUR / 2);
      expect(listed[2]?.scheduledAt?.getTime()).toBe(base + 4 * HOUR);
    });

    it("RS-4 a new priority decides which waiting task is claimed first", async () => {
      const queue = h.queue();
      const [first, second] = [echo("first"), echo("second")];
      await queue.add([first, second]);
      expect(await queue.reschedule(second, { priority: 5 })).toBe(true);
      expect((await queue.getPending(10)).map((p) => p.id)).toEqual([second.id, first.id]);
      expect((await queue.getTask(second))?.priority).toBe(5);
      const backend = await queue.connect();
      const [claim] = await backend.claim(queue.name, 1, 50);
      expect(claim?.record.id).toBe(second.id);
    });

    it("RS-5 a retry waiting an hour moved to now runs at once, its attempts counted on", async () => {
      const queue = h.queue();
      const t = retryInAnHour(randomUUID());
      await queue.add(t);
      await h.worker(queue).work({ oneshot: true });
      const waiting = await queue.getTask(t);
      expect([waiting?.status, waiting?.retryCount]).toEqual(["retrying", 1]);
      expect(await queue.reschedule(t)).toBe(true);
      expect((await queue.getTask(t))?.status).toBe("pending");
      await h.worker(queue).work({ oneshot: true });
      const done = await queue.getTask(t);
      expect([done?.status, done?.result, done?.retryCount]).toEqual(["completed", t.args[0], 1]);
    });

    it("RS-6 a retry moved later stays a retry: its error and count kept, its time the new one", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const t = echo("retried");
      await queue.add(t);
      const [claim] = await backend.claim(queue.name, 1, 50);
      const failed = {
        ...retryingRecord(claim!.record, Date.now() + HOUR),
        error: { type: "Error", message: "first run fails", stack: null, cause: null },
      };
      expect(await settleClaim(backend, queue.name, claim!, failed)).toBe("settled");
      const at = new Date(Date.now() + 2 * HOUR);
      expect(await queue.reschedule(t, { at })).toBe(true);
      const moved = await queue.getTask(t);
      expect([moved?.status, moved?.retryCount, moved?.error?.message]).toEqual([
        "retrying",
        1,
        "first run fails",
      ]);
      expect(moved?.nextRetryAt?.getTime()).toBe(at.getTime());
      expect(await backend.claim(queue.name, 1, 50)).toEqual([]);
    });

    it("RS-7 an unknown task is false; a claimed or finished one is refused, unchanged; bad options are refused", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      expect(await queue.reschedule(UNKNOWN)).toBe(false);
      const [running, done] = [echo("running"), echo("done")];
      await queue.add(running);
      const [claim] = await backend.claim(queue.name, 1, 50);
      await expect(queue.reschedule(running)).rejects.toThrow(
        /Cannot reschedule task .* with status 'processing': only a task waiting to run/,
      );
      await expect(queue.reschedule(running)).rejects.toMatchObject({
        reason: "running",
        status: "processing",
      });
      await settleClaim(backend, queue.name, claim!);
      await queue.add(done);
      await h.worker(queue).work({ oneshot: true });
      const finished = await queue.reschedule(done).catch((e: unknown) => e);
      expect(finished).toBeInstanceOf(TaskStateError);
      expect((finished as Error).message).toMatch(
        /status 'completed'.*a retry runs a finished one/,
      );
      expect(finished).toMatchObject({ reason: "finished", id: done.id, status: "completed" });
      expect((await queue.getTask(done))?.status).toBe("completed");
      const waiting = echo("waiting");
      await queue.add(waiting);
      await expect(queue.reschedule(waiting, { when: 5 } as never)).rejects.toThrow(
        InvalidOptionError,
      );
      await expect(queue.reschedule(waiting, { priority: 1.5 })).rejects.toThrow(
        /queue\.reschedule\(\): priority/,
      );
      await expect(queue.reschedule(waiting, { at: new Date(Date.now() - HOUR) })).rejects.toThrow(
        InvalidOptionError,
      );
      expect((await queue.getTask(waiting))?.status).toBe("pending");
    });

    it("RS-8 the backend's reschedule holds only for the record read: not once it is claimed, retried, moved, finished or gone", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const t = echo("raced");
      await queue.schedule(t, new Date(Date.now() + HOUR));
      const read = async () => (await backend.getTasks(queue.name, [t.id])).get(t.id)!;
      const first = await read();
      const toNow = rescheduledRecord(first, Date.now(), Date.now());
      const toLater = rescheduledRecord(first, Date.now(), Date.now() + 2 * HOUR, 3);
      // Two moves made from one read: the first writes, the second finds the record moved.
      expect(await backend.reschedule(queue.name, first, toNow)).toBe(true);
      expect(await backend.reschedule(queue.name, first, toLater)).toBe(false);
      expect((await read()).status).toBe("pending");
      const beforeClaim = await read();
      const [claim] = await backend.claim(queue.name, 1, 50);
      expect(claim?.record.id).toBe(t.id);
      expect(
        await backend.reschedule(queue.name, beforeClaim, { ...toLater, status: "scheduled" }),
      ).toBe(false);
      // Settled as a retry: no longer the record read before the claim.
      await settleClaim(
        backend,
        queue.name,
        claim!,
        retryingRecord(claim!.record, Date.now() + HOUR),
      );
      expect(await backend.reschedule(queue.name, beforeClaim, toNow)).toBe(false);
      expect((await read()).status).toBe("retrying");
      // A fresh read of the retry moves it.
      const retry = await read();
      const moved = rescheduledRecord(retry, Date.now(), Date.now() + 2 * HOUR);
      expect(await backend.reschedule(queue.name, retry, moved)).toBe(true);
      expect((await read()).nextRetryAt).toBe(moved.nextRetryAt);
      // Finished (cancelled): nothing moves it back.
      const beforeCancel = await read();
      expect((await queue.cancel(t)).status).toBe("cancelled");
      expect(await backend.reschedule(queue.name, beforeCancel, moved)).toBe(false);
      expect((await read()).status).toBe("cancelled");
      // A task the queue does not hold is never added by a reschedule.
      const ghost = { ...moved, id: randomUUID() };
      expect(await backend.reschedule(queue.name, { ...beforeCancel, id: ghost.id }, ghost)).toBe(
        false,
      );
      expect((await backend.getTasks(queue.name, [ghost.id])).size).toBe(0);
    });

    it("RS-8 a due task promoted to pending between the read and the write still moves", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const t = echo("promoted");
      await queue.schedule(t, new Date(Date.now() + 200));
      const read = (await backend.getTasks(queue.name, [t.id])).get(t.id)!;
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await backend.promoteDue(queue.name, Date.now())).toEqual([t.id]);
      const later = rescheduledRecord(read, Date.now(), Date.now() + HOUR);
      expect(await backend.reschedule(queue.name, read, later)).toBe(true);
      expect((await queue.getTask(t))?.status).toBe("scheduled");
      expect(await queue.size()).toBe(0);
    });

    it("RS-8 a debounced replacement between the read and the write is kept: the older read moves nothing", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const first = echo("v1");
      const at = new Date(Date.now() + HOUR);
      await queue.schedule(first, at, { dedupe: { key: "k", mode: "replace" } });
      const read = (await backend.getTasks(queue.name, [first.id])).get(first.id)!;
      const replaced = await queue.schedule(echo("v2"), at, {
        dedupe: { key: "k", mode: "replace" },
      });
      expect(replaced).toEqual({ outcome: "replaced", id: first.id });
      const toNow = rescheduledRecord(read, Date.now(), Date.now());
      expect(await backend.reschedule(queue.name, read, toNow)).toBe(false);
      const stored = await queue.getTask(first.id);
      expect([stored?.status, stored?.args]).toEqual(["scheduled", ["v2"]]);
      // The debounced task itself moves as any other.
      expect(await queue.reschedule(first.id)).toBe(true);
      expect((await queue.getTask(first.id))?.args).toEqual(["v2"]);
    });

    it("RS-8 a record that does not wait, is another task's, or is not a record, is refused before anything is written", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const t = echo("checked");
      await queue.add(t);
      const stored = (await backend.getTasks(queue.name, [t.id])).get(t.id)!;
      await expect(backend.reschedule(queue.name, stored, finishedRecord(stored))).rejects.toThrow(
        InvalidOptionError,
      );
      await expect(
        backend.reschedule(queue.name, stored, { ...stored, id: randomUUID() }),
      ).rejects.toThrow(/replaces a task's own record/);
      await expect(
        backend.reschedule(queue.name, stored, { ...stored, args: "not a list" } as never),
      ).rejects.toThrow(/rescheduled/);
      expect((await queue.getTask(t))?.status).toBe("pending");
    });

    it("RS-12 a new priority alone keeps the time a task waits for: a scheduled one stays scheduled, a retry stays a retry", async () => {
      const queue = h.queue();
      const t = echo("bumped");
      const at = new Date(Date.now() + HOUR);
      await queue.schedule(t, at);
      expect(await queue.reschedule(t, { priority: 9 })).toBe(true);
      const bumped = await queue.getTask(t);
      expect([bumped?.status, bumped?.scheduledAt?.getTime(), bumped?.priority]).toEqual([
        "scheduled",
        at.getTime(),
        9,
      ]);
      expect(await queue.size()).toBe(0);
    });

    it("RS-13 two moves of one task at once each keep what the other changed: a new time and a new priority both hold", async () => {
      const queue = h.queue();
      const other = h.sibling(queue);
      for (let round = 0; round < 5; round++) {
        const t = echo(`both-${round}`);
        await queue.schedule(t, new Date(Date.now() + HOUR));
        const at = new Date(Date.now() + 3 * HOUR);
        await Promise.all([queue.reschedule(t, { priority: 7 }), other.reschedule(t, { at })]);
        const stored = await queue.getTask(t);
        expect([stored?.priority, stored?.scheduledAt?.getTime()]).toEqual([7, at.getTime()]);
      }
    });

    it("RS-14 a cron's run is not started before its fire time (it would run again then); moved later it is", async () => {
      const queue = h.queue();
      // addCron schedules the cron's next runs itself; the earliest is listed first.
      await queue.addCron(echo("nightly"), "0 3 * * *");
      const [run] = await queue.getScheduled();
      expect(run?.cronId).not.toBeNull();
      const fireTime = run!.scheduledAt!.getTime();
      const early = await queue.reschedule(run!.id).catch((e: unknown) => e);
      expect(early).toBeInstanceOf(TaskStateError);
      expect((early as Error).message).toMatch(
        /it is the run of cron .* due then, and run earlier it would run again at that time/,
      );
      expect(early).toMatchObject({ reason: "cron-fire-time", status: "scheduled" });
      const later = new Date(fireTime + HOUR);
      expect(await queue.reschedule(run!.id, { at: later })).toBe(true);
      expect((await queue.getTask(run!.id))?.scheduledAt?.getTime()).toBe(later.getTime());
    });

    it("RS-9 a keyed task moved to now still waits for its key's slot", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const [holder, waiter] = [keyed("holder"), keyed("waiter")];
      await queue.add(holder);
      await queue.schedule(waiter, new Date(Date.now() + HOUR));
      const [claim] = await backend.claim(queue.name, 5, 50);
      expect(claim?.record.id).toBe(holder.id);
      expect(await queue.reschedule(waiter)).toBe(true);
      expect(await backend.claim(queue.name, 5, 50)).toEqual([]);
      await settleClaim(backend, queue.name, claim!);
      const [next] = await backend.claim(queue.name, 5, 2000);
      expect(next?.record.id).toBe(waiter.id);
    });

    it("RS-10 a worker waiting on the queue starts a task moved to now, not at its old time", async () => {
      const queue = h.queue();
      const worker = h.worker(queue);
      const running = worker.work();
      const t = echo("woken");
      await queue.schedule(t, new Date(Date.now() + HOUR));
      await queue.reschedule(t);
      const done = await queue.waitFor(t, { timeout: 10 });
      expect([done.status, done.result]).toEqual(["completed", "woken"]);
      await worker.close();
      await running;
    });

    h.itIfInline("memory runs tasks in process only")(
      "RS-11 inline processing runs a task moved to now before reschedule returns",
      async () => {
        const queue = h.queue({ instantProcessing: true });
        const t = echo("inline");
        await queue.schedule(t, new Date(Date.now() + HOUR));
        expect(await queue.reschedule(t)).toBe(true);
        const done = await queue.getTask(t);
        expect([done?.status, done?.result]).toEqual(["completed", "inline"]);
      },
    );
  });
}
