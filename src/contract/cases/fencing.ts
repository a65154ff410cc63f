/**
 * Fencing across backend instances (standing in for processes): an outcome
 * is written only by whoever holds the task's current claim, and a manual
 * retry never replaces a task a worker is running.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { type TaskData, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { finishedRecord, requeued, settleClaim } from "../support/records.js";

const job = task({ name: "fencing.job" }, (n: number) => n);
const pending = (n: number): TaskData => ({ ...job(n).toJSON(), status: "pending" });

export function fencingCases(h: ContractHarness): void {
  describe("fencing", () => {
    it("R-12 a replacing add (manual retry) never replaces a task being run; once settled it goes through", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const record = pending(4);
      await backend.add(queue.name, [record]);
      const [claim] = await backend.claim(queue.name, 1);
      expect(await backend.add(queue.name, [record], "replace")).toEqual([false]);
      expect(await backend.size(queue.name)).toBe(0);
      expect((await queue.getTask(record.id))?.status).toBe("processing");
      await settleClaim(backend, queue.name, claim!, finishedRecord(claim!.record, "failed"));
      expect(await backend.add(queue.name, [record], "replace")).toEqual([true]);
    });

    it("CR-7 an instance whose claim another instance took over cannot overwrite the task", async () => {
      const slow = h.queue();
      const other = h.sibling(slow);
      const slowBackend = await slow.connect();
      const otherBackend = await other.connect();
      await slowBackend.add(slow.name, [pending(5)]);
      const [claim] = await slowBackend.claim(slow.name, 1);
      await sleep(40);
      // The other instance finds the lease expired, takes it over and puts the task back.
      const [taken] = await otherBackend.reclaimExpired(other.name, { leaseMs: 10, confirmMs: 0 });
      expect(taken?.record.id).toBe(claim!.record.id);
      expect(await settleClaim(otherBackend, other.name, taken!, requeued(taken!.record))).toBe(
        "settled",
      );
      const [rerun] = await otherBackend.claim(other.name, 1);
      expect(rerun?.record.id).toBe(claim!.record.id);
      // The first holder finishes late: refused, and the re-run's claim is untouched.
      expect(await settleClaim(slowBackend, slow.name, claim!)).toBe("lost");
      const stale = { id: claim!.record.id, fence: claim!.fence };
      expect(await slowBackend.renew(slow.name, [stale])).toEqual([claim!.record.id]);
      expect(
        await otherBackend.renew(other.name, [{ id: rerun!.record.id, fence: rerun!.fence }]),
      ).toEqual([]);
      const stats = await slow.stats();
      expect([stats.processing, stats.completed, stats.pending]).toEqual([1, 0, 0]);
      expect(await settleClaim(otherBackend, other.name, rerun!)).toBe("settled");
      expect((await slow.getTask(claim!.record.id))?.status).toBe("completed");
    });
  });
}
