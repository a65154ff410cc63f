/**
 * Claims, their fences and leases, and promoting due work: what a worker
 * relies on to never run a task twice at once and never lose one.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Backend } from "../../backends/backend.js";
import { type TaskData, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import {
  claimIds,
  finishedRecord,
  ids,
  requeued,
  scheduledRecord,
  settleClaim,
} from "../support/records.js";

const item = task({ name: "backend-claims.item" }, (n: number) => n);
const data = (n: number): TaskData => ({ ...item(n).toJSON(), status: "pending" });
const HOUR = 3_600_000;
const UNKNOWN = "00000000-0000-0000-0000-000000000000";

export function backendClaimsCases(h: ContractHarness): void {
  const setup = async (): Promise<{ backend: Backend; q: string }> => ({
    backend: await h.backend(),
    q: h.queue().name,
  });

  describe("backend: claims and fences", () => {
    it("claim takes tasks in FIFO order, each once, each under a fence", async () => {
      const { backend, q } = await setup();
      const records = [data(1), data(2), data(3)];
      await backend.add(q, records);
      const first = await backend.claim(q, 2);
      const second = await backend.claim(q, 2);
      expect(claimIds(first)).toEqual(ids(records.slice(0, 2)));
      expect(claimIds(second)).toEqual([records[2]!.id]);
      expect(await backend.claim(q, 2)).toEqual([]);
      for (const claim of [...first, ...second]) expect(claim.fence).toBeGreaterThan(0);
      expect((await backend.getStats(q)).processing).toBe(3);
    });

    it("concurrent claims from two instances never hand out the same task", async () => {
      const queue = h.queue();
      const other = h.sibling(queue);
      const [a, b] = [await queue.connect(), await other.connect()];
      const records = Array.from({ length: 40 }, (_, i) => data(i));
      await a.add(queue.name, records);
      const batches = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claim(queue.name, 5)),
      );
      const claimed = batches.flat().map((c) => c.record.id);
      expect(claimed).toHaveLength(40);
      expect(new Set(claimed)).toEqual(new Set(ids(records)));
    });

    it("B-32 renew keeps current claims and reports the ids whose claim is not current", async () => {
      const { backend, q } = await setup();
      const [a, b, c] = [data(1), data(2), data(3)];
      await backend.add(q, [a, b, c]);
      const [ca, cb] = await backend.claim(q, 2);
      const current = [ca!, cb!].map((claim) => ({ id: claim.record.id, fence: claim.fence }));
      expect(await backend.renew(q, current)).toEqual([]);
      const stale = { id: a.id, fence: ca!.fence + 1 };
      expect(
        new Set(await backend.renew(q, [stale, { id: c.id, fence: 1 }, { id: UNKNOWN, fence: 1 }])),
      ).toEqual(new Set([a.id, c.id, UNKNOWN]));
      expect(await backend.renew(q, [])).toEqual([]);
    });

    it("B-32 reclaimExpired leaves fresh claims alone", async () => {
      const { backend, q } = await setup();
      await backend.add(q, [data(1), data(2)]);
      await backend.claim(q, 2);
      expect(await backend.reclaimExpired(q, { leaseMs: 60_000, confirmMs: 0 })).toEqual([]);
      expect(await backend.reclaimExpired(h.queue().name, { leaseMs: 0, confirmMs: 0 })).toEqual(
        [],
      );
      expect((await backend.getStats(q)).processing).toBe(2);
    });

    it("B-32 reclaimExpired takes over claims not renewed for leaseMs, under a new fence; renewed ones stay", async () => {
      const { backend, q } = await setup();
      const [idle, alive] = [data(1), data(2)];
      await backend.add(q, [idle, alive]);
      const claims = await backend.claim(q, 2);
      const aliveClaim = claims.find((c) => c.record.id === alive.id)!;
      const idleClaim = claims.find((c) => c.record.id === idle.id)!;
      await sleep(300);
      expect(await backend.renew(q, [{ id: alive.id, fence: aliveClaim.fence }])).toEqual([]);
      const taken = await backend.reclaimExpired(q, { leaseMs: 200, confirmMs: 0 });
      expect(claimIds(taken)).toEqual([idle.id]);
      expect(taken[0]?.record.status).toBe("processing");
      expect(taken[0]!.fence).toBeGreaterThan(idleClaim.fence);
      // Taken over: its lease is fresh again, so it is not handed out twice.
      expect(await backend.reclaimExpired(q, { leaseMs: 200, confirmMs: 0 })).toEqual([]);
      expect(await backend.renew(q, [{ id: idle.id, fence: idleClaim.fence }])).toEqual([idle.id]);
      const crashed = finishedRecord(taken[0]!.record, "crashed");
      expect(await settleClaim(backend, q, taken[0]!, crashed)).toBe("settled");
      expect((await backend.getTasks(q, [idle.id])).get(idle.id)).toEqual(crashed);
    });

    it("a claim made under a lease is taken over only once unrenewed for the longer of that lease and the reclaimer's: a short-lease reclaimer leaves live holders alone", async () => {
      const { backend, q } = await setup();
      const [long, short, untold] = [data(1), data(2), data(3)];
      await backend.add(q, [long]);
      const [longClaim] = await backend.claim(q, 1, 0, undefined, 60_000);
      await backend.add(q, [short]);
      await backend.claim(q, 1, 0, undefined, 100);
      await backend.add(q, [untold]);
      await backend.claim(q, 1);
      await sleep(300);
      // A reclaimer with a 200 ms lease: the claim held under 60 s is not expired yet; the others are.
      const taken = await backend.reclaimExpired(q, { leaseMs: 200, confirmMs: 0 });
      expect(claimIds(taken).sort()).toEqual([short.id, untold.id].sort());
      // A reclaimer with a longer lease than the holder's goes by its own.
      expect(await backend.reclaimExpired(q, { leaseMs: 120_000, confirmMs: 0 })).toEqual([]);
      expect(await backend.renew(q, [{ id: long.id, fence: longClaim!.fence }])).toEqual([]);
      for (const claim of taken) await settleClaim(backend, q, claim);
      // A claim's lease is its own: the next claim of the task, made without one, goes by the reclaimer's.
      expect(await settleClaim(backend, q, longClaim!, requeued(longClaim!.record))).toBe(
        "settled",
      );
      const [again] = await backend.claim(q, 1);
      expect(again?.record.id).toBe(long.id);
      await sleep(300);
      expect(claimIds(await backend.reclaimExpired(q, { leaseMs: 200, confirmMs: 0 }))).toEqual([
        long.id,
      ]);
    });

    h.itIfReportsClaimLeases("the backend does not report claims' leases (optional)")(
      "claimLeases gives each claimed task's time since its last renewal and its holder's lease; waiting, finished and unknown ids are left out",
      async () => {
        const { backend, q } = await setup();
        const [leased, untold, waiting] = [data(1), data(2), data(3)];
        await backend.add(q, [leased]);
        const [leasedClaim] = await backend.claim(q, 1, 0, undefined, 45_000);
        await backend.add(q, [untold, waiting]);
        const [untoldClaim] = await backend.claim(q, 1);
        const ask = [leased.id, untold.id, waiting.id, UNKNOWN];
        const fresh = await backend.claimLeases!(q, ask);
        expect([...fresh.keys()].sort()).toEqual([leased.id, untold.id].sort());
        expect(fresh.get(leased.id)?.leaseMs).toBe(45_000);
        expect(fresh.get(untold.id)?.leaseMs).toBeNull();
        for (const lease of fresh.values()) {
          expect(lease.renewedAgoMs).toBeGreaterThanOrEqual(0);
          expect(lease.renewedAgoMs).toBeLessThan(45_000);
        }
        await sleep(400);
        // Unrenewed, a claim's age grows; a renewal brings it back.
        expect(await backend.renew(q, [{ id: leased.id, fence: leasedClaim!.fence }])).toEqual([]);
        const later = await backend.claimLeases!(q, ask);
        expect(later.get(untold.id)!.renewedAgoMs).toBeGreaterThanOrEqual(300);
        expect(later.get(leased.id)!.renewedAgoMs).toBeLessThan(later.get(untold.id)!.renewedAgoMs);
        // Settled, a task holds no claim any more.
        await settleClaim(backend, q, untoldClaim!);
        expect([...(await backend.claimLeases!(q, ask)).keys()]).toEqual([leased.id]);
        expect(await backend.claimLeases!(q, [])).toEqual(new Map());
      },
    );

    it("reclaimExpired with a confirmation window first only notes an expired claim; a renewal meanwhile saves it", async () => {
      const { backend, q } = await setup();
      const [saved, lost] = [data(1), data(2)];
      await backend.add(q, [saved, lost]);
      const claims = await backend.claim(q, 2);
      const savedClaim = claims.find((c) => c.record.id === saved.id)!;
      await sleep(150);
      const window = { leaseMs: 100, confirmMs: 200 };
      // Both expired, but only noted now: nobody is taken over yet.
      expect(await backend.reclaimExpired(q, window)).toEqual([]);
      // The holder of one comes back and renews within the window.
      expect(await backend.renew(q, [{ id: saved.id, fence: savedClaim.fence }])).toEqual([]);
      expect(await backend.reclaimExpired(q, window)).toEqual([]);
      await sleep(250);
      const taken = await backend.reclaimExpired(q, window);
      expect(claimIds(taken)).toEqual([lost.id]);
      expect(await backend.renew(q, [{ id: saved.id, fence: savedClaim.fence }])).toEqual([]);
    });

    it("B-32 many dead claims (more than one reclaim batch) are all noted, then all taken over, in one call each", async () => {
      const { backend, q } = await setup();
      const records = Array.from({ length: 250 }, (_, i) => data(i));
      await backend.add(q, records);
      const claims = await backend.claim(q, 250);
      expect(claims).toHaveLength(250);
      await sleep(150);
      const window = { leaseMs: 100, confirmMs: 200 };
      // The first call notes every one of them, not only the oldest batch.
      expect(await backend.reclaimExpired(q, window)).toEqual([]);
      await sleep(250);
      const taken = await backend.reclaimExpired(q, window);
      expect(new Set(claimIds(taken))).toEqual(new Set(records.map((r) => r.id)));
      for (const claim of taken) {
        const before = claims.find((c) => c.record.id === claim.record.id)!;
        expect(claim.fence).toBeGreaterThan(before.fence);
      }
      expect(await backend.reclaimExpired(q, window)).toEqual([]);
    });
  });

  describe("backend: due work", () => {
    it("B-16 promoteDue makes the records due by now claimable, earliest first, exactly once", async () => {
      const { backend, q } = await setup();
      const base = Date.now();
      const [b, a, c, later] = [
        scheduledRecord(data(2), base + 2000),
        scheduledRecord(data(1), base + 1000),
        scheduledRecord(data(3), base + 3000),
        scheduledRecord(data(4), base + HOUR),
      ];
      await backend.add(q, [b, a, c, later]);
      expect(await backend.promoteDue(q, base + 500)).toEqual([]);
      expect(await backend.promoteDue(q, base + 3000)).toEqual([a.id, b.id, c.id]);
      expect(await backend.promoteDue(q, base + 3000)).toEqual([]);
      expect(ids((await backend.getScheduled(q)).tasks)).toEqual([later.id]);
      expect(await backend.size(q)).toBe(3);
      const pending = await backend.getPending(q, 5);
      expect(pending.map((r) => r.status)).toEqual(["pending", "pending", "pending"]);
      expect(claimIds(await backend.claim(q, 5))).toEqual([a.id, b.id, c.id]);
    });

    it("B-16 / S-11 concurrent promoteDue calls from two instances move each due task once", async () => {
      const queue = h.queue();
      const other = h.sibling(queue);
      const [a, b] = [await queue.connect(), await other.connect()];
      const records = Array.from({ length: 6 }, (_, i) => scheduledRecord(data(i), Date.now() - 1));
      await a.add(queue.name, records);
      const now = Date.now();
      const moved = await Promise.all([
        a.promoteDue(queue.name, now),
        b.promoteDue(queue.name, now),
        a.promoteDue(queue.name, now),
      ]);
      expect(moved.flat().sort()).toEqual(ids(records).sort());
      expect(await a.size(queue.name)).toBe(6);
    });
  });
}
