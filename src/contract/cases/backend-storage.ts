/**
 * The backend contract itself (`Backend`, its role interfaces), called
 * directly: connection, adding work, and reading it back. Instants and
 * durations are milliseconds here. Collections whose order the contract
 * does not state are compared as sets.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Backend } from "../../backends/backend.js";
import { BackendError, InvalidOptionError, systemClock, type TaskData, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import {
  claimIds,
  finishedRecord,
  ids,
  iso,
  retryingRecord,
  scheduledRecord,
  settleClaim,
} from "../support/records.js";

const item = task({ name: "backend-storage.item" }, (n: number) => n);

/** A pending record of a new task. */
const data = (n: number, extra: Partial<TaskData> = {}): TaskData => ({
  ...item(n).toJSON(),
  status: "pending",
  ...extra,
});
const HOUR = 3_600_000;
const UNKNOWN = "00000000-0000-0000-0000-000000000000";

export function backendStorageCases(h: ContractHarness): void {
  /** The test's backend and two unique queue names on it. */
  const setup = async (): Promise<{ backend: Backend; q: string; other: string }> => {
    const backend = await h.backend();
    return { backend, q: h.queue().name, other: h.queue().name };
  };
  /** A new backend of this kind that nothing has connected yet (closed after the test). */
  const unconnected = (): Backend => h.queue({ clock: systemClock }).backend;

  describe("backend: connection", () => {
    it("B-1 a new backend is not connected; connect and disconnect flip isConnected and are idempotent", async () => {
      const backend = unconnected();
      expect(backend.isConnected).toBe(false);
      await Promise.all([backend.connect(), backend.connect()]);
      expect(backend.isConnected).toBe(true);
      await backend.connect();
      expect(backend.isConnected).toBe(true);
      await backend.disconnect();
      expect(backend.isConnected).toBe(false);
      await backend.disconnect();
      expect(backend.isConnected).toBe(false);
    });

    it("B-2 every call but connect throws BackendError before connect() and after disconnect()", async () => {
      const backend = unconnected();
      const q = "backend-storage-unconnected";
      const d = data(1);
      const now = Date.now();
      const calls: [string, (b: Backend) => Promise<unknown>][] = [
        ["add", (b) => b.add(q, [d])],
        ["claim", (b) => b.claim(q, 1)],
        ["getPending", (b) => b.getPending(q, 1)],
        ["size", (b) => b.size(q)],
        ["clear", (b) => b.clear(q)],
        ["getTasks", (b) => b.getTasks(q, [d.id])],
        ["promoteDue", (b) => b.promoteDue(q, now)],
        [
          "settle",
          (b) =>
            b.settle(
              q,
              [{ fence: 1, record: finishedRecord(d), children: [], expiresAt: null }],
              now,
            ),
        ],
        ["watchFinished", (b) => b.watchFinished(q, () => undefined)],
        ["getStats", (b) => b.getStats(q)],
        ["getAllTasks", (b) => b.getAllTasks(q)],
        ["listTasks", (b) => b.listTasks(q)],
        ["listQueues", (b) => b.listQueues()],
        ["getScheduled", (b) => b.getScheduled(q)],
        ["cancel", (b) => b.cancel(q, d.id, { at: now, expiresAt: null })],
        ["deleteTask", (b) => b.deleteTask(q, d.id)],
        ["addCron", (b) => b.addCron(q, "c", { deterministicId: "c" })],
        ["deleteCron", (b) => b.deleteCron(q, "c")],
        ["getCrons", (b) => b.getCrons(q)],
        ["listCronQueues", (b) => b.listCronQueues()],
        ["listPaused", (b) => b.listPaused()],
        ["renew", (b) => b.renew(q, [{ id: d.id, fence: 1 }])],
        ["reclaimExpired", (b) => b.reclaimExpired(q, { leaseMs: 1000, confirmMs: 0 })],
        [
          "acquireRateLimit",
          (b) =>
            b.acquireRateLimit(q, {
              key: "k",
              maxRate: 1,
              periodMs: 1000,
              taskId: d.id,
              strategy: "sliding_window",
              now,
            }),
        ],
        ["pruneExpired", (b) => b.pruneExpired(q, now)],
      ];
      for (const [name, call] of calls) {
        await expect(
          Promise.resolve().then(() => call(backend)),
          `${name} before connect`,
        ).rejects.toThrow(BackendError);
      }
      await backend.connect();
      expect(await backend.add(q, [d])).toEqual([true]);
      await backend.disconnect();
      for (const [name, call] of calls.slice(0, 4)) {
        await expect(
          Promise.resolve().then(() => call(backend)),
          `${name} after disconnect`,
        ).rejects.toThrow(BackendError);
      }
    });

    it("B-2 disconnect ends a waiting claim, and tells finished-listeners to look again", async () => {
      const backend = unconnected();
      await backend.connect();
      const q = h.queue().name;
      const heard: (readonly string[])[] = [];
      await backend.watchFinished(q, (finished) => heard.push(finished));
      const claiming = backend.claim(q, 1, 60_000).then(
        (claimed) => claimed,
        (error: unknown) => error,
      );
      await sleep(20);
      await backend.disconnect();
      // A waiting claim ends empty-handed (or with BackendError).
      const claimed = await claiming;
      const ended =
        claimed instanceof BackendError || (Array.isArray(claimed) && claimed.length === 0);
      expect(ended, `claim ended with ${String(claimed)}`).toBe(true);
      expect(heard).toContainEqual([]);
    });
  });

  describe("backend: disconnect while a claim is just starting", () => {
    it("B-2 disconnect at once after a claim starts waiting (its connection still opening) ends it promptly", async () => {
      // At once and a few milliseconds in: the claim is in its first look, or opening its wait.
      for (const delayMs of [0, 0, 1, 2, 5, 10]) {
        const backend = unconnected();
        await backend.connect();
        const claiming = backend.claim(h.queue().name, 1, 60_000).then(
          (claimed) => claimed,
          (error: unknown) => error,
        );
        if (delayMs > 0) await sleep(delayMs);
        await backend.disconnect();
        const claimed = await claiming;
        const ended =
          claimed instanceof BackendError || (Array.isArray(claimed) && claimed.length === 0);
        expect(ended, `claim ended with ${String(claimed)}`).toBe(true);
      }
    });
  });

  describe("backend: instances", () => {
    it("two instances share records exactly when the backend is cross-process", async () => {
      const queue = h.queue();
      const other = h.queue({ clock: systemClock });
      const [a, b] = [await queue.connect(), await other.connect()];
      const d = data(1);
      await a.add(queue.name, [d]);
      const seen = (await b.getTasks(queue.name, [d.id])).has(d.id);
      expect(seen).toBe(h.capabilities.crossProcess);
      // Claims follow the same rule: an instance claims only what it can see.
      expect((await b.claim(queue.name, 5)).length).toBe(h.capabilities.crossProcess ? 1 : 0);
      expect(await b.size(queue.name)).toBe(0);
      expect(await a.size(queue.name)).toBe(h.capabilities.crossProcess ? 0 : 1);
    });
  });

  describe("backend: adding work", () => {
    it("B-3 add stores and enqueues; unique (default) refuses an id the queue holds and a second copy in one call", async () => {
      const { backend, q } = await setup();
      const [d1, d2, d3] = [data(1), data(2), data(3)];
      expect(await backend.add(q, [d1])).toEqual([true]);
      expect(await backend.add(q, [d2, d3], "unique")).toEqual([true, true]);
      expect(await backend.add(q, [d1, data(4)])).toEqual([false, true]);
      expect(await backend.add(q, [{ ...d2, args: [99] }])).toEqual([false]);
      const fresh = data(5);
      expect(await backend.add(q, [fresh, fresh])).toEqual([true, false]);
      expect(await backend.size(q)).toBe(5);
      expect((await backend.getTasks(q, [d2.id])).get(d2.id)).toEqual(d2);
      expect(await backend.add(q, [])).toEqual([]);
    });

    it("B-3 an id that is claimed or finished is refused by a unique add too", async () => {
      const { backend, q } = await setup();
      const [claimed, done] = [data(1), data(2)];
      await backend.add(q, [claimed, done]);
      const [first, second] = await backend.claim(q, 2);
      await settleClaim(backend, q, second!);
      expect(await backend.add(q, [claimed, done])).toEqual([false, false]);
      expect(await backend.size(q)).toBe(0);
      expect((await backend.getTasks(q, [first!.record.id])).get(first!.record.id)?.status).toBe(
        "processing",
      );
    });

    it("B-4 replace overwrites a record in any unclaimed state and enqueues it once", async () => {
      const { backend, q } = await setup();
      const d = data(1);
      await backend.add(q, [d]);
      const changed = { ...d, args: [2] };
      expect(await backend.add(q, [changed], "replace")).toEqual([true]);
      expect(await backend.size(q)).toBe(1);
      expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(changed);

      const [claim] = await backend.claim(q, 1);
      await settleClaim(backend, q, claim!, finishedRecord(claim!.record, "failed"));
      const rerun = { ...d, args: [3], lastRetryAt: iso() };
      expect(await backend.add(q, [rerun], "replace")).toEqual([true]);
      expect(await backend.size(q)).toBe(1);
      expect((await backend.getStats(q)).failed).toBe(0);
      const [again] = await backend.claim(q, 1);
      expect({ ...again!.record, status: "pending", startedAt: null }).toEqual(rerun);
      // A new claim never reuses an earlier fence.
      expect(again!.fence).toBeGreaterThan(claim!.fence);
    });

    it("B-4 replace never replaces a task claimed right now", async () => {
      const { backend, q } = await setup();
      const d = data(1);
      await backend.add(q, [d]);
      await backend.claim(q, 1);
      expect(await backend.add(q, [d], "replace")).toEqual([false]);
      expect(await backend.add(q, [scheduledRecord(d, Date.now() + HOUR)], "replace")).toEqual([
        false,
      ]);
      expect(await backend.size(q)).toBe(0);
      expect((await backend.getTasks(q, [d.id])).get(d.id)?.status).toBe("processing");
    });

    it("B-4 rerun replaces a finished record, or one waiting for its retry, once; never one pending, scheduled or claimed", async () => {
      const { backend, q } = await setup();
      const [waiting, later, claimed, failed, retrying] = [1, 2, 3, 4, 5].map((n) => data(n)) as [
        TaskData,
        TaskData,
        TaskData,
        TaskData,
        TaskData,
      ];
      await backend.add(q, [claimed, failed, retrying]);
      const [claimOfClaimed, claimOfFailed, claimOfRetrying] = await backend.claim(q, 3);
      await settleClaim(
        backend,
        q,
        claimOfFailed!,
        finishedRecord(claimOfFailed!.record, "failed"),
      );
      await settleClaim(backend, q, claimOfRetrying!, {
        ...claimOfRetrying!.record,
        status: "retrying",
        retryCount: 1,
        lastRetryAt: iso(),
        nextRetryAt: iso(Date.now() + HOUR),
      });
      await backend.add(q, [waiting, scheduledRecord(later, Date.now() + HOUR)]);

      const rerunOf = (d: TaskData) => ({
        ...d,
        args: [9],
        lastRetryAt: iso(),
        manualRetryCount: (d.manualRetryCount ?? 0) + 1,
      });
      const all = [waiting, later, claimed, failed, retrying];
      expect(await backend.add(q, all.map(rerunOf), "rerun")).toEqual([
        false,
        false,
        false,
        true,
        true,
      ]);
      // Pending again: a second rerun (another caller's) is refused.
      expect(await backend.add(q, [rerunOf(failed), rerunOf(retrying)], "rerun")).toEqual([
        false,
        false,
      ]);
      expect((await backend.getStats(q)).failed).toBe(0);
      const stored = await backend.getTasks(
        q,
        all.map((d) => d.id),
      );
      expect(stored.get(waiting.id)?.args).toEqual(waiting.args);
      expect(stored.get(later.id)?.status).toBe("scheduled");
      expect(stored.get(claimed.id)?.status).toBe("processing");
      expect(stored.get(failed.id)?.args).toEqual([9]);
      expect(stored.get(retrying.id)?.args).toEqual([9]);
      const claims = await backend.claim(q, 5);
      expect(claims.map((c) => c.record.id).sort()).toEqual(
        [waiting.id, failed.id, retrying.id].sort(),
      );
      expect(claims.find((c) => c.record.id === failed.id)!.fence).toBeGreaterThan(
        claimOfFailed!.fence,
      );
      expect(claimOfClaimed!.record.id).toBe(claimed.id);
    });

    it("B-14 a scheduled record waits for its time (even one already past) and is not claimable", async () => {
      const { backend, q } = await setup();
      const later = scheduledRecord(data(1), Date.now() + HOUR);
      const past = scheduledRecord(data(2), Date.now() - 1000);
      expect(await backend.add(q, [later, past])).toEqual([true, true]);
      expect(await backend.size(q)).toBe(0);
      expect(await backend.claim(q, 5)).toEqual([]);
      expect((await backend.getTasks(q, [later.id])).get(later.id)).toEqual(later);
      expect(new Set(ids((await backend.getScheduled(q)).tasks))).toEqual(
        new Set([later.id, past.id]),
      );
      expect(await backend.promoteDue(q, Date.now())).toEqual([past.id]);
      expect(claimIds(await backend.claim(q, 5))).toEqual([past.id]);
    });

    it("B-14 add refuses records that are not new work, before storing any", async () => {
      const { backend, q } = await setup();
      const good = data(1);
      for (const status of ["completed", "processing", "retrying", "new"] as const) {
        await expect(backend.add(q, [good, data(2, { status })])).rejects.toThrow(
          InvalidOptionError,
        );
      }
      expect(await backend.getTasks(q, [good.id])).toEqual(new Map());
    });
  });

  describe("backend: reading", () => {
    it("B-5 size counts one queue's claimable tasks only", async () => {
      const { backend, q, other } = await setup();
      expect(await backend.size(q)).toBe(0);
      await backend.add(q, [data(1), data(2), scheduledRecord(data(3), Date.now() + HOUR)]);
      expect(await backend.size(q)).toBe(2);
      expect(await backend.size(other)).toBe(0);
    });

    it("B-6 claim on an empty or unknown queue returns [] (after the wait); a bad limit is a range error", async () => {
      const { backend, q } = await setup();
      expect(await backend.claim(q, 1)).toEqual([]);
      expect(await backend.claim(q, 3, 0)).toEqual([]);
      expect(await backend.claim(q, 2, 30)).toEqual([]);
      expect(await backend.claim("backend-storage-never-used", 1)).toEqual([]);
      await expect(backend.claim(q, 0)).rejects.toThrow(InvalidOptionError);
      await expect(backend.claim(q, -1)).rejects.toThrow(InvalidOptionError);
      await expect(backend.claim(q, 1.5)).rejects.toThrow(InvalidOptionError);
    });

    it("B-6 a waiting claim returns the task added while it waits", async () => {
      const { backend, q } = await setup();
      const d = data(7);
      const claiming = backend.claim(q, 1, 10_000);
      await sleep(20);
      await backend.add(q, [d]);
      const claimed = await claiming;
      expect(claimIds(claimed)).toEqual([d.id]);
      expect(claimed[0]?.record.status).toBe("processing");
    });

    it("B-6 a waiting claim ends at once, empty, when its signal aborts; the queue's next task is still claimable", async () => {
      const { backend, q } = await setup();
      const stop = new AbortController();
      const startedAt = Date.now();
      const claiming = backend.claim(q, 1, 20_000, stop.signal);
      await sleep(50);
      stop.abort();
      expect(await claiming).toEqual([]);
      // Far inside the 20 s wait: the abort ended it, not its timeout.
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      const d = data(8);
      await backend.add(q, [d]);
      expect(claimIds(await backend.claim(q, 1))).toEqual([d.id]);
      // A signal aborted before the claim: it takes what is claimable and does not wait.
      const later = data(9);
      await backend.add(q, [later]);
      expect(claimIds(await backend.claim(q, 1, 20_000, AbortSignal.abort()))).toEqual([later.id]);
      expect(await backend.claim(q, 1, 20_000, AbortSignal.abort())).toEqual([]);
    });

    it("B-6 a waiting claim whose signal never aborts still takes the task added while it waits", async () => {
      const { backend, q } = await setup();
      const d = data(10);
      const claiming = backend.claim(q, 1, 10_000, new AbortController().signal);
      await sleep(20);
      await backend.add(q, [d]);
      expect(claimIds(await claiming)).toEqual([d.id]);
    });

    it("B-7 / T-24 a stored record reads back deep-equal; a claimed one differs only by status and startedAt", async () => {
      const { backend, q } = await setup();
      const d = data(1, { args: [{ nested: [1, "two", null, { deep: true }] }] });
      await backend.add(q, [d]);
      expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(d);
      const [claim] = await backend.claim(q, 1);
      expect(claim?.record.status).toBe("processing");
      expect(Number.isNaN(Date.parse(claim!.record.startedAt!))).toBe(false);
      expect({ ...claim!.record, status: d.status, startedAt: d.startedAt }).toEqual(d);
      expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(claim!.record);
    });

    it("B-8 getPending returns the first count claimable records in claim order; an unknown queue gives []", async () => {
      const { backend, q } = await setup();
      const records = [data(1), data(2), data(3), data(4)];
      await backend.add(q, records);
      expect(ids(await backend.getPending(q, 1))).toEqual([records[0]!.id]);
      expect(ids(await backend.getPending(q, 2))).toEqual(ids(records.slice(0, 2)));
      expect(ids(await backend.getPending(q, 50))).toEqual(ids(records));
      expect(await backend.getPending("backend-storage-never-used", 5)).toEqual([]);
      expect(await backend.size(q)).toBe(4);
      await expect(backend.getPending(q, 0)).rejects.toThrow(InvalidOptionError);
      expect(claimIds(await backend.claim(q, 4))).toEqual(ids(records));
    });

    it("B-10 getTasks finds the ids of this queue only, any status", async () => {
      const { backend, q, other } = await setup();
      const [pending, scheduled, done] = [data(1), data(2), data(3)];
      await backend.add(q, [done]);
      const [claim] = await backend.claim(q, 1);
      await settleClaim(backend, q, claim!);
      await backend.add(q, [pending, scheduledRecord(scheduled, Date.now() + HOUR)]);
      const found = await backend.getTasks(q, [pending.id, scheduled.id, done.id, UNKNOWN]);
      expect(new Set(found.keys())).toEqual(new Set([pending.id, scheduled.id, done.id]));
      expect(found.get(done.id)?.status).toBe("completed");
      expect((await backend.getTasks(other, [pending.id, done.id])).size).toBe(0);
      expect((await backend.getTasks("backend-storage-never-used", [pending.id])).size).toBe(0);
      expect((await backend.getTasks(q, [])).size).toBe(0);
    });

    it("B-11 getAllTasks pages through every record of this queue, any status", async () => {
      const { backend, q, other } = await setup();
      const records = Array.from({ length: 5 }, (_, i) => data(i));
      await backend.add(q, records);
      const [claim] = await backend.claim(q, 1);
      await settleClaim(backend, q, claim!);
      const scheduled = scheduledRecord(data(9), Date.now() + HOUR);
      await backend.add(q, [scheduled]);
      await backend.add(other, [data(10)]);

      const all = await backend.getAllTasks(q);
      expect(all.cursor).toBeNull();
      expect(new Set(ids(all.tasks))).toEqual(new Set([...ids(records), scheduled.id]));

      const paged = new Set<string>();
      let cursor: string | null = null;
      let pages = 0;
      do {
        // `limit` is a page-size hint; the pages together hold each record at least once.
        const page = await backend.getAllTasks(q, { cursor, limit: 2 });
        for (const id of ids(page.tasks)) paged.add(id);
        cursor = page.cursor;
        pages++;
      } while (cursor !== null && pages < 10);
      expect(paged).toEqual(new Set([...ids(records), scheduled.id]));
      expect(ids((await backend.getAllTasks(other)).tasks)).toHaveLength(1);
      expect((await backend.getAllTasks("backend-storage-never-used")).tasks).toEqual([]);
    });

    it("B-15 getScheduled pages through waiting records earliest first; another queue gives none", async () => {
      const { backend, q, other } = await setup();
      const base = Date.now();
      const records = [3, 1, 4, 2, 5].map((n) => scheduledRecord(data(n), base + n * HOUR));
      await backend.add(q, records);
      const inOrder = [1, 2, 3, 4, 5].map((n) => records.find((r) => r.args[0] === n)!.id);
      const all = await backend.getScheduled(q);
      expect(ids(all.tasks)).toEqual(inOrder);
      expect(all.cursor).toBeNull();
      const paged: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await backend.getScheduled(q, { cursor, limit: 2 });
        expect(page.tasks.length).toBeLessThanOrEqual(2);
        paged.push(...ids(page.tasks));
        cursor = page.cursor;
      } while (cursor !== null);
      expect(paged).toEqual(inOrder);
      expect((await backend.getScheduled(other)).tasks).toEqual([]);
      await expect(backend.getScheduled(q, { limit: 0 })).rejects.toThrow(InvalidOptionError);
    });

    it("B-12 getStats counts records by life stage", async () => {
      const { backend, q } = await setup();
      await backend.add(q, [data(1), data(2), data(3), data(4), data(5)]);
      const [a, b, c, d] = await backend.claim(q, 4);
      await settleClaim(backend, q, a!);
      await settleClaim(backend, q, b!, finishedRecord(b!.record, "failed"));
      await settleClaim(backend, q, c!, retryingRecord(c!.record, Date.now() + HOUR));
      expect(d).toBeDefined();
      await backend.add(q, [scheduledRecord(data(6), Date.now() + HOUR)]);
      // `held` is optional: 0 here (no concurrency keys) where a backend tells it.
      const { held, ...counts } = await backend.getStats(q);
      expect(counts).toEqual({
        pending: 1,
        scheduled: 2,
        processing: 1,
        completed: 1,
        failed: 1,
        crashed: 0,
        cancelled: 0,
      });
      expect(held ?? 0).toBe(0);
    });

    it("B-13 listQueues maps every queue holding records to its claimable count", async () => {
      const { backend, q, other } = await setup();
      await backend.add(q, [data(1), data(2)]);
      await backend.add(other, [scheduledRecord(data(3), Date.now() + HOUR)]);
      const queues = await backend.listQueues();
      expect(queues.get(q)).toBe(2);
      expect(queues.get(other)).toBe(0);
    });
  });
}
