/**
 * Fencing: an outcome may only be written by whoever still holds the task's
 * claim, and writing it twice (a resend after a dropped connection) must not
 * queue the task twice. A manual retry never replaces a task a worker is
 * running. (Issue #3: "a live, slow worker never loses its task to another";
 * BEHAVIOURS CR-7, Q-27, R-12)
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type TaskData, task } from "sheppy";
import { describe, expect, it } from "vitest";
import type { ContractHarness } from "../harness.js";

const job = task({ name: "fencing.job" }, (n: number) => n);

const pending = (n: number): TaskData => ({ ...job(n).toJSON(), status: "pending" });
const done = (record: TaskData): TaskData => ({
  ...record,
  status: "completed",
  result: record.args[0]!,
  finishedAt: new Date().toISOString(),
});

export function fencingCases(h: ContractHarness): void {
  describe("fencing", () => {
    it("an outcome stored twice leaves the task queued once (a resend is harmless)", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await backend.append(queue.name, [pending(1)]);
      const [claimed] = await backend.pop(queue.name, 1);
      const back = { ...claimed!, status: "pending" as const, startedAt: null };
      expect(await backend.storeResult(queue.name, [back])).toEqual([]);
      expect(await backend.storeResult(queue.name, [back])).toEqual([]);
      expect(await backend.size(queue.name)).toBe(1);
      expect((await backend.pop(queue.name, 5)).map((t) => t.id)).toEqual([claimed!.id]);
      expect(await backend.pop(queue.name, 5)).toEqual([]);
    });

    it("Q-27 an outcome arriving after clear() is refused and brings nothing back", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await backend.append(queue.name, [pending(2)]);
      const [claimed] = await backend.pop(queue.name, 1);
      await queue.clear();
      expect(await backend.storeResult(queue.name, [done(claimed!)])).toEqual([claimed!.id]);
      expect(await queue.getTask(claimed!.id)).toBeNull();
      expect((await queue.stats()).completed).toBe(0);
      expect(await queue.getAllTasks()).toEqual([]);
    });

    it("an outcome arriving after the task was deleted is refused", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const record = pending(3);
      await backend.append(queue.name, [record]);
      const [claimed] = await backend.pop(queue.name, 1);
      await backend.storeResult(queue.name, [done(claimed!)]);
      expect(await backend.deleteTask(queue.name, record.id)).toBe(true);
      expect(await backend.storeResult(queue.name, [done(claimed!)])).toEqual([record.id]);
      expect(await queue.getTask(record.id)).toBeNull();
    });

    it("R-12 a non-unique append or schedule (manual retry) never replaces a task being run", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const record = pending(4);
      await backend.append(queue.name, [record]);
      const [claimed] = await backend.pop(queue.name, 1);
      expect(await backend.append(queue.name, [record], false)).toEqual([false]);
      expect(await backend.schedule(queue.name, record, Date.now() + 60_000, false)).toBe(false);
      expect(await backend.size(queue.name)).toBe(0);
      expect((await queue.getTask(record.id))?.status).toBe("processing");
      // Once its outcome is stored, a retry goes through again.
      await backend.storeResult(queue.name, [
        { ...done(claimed!), status: "failed", result: null },
      ]);
      expect(await backend.append(queue.name, [record], false)).toEqual([true]);
    });

    h.itIf("leases", "the memory backend has no lease owners to tell apart")(
      "CR-7 a worker whose lease was taken over cannot overwrite the task: its outcome is refused",
      async () => {
        const slow = h.queue();
        const other = h.sibling(slow);
        const slowBackend = await slow.connect();
        const otherBackend = await other.connect();
        await slowBackend.append(slow.name, [pending(5)]);
        const [claimed] = await slowBackend.pop(slow.name, 1);
        await sleep(30);
        // The other instance decides the lease is stale, takes it over and puts the task back.
        const [taken] = await otherBackend.reclaimStale(other.name, 10);
        expect(taken?.id).toBe(claimed!.id);
        expect(
          await otherBackend.storeResult(other.name, [
            { ...taken!, status: "pending", startedAt: null },
          ]),
        ).toEqual([]);
        const [rerun] = await otherBackend.pop(other.name, 1);
        expect(rerun?.id).toBe(claimed!.id);
        // The first holder finishes late: refused, and the re-run's claim is untouched.
        expect(await slowBackend.storeResult(slow.name, [done(claimed!)])).toEqual([claimed!.id]);
        expect(await slowBackend.heartbeat(slow.name, [claimed!.id])).toEqual([claimed!.id]);
        expect(await otherBackend.heartbeat(other.name, [claimed!.id])).toEqual([]);
        const stats = await slow.stats();
        expect([stats.processing, stats.completed, stats.pending]).toEqual([1, 0, 0]);
        expect(await otherBackend.storeResult(other.name, [done(rerun!)])).toEqual([]);
        expect((await slow.getTask(claimed!.id))?.status).toBe("completed");
      },
    );
  });
}
