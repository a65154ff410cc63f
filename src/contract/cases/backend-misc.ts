/**
 * The backend contract's remaining roles, called directly: cancelling and
 * deleting, finished-task notifications, crons and rate-limit windows.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Backend, CronData, RateLimitRequest } from "../../backends/backend.js";
import { type TaskData, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { CONFUSABLE_KEYS } from "../support/confusable-keys.js";
import {
  finishedRecord,
  retryingRecord,
  scheduledRecord,
  settleClaim,
} from "../support/records.js";

const item = task({ name: "backend-misc.item" }, (n: number) => n);
const data = (n: number): TaskData => ({ ...item(n).toJSON(), status: "pending" });
const HOUR = 3_600_000;
const UNKNOWN = "00000000-0000-0000-0000-000000000000";

export function backendMiscCases(h: ContractHarness): void {
  const setup = async (): Promise<{ backend: Backend; q: string; other: string }> => ({
    backend: await h.backend(),
    q: h.queue().name,
    other: h.queue().name,
  });

  describe("backend: cancel and delete", () => {
    it("B-22 cancel of a pending, scheduled or retry-waiting task returns it cancelled, finished and expiring as asked", async () => {
      const { backend, q } = await setup();
      const [pending, scheduled, retrying] = [data(1), data(2), data(3)];
      await backend.add(q, [retrying]);
      const [claim] = await backend.claim(q, 1);
      await settleClaim(backend, q, claim!, retryingRecord(claim!.record, Date.now() + HOUR));
      await backend.add(q, [pending, scheduledRecord(scheduled, Date.now() + HOUR)]);
      const at = Date.now();
      for (const d of [pending, scheduled, retrying]) {
        const cancelled = await backend.cancel(q, d.id, { at, expiresAt: at + HOUR });
        expect(cancelled?.id).toBe(d.id);
        expect(cancelled?.status).toBe("cancelled");
        expect(cancelled?.finishedAt).toBe(new Date(at).toISOString());
        expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(cancelled);
      }
      expect(await backend.size(q)).toBe(0);
      expect((await backend.getScheduled(q)).tasks).toEqual([]);
      expect(await backend.promoteDue(q, Date.now() + 2 * HOUR)).toEqual([]);
      expect((await backend.getStats(q)).cancelled).toBe(3);
      expect(await backend.pruneExpired(q, at + HOUR)).toBe(3);
    });

    it("B-22 cancel returns null and changes nothing for an unknown, claimed, finished or other queue's task", async () => {
      const { backend, q, other } = await setup();
      const [claimed, done, elsewhere] = [data(1), data(2), data(3)];
      await backend.add(q, [claimed, done]);
      const [c, d] = await backend.claim(q, 2);
      await settleClaim(backend, q, d!);
      await backend.add(other, [elsewhere]);
      const cancellation = { at: Date.now(), expiresAt: null };
      for (const id of [UNKNOWN, claimed.id, done.id, elsewhere.id])
        expect(await backend.cancel(q, id, cancellation)).toBeNull();
      const stored = await backend.getTasks(q, [claimed.id, done.id]);
      expect(stored.get(claimed.id)).toEqual(c!.record);
      expect(stored.get(done.id)?.status).toBe("completed");
      expect(await backend.size(other)).toBe(1);
    });

    it("C-5 a racing cancel and claim: exactly one wins", async () => {
      const { backend, q } = await setup();
      for (let round = 0; round < 10; round++) {
        const d = data(round);
        await backend.add(q, [d]);
        const [cancelled, claimed] = await Promise.all([
          backend.cancel(q, d.id, { at: Date.now(), expiresAt: null }),
          backend.claim(q, 1),
        ]);
        expect(Number(cancelled !== null) + claimed.length, `round ${round}`).toBe(1);
        for (const claim of claimed) await settleClaim(backend, q, claim);
      }
    });

    it("B-23 deleteTask removes a finished record (true, then false); unknown or unfinished → false", async () => {
      const { backend, q, other } = await setup();
      const [done, pending] = [data(1), data(2)];
      await backend.add(q, [done]);
      const [claim] = await backend.claim(q, 1);
      await settleClaim(backend, q, claim!);
      await backend.add(q, [pending]);
      expect(await backend.deleteTask(other, done.id)).toBe(false);
      expect(await backend.deleteTask(q, done.id)).toBe(true);
      expect((await backend.getTasks(q, [done.id])).size).toBe(0);
      expect(await backend.deleteTask(q, done.id)).toBe(false);
      expect(await backend.deleteTask(q, UNKNOWN)).toBe(false);
      expect(await backend.deleteTask(q, pending.id)).toBe(false);
      expect(await backend.size(q)).toBe(1);
      expect((await backend.getStats(q)).completed).toBe(0);
      expect((await backend.getAllTasks(q)).tasks.map((t) => t.id)).toEqual([pending.id]);
    });
  });

  describe("backend: finished-task notifications", () => {
    it("B-17 watchFinished hears settled-finished and cancelled tasks of its queue only, until stopped", async () => {
      const { backend, q, other } = await setup();
      const heard: string[] = [];
      const stop = await backend.watchFinished(q, (ids) => heard.push(...ids));
      const [done, retried, cancelled, elsewhere] = [data(1), data(2), data(3), data(4)];
      await backend.add(q, [done, retried, cancelled]);
      await backend.add(other, [elsewhere]);
      const [a, b] = await backend.claim(q, 2);
      await settleClaim(backend, q, a!);
      await settleClaim(backend, q, b!, retryingRecord(b!.record, Date.now() + HOUR));
      await backend.cancel(q, cancelled.id, { at: Date.now(), expiresAt: null });
      const [e] = await backend.claim(other, 1);
      await settleClaim(backend, other, e!);
      await expect.poll(() => new Set(heard)).toEqual(new Set([done.id, cancelled.id]));
      stop();
      await backend.add(q, [data(5)]);
      const [late] = await backend.claim(q, 1);
      await settleClaim(backend, q, late!, finishedRecord(late!.record, "failed"));
      await sleep(50);
      expect(new Set(heard)).toEqual(new Set([done.id, cancelled.id]));
    });
  });

  describe("backend: crons", () => {
    const cron = (id: string, expression = "*/5 * * * *"): CronData => ({
      deterministicId: id,
      id: `random-${id}`,
      expression,
      spec: { name: "backend-misc.item", args: [1] },
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
      expect(new Set((await backend.getCrons(q)).map((c) => c.deterministicId))).toEqual(
        new Set(["cron-1", "cron-2"]),
      );
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
      now: Date.now(),
      ...extra,
    });

    it("B-33 up to maxRate starts are admitted (null); then a wait in ms (≥ 10, ≤ period), staggered", async () => {
      const { backend, q, other } = await setup();
      for (const strategy of ["sliding_window", "fixed_window"] as const) {
        const key = `burst-${strategy}`;
        const now = Date.now();
        const at = (extra: Partial<RateLimitRequest> = {}) =>
          request(key, strategy, { now, ...extra });
        expect(await backend.acquireRateLimit(q, at())).toBeNull();
        expect(await backend.acquireRateLimit(q, at())).toBeNull();
        const third = await backend.acquireRateLimit(q, at());
        const fourth = await backend.acquireRateLimit(q, at());
        expect(third).toBeGreaterThanOrEqual(10);
        expect(third).toBeLessThanOrEqual(1000);
        expect(fourth).toBeGreaterThan(third!);
        // Keys and queues are separate limits.
        expect(await backend.acquireRateLimit(q, request(`${key}-other`, strategy))).toBeNull();
        expect(await backend.acquireRateLimit(other, at())).toBeNull();
      }
    });

    it("B-33 a key is any text (NUL, U+0001, astral characters): keys that differ never share a limit", async () => {
      const { backend, q } = await setup();
      const keys = CONFUSABLE_KEYS;
      const now = Date.now();
      for (const key of keys) {
        expect(await backend.acquireRateLimit(q, request(key, "fixed_window", { now }))).toBeNull();
        expect(await backend.acquireRateLimit(q, request(key, "fixed_window", { now }))).toBeNull();
      }
      for (const key of keys) {
        expect(
          await backend.acquireRateLimit(q, request(key, "fixed_window", { now })),
        ).toBeGreaterThanOrEqual(10);
      }
    });

    it("B-33 sliding counts the trailing period; fixed resets when its window ends (times are the caller's)", async () => {
      const { backend, q } = await setup();
      const periodMs = 600;
      const start = Date.now();
      const acquire = (strategy: RateLimitRequest["strategy"], at: number) =>
        backend.acquireRateLimit(q, request(strategy, strategy, { maxRate: 2, periodMs, now: at }));
      for (const strategy of ["sliding_window", "fixed_window"] as const) {
        expect(await acquire(strategy, start)).toBeNull();
        expect(await acquire(strategy, start + 300)).toBeNull();
      }
      // 660 ms on: the first start has left the sliding window, the second has not.
      expect(await acquire("sliding_window", start + 660)).toBeNull();
      expect(await acquire("sliding_window", start + 660)).toBeGreaterThanOrEqual(10);
      // The fixed window that opened at 0 has ended: a fresh window admits two.
      expect(await acquire("fixed_window", start + 660)).toBeNull();
      expect(await acquire("fixed_window", start + 660)).toBeNull();
      expect(await acquire("fixed_window", start + 660)).toBeGreaterThanOrEqual(10);
    });
  });
}
