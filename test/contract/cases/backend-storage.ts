/**
 * The Backend interface itself (src/backends/backend.ts), called directly:
 * connection, task storage, scheduling, results, cancel/delete, crons,
 * workflows, claims and leases, rate limits. Instants and durations are
 * milliseconds here. (BEHAVIOURS B-1…B-33, except B-9, B-12, B-13 in
 * clear-stats and B-31, which belongs to workflows)
 */

import { setTimeout as sleep } from "node:timers/promises";
import {
  type Backend,
  BackendError,
  type CronData,
  InvalidOptionError,
  type RateLimitRequest,
  systemClock,
  type TaskData,
  task,
  WaitTimeoutError,
  type WorkflowData,
} from "sheppy";
import { describe, expect, it } from "vitest";
import type { ContractHarness } from "../harness.js";

const item = task({ name: "backend-storage.item" }, (n: number) => n);

/** A pending record of a new task. */
const data = (n: number, extra: Partial<TaskData> = {}): TaskData => ({
  ...item(n).toJSON(),
  status: "pending",
  ...extra,
});
const iso = (ms = Date.now()) => new Date(ms).toISOString();
/** `record` finished with `status` (completed carries a result). */
const finished = (
  record: TaskData,
  status: "completed" | "failed" | "crashed" = "completed",
): TaskData => ({
  ...record,
  status,
  result: status === "completed" ? record.args[0]! : null,
  finishedAt: iso(),
});
const ids = (records: readonly TaskData[]) => records.map((r) => r.id);
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
      const calls: [string, (b: Backend) => Promise<unknown>][] = [
        ["append", (b) => b.append(q, [d])],
        ["pop", (b) => b.pop(q, 1)],
        ["getPending", (b) => b.getPending(q, 1)],
        ["size", (b) => b.size(q)],
        ["clear", (b) => b.clear(q)],
        ["getTasks", (b) => b.getTasks(q, [d.id])],
        ["schedule", (b) => b.schedule(q, d, Date.now())],
        ["popScheduled", (b) => b.popScheduled(q)],
        ["storeResult", (b) => b.storeResult(q, [finished(d)])],
        ["getResults", (b) => b.getResults(q, [d.id], 0)],
        ["getStats", (b) => b.getStats(q)],
        ["getAllTasks", (b) => b.getAllTasks(q)],
        ["listQueues", (b) => b.listQueues()],
        ["getScheduled", (b) => b.getScheduled(q)],
        ["cancel", (b) => b.cancel(q, d.id)],
        ["deleteTask", (b) => b.deleteTask(q, d.id)],
        ["addCron", (b) => b.addCron(q, "c", { deterministicId: "c" })],
        ["deleteCron", (b) => b.deleteCron(q, "c")],
        ["getCrons", (b) => b.getCrons(q)],
        ["storeWorkflow", (b) => b.storeWorkflow(q, { id: "w", completed: false, error: null })],
        ["getWorkflows", (b) => b.getWorkflows(q, ["w"])],
        ["getAllWorkflows", (b) => b.getAllWorkflows(q)],
        ["getPendingWorkflows", (b) => b.getPendingWorkflows(q)],
        ["deleteWorkflow", (b) => b.deleteWorkflow(q, "w")],
        ["markWorkflowTaskComplete", (b) => b.markWorkflowTaskComplete(q, "w", d.id)],
        ["acknowledge", (b) => b.acknowledge(q, [d.id])],
        ["heartbeat", (b) => b.heartbeat(q, [d.id])],
        ["reclaimStale", (b) => b.reclaimStale(q, 1000)],
        [
          "acquireRateLimit",
          (b) =>
            b.acquireRateLimit(q, {
              key: "k",
              maxRate: 1,
              periodMs: 1000,
              taskId: d.id,
              strategy: "sliding_window",
            }),
        ],
        ["pruneExpired", (b) => b.pruneExpired(q)],
      ];
      for (const [name, call] of calls) {
        await expect(
          Promise.resolve().then(() => call(backend)),
          `${name} before connect`,
        ).rejects.toThrow(BackendError);
      }
      await backend.connect();
      expect(await backend.append(q, [d])).toEqual([true]);
      await backend.disconnect();
      for (const [name, call] of calls.slice(0, 4)) {
        await expect(
          Promise.resolve().then(() => call(backend)),
          `${name} after disconnect`,
        ).rejects.toThrow(BackendError);
      }
    });

    it("B-2 disconnect ends waiting calls: a blocking pop and a result wait without limit", async () => {
      const backend = unconnected();
      await backend.connect();
      const q = h.queue().name;
      const d = data(1);
      await backend.append(q, [d]);
      await backend.pop(q, 1);
      const popping = backend.pop(q, 1, 60_000).then(
        (claimed) => claimed,
        (error: unknown) => error,
      );
      const waiting = backend.getResults(q, [d.id], null).then(
        (found) => found,
        (error: unknown) => error,
      );
      await sleep(20);
      await backend.disconnect();
      // A waiting claim ends empty-handed (or with BackendError); a result wait cannot return.
      const popped = await popping;
      const poppedEnded =
        popped instanceof BackendError || (Array.isArray(popped) && popped.length === 0);
      expect(poppedEnded, `pop ended with ${String(popped)}`).toBe(true);
      expect(await waiting).toBeInstanceOf(BackendError);
    });
  });

  describe("backend: tasks", () => {
    it("B-3 append stores and enqueues; with unique (default) an existing id is refused and not enqueued again", async () => {
      const { backend, q } = await setup();
      const [d1, d2, d3] = [data(1), data(2), data(3)];
      expect(await backend.append(q, [d1])).toEqual([true]);
      expect(await backend.append(q, [d2, d3])).toEqual([true, true]);
      expect(await backend.append(q, [d1, data(4)], true)).toEqual([false, true]);
      expect(await backend.append(q, [{ ...d2, args: [99] }])).toEqual([false]);
      expect(await backend.size(q)).toBe(4);
      expect((await backend.getTasks(q, [d2.id])).get(d2.id)).toEqual(d2);
      expect(await backend.append(q, [])).toEqual([]);
    });

    it("B-3 an id that was claimed or finished is refused by a unique append too", async () => {
      const { backend, q } = await setup();
      const [claimed, done] = [data(1), data(2)];
      await backend.append(q, [claimed, done]);
      const [first, second] = await backend.pop(q, 2);
      await backend.storeResult(q, [finished(second!)]);
      expect(await backend.append(q, [claimed, done])).toEqual([false, false]);
      expect(await backend.size(q)).toBe(0);
      expect((await backend.getTasks(q, [first!.id])).get(first!.id)?.status).toBe("processing");
    });

    it("B-4 append without unique overwrites the record and enqueues it once", async () => {
      const { backend, q } = await setup();
      const d = data(1);
      await backend.append(q, [d]);
      const changed = { ...d, args: [2] };
      expect(await backend.append(q, [changed], false)).toEqual([true]);
      expect(await backend.size(q)).toBe(1);
      expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(changed);

      const [claimed] = await backend.pop(q, 1);
      await backend.storeResult(q, [finished(claimed!, "failed")]);
      const rerun = { ...d, args: [3], lastRetryAt: iso() };
      expect(await backend.append(q, [rerun], false)).toEqual([true]);
      expect(await backend.size(q)).toBe(1);
      const [again] = await backend.pop(q, 1);
      expect({ ...again!, status: "pending", startedAt: null }).toEqual(rerun);
    });

    it("B-5 size counts one queue's pending entries only", async () => {
      const { backend, q, other } = await setup();
      expect(await backend.size(q)).toBe(0);
      await backend.append(q, [data(1), data(2)]);
      expect(await backend.size(q)).toBe(2);
      expect(await backend.size(other)).toBe(0);
    });

    it("B-6 pop on an empty or unknown queue returns [] (after the timeout); a bad limit is a range error", async () => {
      const { backend, q } = await setup();
      expect(await backend.pop(q, 1)).toEqual([]);
      expect(await backend.pop(q, 3, 0)).toEqual([]);
      expect(await backend.pop(q, 2, 30)).toEqual([]);
      expect(await backend.pop("backend-storage-never-used", 1)).toEqual([]);
      await expect(backend.pop(q, 0)).rejects.toThrow(InvalidOptionError);
      await expect(backend.pop(q, -1)).rejects.toThrow(InvalidOptionError);
      await expect(backend.pop(q, 1.5)).rejects.toThrow(InvalidOptionError);
    });

    it("B-6 a waiting pop returns the task appended while it waits", async () => {
      const { backend, q } = await setup();
      const d = data(7);
      const popping = backend.pop(q, 1, 10_000);
      await sleep(20);
      await backend.append(q, [d]);
      const claimed = await popping;
      expect(ids(claimed)).toEqual([d.id]);
      expect(claimed[0]?.status).toBe("processing");
    });

    it("B-7 / T-24 a stored record reads back deep-equal; a claimed one differs only by status and startedAt", async () => {
      const { backend, q } = await setup();
      const d = data(1, { args: [{ nested: [1, "two", null, { deep: true }] }] });
      await backend.append(q, [d]);
      expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(d);
      const [claimed] = await backend.pop(q, 1);
      expect(claimed?.status).toBe("processing");
      expect(Number.isNaN(Date.parse(claimed!.startedAt!))).toBe(false);
      expect({ ...claimed!, status: d.status, startedAt: d.startedAt }).toEqual(d);
    });

    it("B-8 getPending returns the first count pending records; an unknown queue gives []", async () => {
      const { backend, q } = await setup();
      const records = [data(1), data(2), data(3), data(4)];
      await backend.append(q, records);
      expect(ids(await backend.getPending(q, 1))).toEqual([records[0]!.id]);
      expect(ids(await backend.getPending(q, 2))).toEqual(ids(records.slice(0, 2)));
      expect(ids(await backend.getPending(q, 50))).toEqual(ids(records));
      expect(await backend.getPending("backend-storage-never-used", 5)).toEqual([]);
      expect(await backend.size(q)).toBe(4);
      await expect(backend.getPending(q, 0)).rejects.toThrow(InvalidOptionError);
    });

    it("B-10 getTasks finds the ids of this queue only, any status", async () => {
      const { backend, q, other } = await setup();
      const [pending, scheduled, done] = [data(1), data(2), data(3)];
      await backend.append(q, [done]);
      const [claimed] = await backend.pop(q, 1);
      await backend.storeResult(q, [finished(claimed!)]);
      await backend.append(q, [pending]);
      await backend.schedule(q, { ...scheduled, status: "scheduled" }, Date.now() + HOUR);
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
      await backend.append(q, records);
      const [claimed] = await backend.pop(q, 1);
      await backend.storeResult(q, [finished(claimed!)]);
      const scheduled = data(9, { status: "scheduled" });
      await backend.schedule(q, scheduled, Date.now() + HOUR);
      await backend.append(other, [data(10)]);

      const all = await backend.getAllTasks(q);
      expect(all.cursor).toBeNull();
      expect(new Set(ids(all.tasks))).toEqual(new Set([...ids(records), scheduled.id]));

      const paged: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        // `limit` is a page-size hint (Redis SSCAN COUNT); the pages together hold each record once.
        const page = await backend.getAllTasks(q, { cursor, limit: 2 });
        paged.push(...ids(page.tasks));
        cursor = page.cursor;
        pages++;
      } while (cursor !== null && pages < 10);
      expect(paged.sort()).toEqual([...ids(records), scheduled.id].sort());
      expect(ids((await backend.getAllTasks(other)).tasks)).toHaveLength(1);
      expect((await backend.getAllTasks("backend-storage-never-used")).tasks).toEqual([]);
    });
  });

  describe("backend: scheduling", () => {
    it("B-14 schedule stores without enqueueing; unique refuses an existing id; not unique overwrites and re-times", async () => {
      const { backend, q } = await setup();
      const d = data(1, { status: "scheduled", scheduledAt: iso(Date.now() + HOUR) });
      expect(await backend.schedule(q, d, Date.now() + HOUR)).toBe(true);
      expect(await backend.size(q)).toBe(0);
      expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(d);
      expect(await backend.schedule(q, d, Date.now() + 2 * HOUR)).toBe(false);
      expect(await backend.schedule(q, d, Date.now() + 2 * HOUR, true)).toBe(false);

      const pending = data(2);
      await backend.append(q, [pending]);
      expect(await backend.schedule(q, { ...pending, status: "scheduled" }, Date.now())).toBe(
        false,
      );
      expect(await backend.size(q)).toBe(1);

      const soon = Date.now() - 1;
      const moved = { ...d, args: [5], scheduledAt: iso(soon) };
      expect(await backend.schedule(q, moved, soon, false)).toBe(true);
      expect(await backend.getScheduled(q)).toHaveLength(1);
      const due = await backend.popScheduled(q, Date.now());
      expect(due).toEqual([{ ...moved, status: "pending" }]);
    });

    it("B-15 getScheduled lists this queue's waiting records earliest first; another queue gives []", async () => {
      const { backend, q, other } = await setup();
      const base = Date.now();
      const [late, early] = [data(1, { status: "scheduled" }), data(2, { status: "scheduled" })];
      await backend.schedule(q, late, base + 2 * HOUR);
      await backend.schedule(q, early, base + HOUR);
      expect(ids(await backend.getScheduled(q))).toEqual([early.id, late.id]);
      expect(await backend.getScheduled(other)).toEqual([]);
    });

    it("B-16 popScheduled moves the records due by now to pending, earliest first, exactly once", async () => {
      const { backend, q } = await setup();
      const base = Date.now();
      const [b, a, c, later] = [data(2), data(1), data(3), data(4)].map((d) => ({
        ...d,
        status: "scheduled" as const,
      }));
      await backend.schedule(q, b!, base + 2000);
      await backend.schedule(q, a!, base + 1000);
      await backend.schedule(q, c!, base + 3000);
      await backend.schedule(q, later!, base + HOUR);
      expect(await backend.popScheduled(q, base + 500)).toEqual([]);
      const moved = await backend.popScheduled(q, base + 3000);
      expect(ids(moved)).toEqual([a!.id, b!.id, c!.id]);
      expect(moved.map((r) => r.status)).toEqual(["pending", "pending", "pending"]);
      expect(await backend.popScheduled(q, base + 3000)).toEqual([]);
      expect(ids(await backend.getScheduled(q))).toEqual([later!.id]);
      expect(await backend.size(q)).toBe(3);
      expect(ids(await backend.pop(q, 5))).toEqual([a!.id, b!.id, c!.id]);
    });

    it("B-16 concurrent popScheduled calls move each due task once", async () => {
      const { backend, q } = await setup();
      const records = Array.from({ length: 6 }, (_, i) => data(i, { status: "scheduled" }));
      for (const r of records) await backend.schedule(q, r, Date.now() - 1);
      const results = await Promise.all([
        backend.popScheduled(q),
        backend.popScheduled(q),
        backend.popScheduled(q),
      ]);
      expect(
        results
          .flat()
          .map((r) => r.id)
          .sort(),
      ).toEqual(ids(records).sort());
      expect(await backend.size(q)).toBe(6);
    });
  });

  describe("backend: results", () => {
    it("B-17 storeResult overwrites the record, releases the claim and wakes result waiters", async () => {
      const { backend, q } = await setup();
      const d = data(4);
      await backend.append(q, [d]);
      const [claimed] = await backend.pop(q, 1);
      const waiting = backend.getResults(q, [d.id], null);
      const done = finished(claimed!);
      await backend.storeResult(q, [done]);
      expect((await waiting).get(d.id)).toEqual(done);
      expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(done);
      expect((await backend.getStats(q)).processing).toBe(0);
      expect(await backend.heartbeat(q, [d.id])).toEqual([d.id]);
    });

    it("B-17 storeResult by status: retrying and scheduled wait for their time, pending goes back to the queue", async () => {
      const { backend, q } = await setup();
      const records = [data(1), data(2), data(3), data(4)];
      await backend.append(q, records);
      const [retryLater, retryNow, scheduled, requeued] = await backend.pop(q, 4);
      await backend.storeResult(q, [
        { ...retryLater!, status: "retrying", retryCount: 1, nextRetryAt: iso(Date.now() + HOUR) },
        { ...retryNow!, status: "retrying", retryCount: 1, nextRetryAt: iso(Date.now() - 1) },
        { ...scheduled!, status: "scheduled", scheduledAt: iso(Date.now() + HOUR) },
        { ...requeued!, status: "pending", startedAt: null },
      ]);
      expect(new Set(ids(await backend.getScheduled(q)))).toEqual(
        new Set([retryLater!.id, scheduled!.id]),
      );
      const pending = await backend.getPending(q, 10);
      expect(new Set(ids(pending))).toEqual(new Set([retryNow!.id, requeued!.id]));
      expect(pending.map((r) => r.status)).toEqual(["pending", "pending"]);
      const stats = await backend.getStats(q);
      expect([stats.pending, stats.scheduled, stats.processing]).toEqual([2, 2, 0]);
    });

    it("B-18 getResults returns finished records only", async () => {
      const { backend, q } = await setup();
      const [pending, scheduled, retrying, completed, failed, crashed] = [1, 2, 3, 4, 5, 6].map(
        (n) => data(n),
      ) as [TaskData, TaskData, TaskData, TaskData, TaskData, TaskData];
      await backend.append(q, [retrying, completed, failed, crashed]);
      const claimed = await backend.pop(q, 4);
      await backend.storeResult(q, [
        { ...claimed[0]!, status: "retrying", retryCount: 1, nextRetryAt: iso(Date.now() + HOUR) },
        finished(claimed[1]!, "completed"),
        finished(claimed[2]!, "failed"),
        finished(claimed[3]!, "crashed"),
      ]);
      await backend.append(q, [pending]);
      await backend.schedule(q, { ...scheduled, status: "scheduled" }, Date.now() + HOUR);
      const all = [pending, scheduled, retrying, completed, failed, crashed].map((d) => d.id);
      const found = await backend.getResults(q, all, 0);
      expect(new Set(found.keys())).toEqual(new Set([completed.id, failed.id, crashed.id]));
      expect(found.get(failed.id)?.status).toBe("failed");
    });

    it("B-19 getResults timeout: 0 returns at once; a positive one throws WaitTimeoutError, also for an unknown id", async () => {
      const { backend, q } = await setup();
      const d = data(1);
      await backend.append(q, [d]);
      expect((await backend.getResults(q, [d.id, UNKNOWN], 0)).size).toBe(0);
      const error = await backend.getResults(q, [d.id], 50).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      expect((error as WaitTimeoutError).timeoutSeconds).toBe(0.05);
      expect((error as WaitTimeoutError).unfinished).toEqual([d.id]);
      await expect(backend.getResults(q, [UNKNOWN], 30)).rejects.toThrow(WaitTimeoutError);
    });

    it("B-19 / B-20 getResults without limit, or with a budget, returns once a concurrent storeResult finishes the task", async () => {
      const { backend, q } = await setup();
      const [a, b] = [data(1), data(2)];
      await backend.append(q, [a, b]);
      const [ca, cb] = await backend.pop(q, 2);
      const forever = backend.getResults(q, [a.id], null);
      const budget = backend.getResults(q, [a.id, b.id], 10_000);
      await expect(backend.getResults(q, [a.id], 10)).rejects.toThrow(WaitTimeoutError);
      await sleep(20);
      await backend.storeResult(q, [finished(ca!)]);
      expect([...(await forever).keys()]).toEqual([a.id]);
      await backend.storeResult(q, [finished(cb!, "failed")]);
      const both = await budget;
      expect(new Set(both.keys())).toEqual(new Set([a.id, b.id]));
      expect(both.get(b.id)?.status).toBe("failed");
    });

    it("B-21 getResults of several ids maps the finished ones; [] and unknown ids give an empty map", async () => {
      const { backend, q } = await setup();
      const [a, b, c] = [data(1), data(2), data(3)];
      await backend.append(q, [a, b, c]);
      const claimed = await backend.pop(q, 2);
      await backend.storeResult(
        q,
        claimed.map((r) => finished(r)),
      );
      const found = await backend.getResults(q, [a.id, b.id, c.id], 0);
      expect(new Set(found.keys())).toEqual(new Set([a.id, b.id]));
      expect(found.get(a.id)?.result).toBe(1);
      expect((await backend.getResults(q, [UNKNOWN], 0)).size).toBe(0);
      expect((await backend.getResults(q, [], 0)).size).toBe(0);
      expect((await backend.getResults(q, [], null)).size).toBe(0);
    });
  });

  describe("backend: cancel and delete", () => {
    it("B-22 cancel of a pending, scheduled or retry-waiting task returns it cancelled and finished", async () => {
      const { backend, q } = await setup();
      const [pending, scheduled, retrying] = [data(1), data(2), data(3)];
      await backend.append(q, [retrying]);
      const [claimed] = await backend.pop(q, 1);
      await backend.storeResult(q, [
        { ...claimed!, status: "retrying", retryCount: 1, nextRetryAt: iso(Date.now() + HOUR) },
      ]);
      await backend.append(q, [pending]);
      await backend.schedule(q, { ...scheduled, status: "scheduled" }, Date.now() + HOUR);
      for (const d of [pending, scheduled, retrying]) {
        const cancelled = await backend.cancel(q, d.id);
        expect(cancelled?.id).toBe(d.id);
        expect(cancelled?.status).toBe("cancelled");
        expect(cancelled?.finishedAt).not.toBeNull();
        expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(cancelled);
      }
      expect(await backend.size(q)).toBe(0);
      expect(await backend.getScheduled(q)).toEqual([]);
      expect(await backend.popScheduled(q, Date.now() + 2 * HOUR)).toEqual([]);
      expect((await backend.getResults(q, [pending.id], 0)).size).toBe(1);
    });

    it("B-22 cancel returns null and changes nothing for an unknown, claimed, finished or other queue's task", async () => {
      const { backend, q, other } = await setup();
      const [claimed, done, elsewhere] = [data(1), data(2), data(3)];
      await backend.append(q, [claimed, done]);
      const [c, d] = await backend.pop(q, 2);
      await backend.storeResult(q, [finished(d!)]);
      await backend.append(other, [elsewhere]);
      expect(await backend.cancel(q, UNKNOWN)).toBeNull();
      expect(await backend.cancel(q, claimed.id)).toBeNull();
      expect(await backend.cancel(q, done.id)).toBeNull();
      expect(await backend.cancel(q, elsewhere.id)).toBeNull();
      const stored = await backend.getTasks(q, [claimed.id, done.id]);
      expect(stored.get(claimed.id)).toEqual(c);
      expect(stored.get(done.id)?.status).toBe("completed");
      expect(await backend.size(other)).toBe(1);
    });

    it("B-23 deleteTask removes a finished record (true, then false); unknown or unfinished → false", async () => {
      const { backend, q, other } = await setup();
      const [done, pending] = [data(1), data(2)];
      await backend.append(q, [done]);
      const [claimed] = await backend.pop(q, 1);
      await backend.storeResult(q, [finished(claimed!)]);
      await backend.append(q, [pending]);
      expect(await backend.deleteTask(other, done.id)).toBe(false);
      expect(await backend.deleteTask(q, done.id)).toBe(true);
      expect((await backend.getTasks(q, [done.id])).size).toBe(0);
      expect(await backend.deleteTask(q, done.id)).toBe(false);
      expect(await backend.deleteTask(q, UNKNOWN)).toBe(false);
      expect(await backend.deleteTask(q, pending.id)).toBe(false);
      expect(await backend.size(q)).toBe(1);
      expect((await backend.getAllTasks(q)).tasks.map((t) => t.id)).toEqual([pending.id]);
    });
  });

  describe("backend: crons", () => {
    const cron = (id: string, expression = "*/5 * * * *"): CronData => ({
      deterministicId: id,
      id: `random-${id}`,
      expression,
      spec: { name: "backend-storage.item", args: [1] },
      config: { retry: 0 },
      managedBy: null,
    });

    it("B-24 addCron stores a cron once per deterministic id; getCrons returns it for that queue only", async () => {
      const { backend, q, other } = await setup();
      const first = cron("cron-1");
      expect(await backend.getCrons(q)).toEqual([]);
      expect(await backend.addCron(q, "cron-1", first)).toBe(true);
      expect(await backend.addCron(q, "cron-1", cron("cron-1", "0 * * * *"))).toBe(false);
      expect(await backend.getCrons(q)).toEqual([first]);
      expect(await backend.getCrons(other)).toEqual([]);
      expect(await backend.addCron(q, "cron-2", cron("cron-2"))).toBe(true);
      expect((await backend.getCrons(q)).map((c) => c.deterministicId).sort()).toEqual([
        "cron-1",
        "cron-2",
      ]);
      expect(await backend.addCron(other, "cron-1", first)).toBe(true);
    });

    it("B-25 deleteCron removes a cron once; another queue's delete is false", async () => {
      const { backend, q, other } = await setup();
      await backend.addCron(q, "cron-1", cron("cron-1"));
      expect(await backend.deleteCron(other, "cron-1")).toBe(false);
      expect(await backend.deleteCron(q, "cron-1")).toBe(true);
      expect(await backend.deleteCron(q, "cron-1")).toBe(false);
      expect(await backend.deleteCron(q, "never-added")).toBe(false);
      expect(await backend.getCrons(q)).toEqual([]);
      expect(await backend.addCron(q, "cron-1", cron("cron-1"))).toBe(true);
    });
  });

  describe("backend: workflows", () => {
    const workflow = (id: string, extra: Partial<WorkflowData> = {}): WorkflowData => ({
      id,
      completed: false,
      error: null,
      pendingTaskIds: [],
      steps: [{ taskId: "t-1", name: "backend-storage.item" }],
      finalResult: null,
      ...extra,
    });

    it("B-26 storeWorkflow stores (true) and overwrites by id", async () => {
      const { backend, q } = await setup();
      const wf = workflow("wf-1");
      expect(await backend.storeWorkflow(q, wf)).toBe(true);
      expect((await backend.getWorkflows(q, ["wf-1"])).get("wf-1")).toEqual(wf);
      const done = workflow("wf-1", { completed: true, finalResult: 13 });
      expect(await backend.storeWorkflow(q, done)).toBe(true);
      expect((await backend.getWorkflows(q, ["wf-1"])).get("wf-1")).toEqual(done);
      expect(await backend.getAllWorkflows(q)).toHaveLength(1);
    });

    it("B-27 getWorkflows maps the found ids of this queue; unknown ids, another queue or [] give an empty map", async () => {
      const { backend, q, other } = await setup();
      await backend.storeWorkflow(q, workflow("wf-1"));
      await backend.storeWorkflow(q, workflow("wf-2"));
      const found = await backend.getWorkflows(q, ["wf-1", "missing", "wf-2"]);
      expect(new Set(found.keys())).toEqual(new Set(["wf-1", "wf-2"]));
      expect([...(await backend.getWorkflows(q, ["wf-2", "missing"])).keys()]).toEqual(["wf-2"]);
      expect((await backend.getWorkflows(q, ["missing"])).size).toBe(0);
      expect((await backend.getWorkflows(other, ["wf-1"])).size).toBe(0);
      expect((await backend.getWorkflows(q, [])).size).toBe(0);
    });

    it("B-28 / B-29 getAllWorkflows lists all; getPendingWorkflows those neither completed nor failed", async () => {
      const { backend, q, other } = await setup();
      await backend.storeWorkflow(q, workflow("running"));
      await backend.storeWorkflow(q, workflow("completed", { completed: true, finalResult: 1 }));
      await backend.storeWorkflow(
        q,
        workflow("failed", { error: { type: "Error", message: "step failed" } }),
      );
      expect((await backend.getAllWorkflows(q)).map((w) => w.id).sort()).toEqual([
        "completed",
        "failed",
        "running",
      ]);
      expect((await backend.getPendingWorkflows(q)).map((w) => w.id)).toEqual(["running"]);
      expect(await backend.getAllWorkflows(other)).toEqual([]);
      expect(await backend.getPendingWorkflows(other)).toEqual([]);
    });

    it("B-30 deleteWorkflow removes it once; another queue's delete is false", async () => {
      const { backend, q, other } = await setup();
      await backend.storeWorkflow(q, workflow("wf-1"));
      await backend.storeWorkflow(q, workflow("wf-2"));
      expect(await backend.deleteWorkflow(other, "wf-1")).toBe(false);
      expect(await backend.deleteWorkflow(q, "wf-1")).toBe(true);
      expect(await backend.deleteWorkflow(q, "wf-1")).toBe(false);
      expect((await backend.getWorkflows(q, ["wf-1"])).size).toBe(0);
      expect((await backend.getAllWorkflows(q)).map((w) => w.id)).toEqual(["wf-2"]);
      expect((await backend.getPendingWorkflows(q)).map((w) => w.id)).toEqual(["wf-2"]);
    });

    it("markWorkflowTaskComplete removes a pending task id and returns how many remain; -1 when not pending", async () => {
      const { backend, q } = await setup();
      await backend.storeWorkflow(q, workflow("wf", { pendingTaskIds: ["a", "b", "c"] }));
      expect(await backend.markWorkflowTaskComplete(q, "wf", "a")).toBe(2);
      expect(await backend.markWorkflowTaskComplete(q, "wf", "a")).toBe(-1);
      expect(await backend.markWorkflowTaskComplete(q, "wf", "zzz")).toBe(-1);
      expect(await backend.markWorkflowTaskComplete(q, "missing", "b")).toBe(-1);
      const stored = (await backend.getWorkflows(q, ["wf"])).get("wf");
      expect(stored?.pendingTaskIds).toEqual(["b", "c"]);
      expect(stored?.steps).toEqual(workflow("wf").steps);
      // Concurrent completions each count exactly once.
      const remaining = await Promise.all([
        backend.markWorkflowTaskComplete(q, "wf", "b"),
        backend.markWorkflowTaskComplete(q, "wf", "c"),
        backend.markWorkflowTaskComplete(q, "wf", "c"),
      ]);
      expect([...remaining].sort()).toEqual([-1, 0, 1]);
      expect((await backend.getWorkflows(q, ["wf"])).get("wf")?.pendingTaskIds).toEqual([]);
    });
  });

  describe("backend: claims and leases", () => {
    it("B-32 acknowledge releases claims without storing anything", async () => {
      const { backend, q } = await setup();
      const [a, b] = [data(1), data(2)];
      await backend.append(q, [a, b]);
      const claimed = await backend.pop(q, 2);
      expect((await backend.getStats(q)).processing).toBe(2);
      await backend.acknowledge(q, [a.id]);
      expect((await backend.getStats(q)).processing).toBe(1);
      expect(await backend.heartbeat(q, [a.id, b.id])).toEqual([a.id]);
      expect((await backend.getTasks(q, [a.id])).get(a.id)).toEqual(claimed[0]);
      expect(await backend.size(q)).toBe(0);
      await backend.acknowledge(q, [UNKNOWN]);
      await backend.acknowledge(q, []);
    });

    it("B-32 heartbeat keeps held claims and returns the ids this backend does not hold", async () => {
      const { backend, q } = await setup();
      const [a, b, c] = [data(1), data(2), data(3)];
      await backend.append(q, [a, b, c]);
      const [ca] = await backend.pop(q, 2);
      expect(await backend.heartbeat(q, [a.id, b.id])).toEqual([]);
      expect(await backend.heartbeat(q, [a.id, c.id, UNKNOWN])).toEqual([c.id, UNKNOWN]);
      await backend.storeResult(q, [finished(ca!)]);
      expect(await backend.heartbeat(q, [a.id, b.id])).toEqual([a.id]);
      expect(await backend.heartbeat(q, [])).toEqual([]);
    });

    it("B-32 reclaimStale leaves fresh claims alone", async () => {
      const { backend, q } = await setup();
      await backend.append(q, [data(1), data(2)]);
      await backend.pop(q, 2);
      expect(await backend.reclaimStale(q, 60_000)).toEqual([]);
      expect(await backend.reclaimStale(h.queue().name, 0)).toEqual([]);
      expect((await backend.getStats(q)).processing).toBe(2);
    });

    h.itIf("leases", "claims are not leases, so nothing ever goes stale")(
      "B-32 reclaimStale takes over claims idle longer than idleMs; heartbeated ones stay",
      async () => {
        const { backend, q } = await setup();
        const [idle, alive] = [data(1), data(2)];
        await backend.append(q, [idle, alive]);
        await backend.pop(q, 2);
        await sleep(300);
        expect(await backend.heartbeat(q, [alive.id])).toEqual([]);
        const stale = await backend.reclaimStale(q, 200);
        expect(ids(stale)).toEqual([idle.id]);
        expect(stale[0]?.status).toBe("processing");
        // Taken over: its lease is fresh again, so it is not handed out twice.
        expect(await backend.reclaimStale(q, 200)).toEqual([]);
        expect(await backend.heartbeat(q, [idle.id, alive.id])).toEqual([]);
        const done = finished(stale[0]!, "crashed");
        await backend.storeResult(q, [done]);
        expect((await backend.getTasks(q, [idle.id])).get(idle.id)).toEqual(done);
      },
    );
  });

  describe("backend: rate limits", () => {
    const request = (
      key: string,
      strategy: RateLimitRequest["strategy"],
      extra: Partial<RateLimitRequest> = {},
    ): RateLimitRequest => ({
      key,
      maxRate: 2,
      periodMs: 1000,
      taskId: `task-${Math.random()}`,
      strategy,
      ...extra,
    });

    it("B-33 up to maxRate starts are admitted (null); then a wait in ms (≥ 10, ≤ period), staggered", async () => {
      const { backend, q, other } = await setup();
      for (const strategy of ["sliding_window", "fixed_window"] as const) {
        const key = `burst-${strategy}`;
        expect(await backend.acquireRateLimit(q, request(key, strategy))).toBeNull();
        expect(await backend.acquireRateLimit(q, request(key, strategy))).toBeNull();
        const third = await backend.acquireRateLimit(q, request(key, strategy));
        const fourth = await backend.acquireRateLimit(q, request(key, strategy));
        expect(third).toBeGreaterThanOrEqual(10);
        expect(third).toBeLessThanOrEqual(1000);
        expect(fourth).toBeGreaterThan(third!);
        // Keys and queues are separate limits.
        expect(await backend.acquireRateLimit(q, request(`${key}-other`, strategy))).toBeNull();
        expect(await backend.acquireRateLimit(other, request(key, strategy))).toBeNull();
      }
    });

    it("B-33 once the period has passed starts are admitted again", async () => {
      const { backend, q } = await setup();
      for (const strategy of ["sliding_window", "fixed_window"] as const) {
        const limited = (key: string) =>
          backend.acquireRateLimit(q, request(key, strategy, { maxRate: 1, periodMs: 100 }));
        expect(await limited(strategy)).toBeNull();
        const wait = await limited(strategy);
        expect(wait).toBeGreaterThanOrEqual(10);
        await sleep(150);
        expect(await limited(strategy)).toBeNull();
      }
    });

    it("B-33 sliding counts the trailing period; fixed resets when its window ends", async () => {
      const { backend, q } = await setup();
      const periodMs = 600;
      const acquire = (strategy: RateLimitRequest["strategy"]) =>
        backend.acquireRateLimit(q, request(strategy, strategy, { maxRate: 2, periodMs }));
      const start = Date.now();
      // One start at 0 and one at ~300 ms, in each strategy.
      expect([await acquire("sliding_window"), await acquire("fixed_window")]).toEqual([
        null,
        null,
      ]);
      await sleep(300);
      expect([await acquire("sliding_window"), await acquire("fixed_window")]).toEqual([
        null,
        null,
      ]);
      await sleep(Math.max(0, start + periodMs + 60 - Date.now()));
      // ~660 ms: the first start has left the sliding window, the second has not.
      expect(await acquire("sliding_window")).toBeNull();
      expect(await acquire("sliding_window")).toBeGreaterThanOrEqual(10);
      // The fixed window that opened at 0 has ended: a fresh window admits two.
      expect(await acquire("fixed_window")).toBeNull();
      expect(await acquire("fixed_window")).toBeNull();
      expect(await acquire("fixed_window")).toBeGreaterThanOrEqual(10);
    });
  });
}
