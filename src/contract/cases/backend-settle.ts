/**
 * The one atomic settle that ends an attempt: the outcome record routed by
 * its status, the tasks it chained, its expiry and the count bound — all or
 * nothing, fenced, safe to send twice.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Backend } from "../../backends/backend.js";
import { InvalidOptionError, type TaskData, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import {
  claimIds,
  finishedRecord,
  ids,
  iso,
  requeued,
  retryingRecord,
  scheduledRecord,
  settleClaim,
} from "../support/records.js";

const item = task({ name: "backend-settle.item" }, (n: number) => n);
const data = (n: number): TaskData => ({ ...item(n).toJSON(), status: "pending" });
const HOUR = 3_600_000;

export function backendSettleCases(h: ContractHarness): void {
  const setup = async (): Promise<{ backend: Backend; q: string }> => ({
    backend: await h.backend(),
    q: h.queue().name,
  });
  /** Lets every claim of `q` go stale, then takes them all over at once. */
  const takeOverAll = async (backend: Backend, q: string) => {
    await sleep(30);
    return backend.reclaimExpired(q, { leaseMs: 10, confirmMs: 0 });
  };

  describe("backend: settle", () => {
    it("B-17 settling a finished record overwrites it, releases the claim and tells finished-listeners", async () => {
      const { backend, q } = await setup();
      const d = data(4);
      await backend.add(q, [d]);
      const [claim] = await backend.claim(q, 1);
      const heard: string[] = [];
      const stop = await backend.watchFinished(q, (finished) => heard.push(...finished));
      const done = finishedRecord(claim!.record);
      expect(await settleClaim(backend, q, claim!, done)).toBe("settled");
      await expect.poll(() => heard).toContain(d.id);
      stop();
      expect((await backend.getTasks(q, [d.id])).get(d.id)).toEqual(done);
      expect((await backend.getStats(q)).processing).toBe(0);
      expect((await backend.getStats(q)).completed).toBe(1);
      // Renewing a claim its holder settled reports nothing lost.
      expect(await backend.renew(q, [{ id: d.id, fence: claim!.fence }])).toEqual([]);
    });

    it("B-17 by status: retrying and scheduled wait for their time (or are claimable once it came); pending is claimable", async () => {
      const { backend, q } = await setup();
      await backend.add(q, [data(1), data(2), data(3), data(4)]);
      const [retryLater, retryNow, putOff, back] = await backend.claim(q, 4);
      const now = Date.now();
      const results = await backend.settle(
        q,
        [
          { fence: retryLater!.fence, record: retryingRecord(retryLater!.record, now + HOUR) },
          { fence: retryNow!.fence, record: retryingRecord(retryNow!.record, now - 1) },
          { fence: putOff!.fence, record: scheduledRecord(putOff!.record, now + HOUR) },
          { fence: back!.fence, record: requeued(back!.record) },
        ].map((s) => ({ ...s, children: [], expiresAt: null })),
        now,
      );
      expect(results).toEqual(["settled", "settled", "settled", "settled"]);
      expect(new Set(ids((await backend.getScheduled(q)).tasks))).toEqual(
        new Set([retryLater!.record.id, putOff!.record.id]),
      );
      const pending = await backend.getPending(q, 10);
      expect(new Set(ids(pending))).toEqual(new Set([retryNow!.record.id, back!.record.id]));
      expect(pending.map((r) => r.status)).toEqual(["pending", "pending"]);
      const stats = await backend.getStats(q);
      expect([stats.pending, stats.scheduled, stats.processing]).toEqual([2, 2, 0]);
    });

    it("settle refuses a record that cannot be stored outside a claim, before writing any of the batch", async () => {
      const { backend, q } = await setup();
      await backend.add(q, [data(1), data(2)]);
      const [a, b] = await backend.claim(q, 2);
      await expect(
        backend.settle(
          q,
          [
            { fence: a!.fence, record: finishedRecord(a!.record), children: [], expiresAt: null },
            { fence: b!.fence, record: b!.record, children: [], expiresAt: null },
          ],
          Date.now(),
        ),
      ).rejects.toThrow(InvalidOptionError);
      expect((await backend.getStats(q)).processing).toBe(2);
      expect(await settleClaim(backend, q, a!)).toBe("settled");
    });

    it("chained tasks are added in the same step, as claimable, each only when its id is new", async () => {
      const { backend, q } = await setup();
      const existing = data(20);
      await backend.add(q, [data(1), existing]);
      const [parent] = await backend.claim(q, 1);
      const children = [data(10), data(11), existing];
      expect(await settleClaim(backend, q, parent!, undefined, { children })).toBe("settled");
      expect(await backend.size(q)).toBe(3);
      expect(ids(await backend.getPending(q, 10))).toEqual([
        existing.id,
        children[0]!.id,
        children[1]!.id,
      ]);
      expect((await backend.getTasks(q, [children[0]!.id])).get(children[0]!.id)).toEqual(
        children[0],
      );
    });

    it("a settle sent twice (its reply lost) is settled once: each child once, the task queued once", async () => {
      const { backend, q } = await setup();
      await backend.add(q, [data(1), data(2)]);
      const [withChildren, retried] = await backend.claim(q, 2);
      const children = [data(10), data(11)];
      const again = async () => [
        await settleClaim(backend, q, withChildren!, undefined, { children }),
        await settleClaim(backend, q, retried!, retryingRecord(retried!.record, Date.now() - 1)),
      ];
      expect(await again()).toEqual(["settled", "settled"]);
      expect(await again()).toEqual(["settled", "settled"]);
      expect(new Set(ids(await backend.getPending(q, 10)))).toEqual(
        new Set([retried!.record.id, ...ids(children)]),
      );
      expect(await backend.size(q)).toBe(3);
      expect((await backend.getStats(q)).completed).toBe(1);
    });

    it("CR-7 a claim taken over is fenced: its late settle is lost and changes nothing", async () => {
      const { backend, q } = await setup();
      await backend.add(q, [data(5)]);
      const [old] = await backend.claim(q, 1);
      const [taken] = await takeOverAll(backend, q);
      expect(taken?.record.id).toBe(old!.record.id);
      expect(taken!.fence).toBeGreaterThan(old!.fence);
      expect(await settleClaim(backend, q, old!, undefined, { children: [data(9)] })).toBe("lost");
      expect(await backend.size(q)).toBe(0);
      expect(await backend.renew(q, [{ id: old!.record.id, fence: old!.fence }])).toEqual([
        old!.record.id,
      ]);
      expect(await backend.renew(q, [{ id: taken!.record.id, fence: taken!.fence }])).toEqual([]);
      expect((await backend.getStats(q)).processing).toBe(1);
      const crashed = finishedRecord(taken!.record, "crashed");
      expect(await settleClaim(backend, q, taken!, crashed)).toBe("settled");
      expect((await backend.getTasks(q, [old!.record.id])).get(old!.record.id)).toEqual(crashed);
    });

    it("Q-27 a settle after clear() or delete is lost and brings nothing back", async () => {
      const { backend, q } = await setup();
      await backend.add(q, [data(1)]);
      const [claim] = await backend.claim(q, 1);
      await backend.clear(q);
      expect(await settleClaim(backend, q, claim!, undefined, { children: [data(2)] })).toBe(
        "lost",
      );
      expect(await backend.getTasks(q, [claim!.record.id])).toEqual(new Map());
      expect((await backend.getAllTasks(q)).tasks).toEqual([]);

      await backend.add(q, [data(3)]);
      const [next] = await backend.claim(q, 1);
      expect(await settleClaim(backend, q, next!)).toBe("settled");
      expect(await backend.deleteTask(q, next!.record.id)).toBe(true);
      expect(await settleClaim(backend, q, next!)).toBe("lost");
      expect(await backend.getTasks(q, [next!.record.id])).toEqual(new Map());
    });

    it("results line up with the batch: settled and lost side by side", async () => {
      const { backend, q } = await setup();
      await backend.add(q, [data(1), data(2)]);
      const [a, b] = await backend.claim(q, 2);
      const taken = await takeOverAll(backend, q);
      const current = taken.find((c) => c.record.id === a!.record.id)!;
      const results = await backend.settle(
        q,
        [
          {
            fence: current.fence,
            record: finishedRecord(a!.record),
            children: [],
            expiresAt: null,
          },
          { fence: b!.fence, record: finishedRecord(b!.record), children: [], expiresAt: null },
        ],
        Date.now(),
      );
      expect(results).toEqual(["settled", "lost"]);
    });

    it("TTL a finished record expires at its expiresAt: gone for readers at once, deleted by pruneExpired", async () => {
      const { backend, q } = await setup();
      await backend.add(q, [data(1), data(2), data(3)]);
      const [soon, later, forever] = await backend.claim(q, 3);
      const now = Date.now();
      await settleClaim(backend, q, soon!, undefined, { expiresAt: now - 1 });
      await settleClaim(backend, q, later!, undefined, { expiresAt: now + HOUR });
      await settleClaim(backend, q, forever!, undefined, { expiresAt: null });
      const all = [soon, later, forever].map((c) => c!.record.id);
      expect(new Set((await backend.getTasks(q, all)).keys())).toEqual(
        new Set([later!.record.id, forever!.record.id]),
      );
      // Reads may prune what they find expired (memory does); after a prune nothing expired is left.
      await backend.pruneExpired(q, now + HOUR);
      expect(await backend.pruneExpired(q, now + HOUR)).toBe(0);
      expect([...(await backend.getTasks(q, all)).keys()]).toEqual([forever!.record.id]);
      expect((await backend.getStats(q)).completed).toBe(1);
      expect(new Set(ids((await backend.getAllTasks(q)).tasks))).toEqual(
        new Set([forever!.record.id]),
      );
    });

    it("TTL-12 a finished record added again (replace) loses its expiry", async () => {
      const { backend, q } = await setup();
      const d = data(1);
      await backend.add(q, [d]);
      const [claim] = await backend.claim(q, 1);
      await settleClaim(backend, q, claim!, undefined, { expiresAt: Date.now() + 200 });
      expect(await backend.add(q, [{ ...d, lastRetryAt: iso() }], "replace")).toEqual([true]);
      expect(await backend.pruneExpired(q, Date.now() + HOUR)).toBe(0);
      expect((await backend.getTasks(q, [d.id])).get(d.id)?.status).toBe("pending");
    });

    it("retention: beyond maxFinished the records due to expire soonest are deleted; records kept forever are not counted", async () => {
      const backend = await h.queue({ maxFinished: 3 }).connect();
      const q = h.queue().name;
      const records = Array.from({ length: 6 }, (_, i) => data(i));
      await backend.add(q, records);
      const claims = await backend.claim(q, 6);
      const now = Date.now();
      // Expiring in the order of their arguments; the last one is kept forever.
      for (const [i, claim] of claims.entries()) {
        await settleClaim(backend, q, claim, undefined, {
          expiresAt: i === 5 ? null : now + (i + 1) * HOUR,
        });
      }
      const left = await backend.getTasks(q, ids(records));
      expect(new Set(left.keys())).toEqual(new Set(claimIds(claims.slice(2))));
      expect((await backend.getStats(q)).completed).toBe(4);
    });

    it("retention: maxFinished bounds completed records and maxFailed the other finished ones, each on its own, so kept failures never crowd out results", async () => {
      const backend = await h.queue({ maxFinished: 3, maxFailed: 4 }).connect();
      const q = h.queue().name;
      const records = Array.from({ length: 9 }, (_, i) => data(i));
      await backend.add(q, records);
      const claims = await backend.claim(q, 9);
      const now = Date.now();
      // Five failures kept a week (as errorTtl keeps them by default), due an hour apart: their
      // bound keeps the four due last.
      for (const [i, claim] of claims.slice(0, 5).entries()) {
        const ended = finishedRecord(claim.record, i === 1 ? "crashed" : "failed");
        await settleClaim(backend, q, claim, ended, { expiresAt: now + 168 * HOUR + i * HOUR });
      }
      // Then four results kept an hour, due before any failure: each is stored and readable, and
      // the bound deletes the soonest-expiring result, never a failure.
      for (const [i, claim] of claims.slice(5).entries()) {
        await settleClaim(backend, q, claim, undefined, { expiresAt: now + HOUR + i * 1000 });
        const read = await backend.getTasks(q, [claim.record.id]);
        expect(read.get(claim.record.id)?.status).toBe("completed");
      }
      const left = await backend.getTasks(q, ids(records));
      const kept = [...claimIds(claims.slice(1, 5)), ...claimIds(claims.slice(6))];
      expect(new Set(left.keys())).toEqual(new Set(kept));
      const stats = await backend.getStats(q);
      expect([stats.completed, stats.failed, stats.crashed]).toEqual([3, 3, 1]);
      // A sweep deletes by expiry among both: of the results kept, the two due first are gone.
      expect(await backend.pruneExpired(q, now + HOUR + 2500)).toBe(2);
      expect((await backend.getStats(q)).completed).toBe(1);
    });
  });
}
