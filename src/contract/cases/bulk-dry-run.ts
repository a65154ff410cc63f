/**
 * Previewing a bulk action: `dryRun: true` on `retryAll`, `cancelAll` and
 * `deleteAll` walks and judges the tasks as the action would, answers with
 * the counts the action then gives, and changes nothing — no status, no
 * record, no queue position.
 */
import { describe, expect, it } from "vitest";
import { InvalidOptionError, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { finishedRecord, settleClaim } from "../support/records.js";

const job = task({ name: "bulk-dry-run.job" }, (n: number) => n);
const other = task({ name: "bulk-dry-run.other" }, (n: number) => n);

export function bulkDryRunCases(h: ContractHarness): void {
  describe("bulk actions with dryRun", () => {
    it("each counts what the action then does, and changes nothing until it runs", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const failing = [job(1), job(2), other(3)];
      const done = job(4);
      await queue.add([...failing, done]);
      for (const claim of await backend.claim(queue.name, 4)) {
        const status = claim.record.id === done.id ? "completed" : "failed";
        await settleClaim(backend, queue.name, claim, finishedRecord(claim.record, status));
      }
      const backlog = [job(5), job(6), other(7)];
      await queue.add(backlog);
      const scheduled = job(8);
      await queue.schedule(scheduled, 3600);
      const everything = [...failing, done, ...backlog, scheduled];
      const snapshot = async () =>
        (await queue.getTask(everything)).map((t) => t && JSON.stringify(t.toJSON()));
      const before = await snapshot();
      const sizeBefore = await queue.size();

      const previews = {
        retry: await queue.retryAll({ name: job.name, dryRun: true }),
        cancel: await queue.cancelAll({ dryRun: true }),
        delete: await queue.deleteAll({ status: ["failed", "completed"], dryRun: true }),
      };
      expect(previews).toEqual({
        retry: { retried: 2, skipped: 0, endedWorkflowSteps: 0 },
        cancel: { cancelled: 4, skipped: 0 },
        delete: { deleted: 4, skipped: 0 },
      });
      // Nothing moved: every record as it was, the backlog still claimable in full.
      expect(await snapshot()).toEqual(before);
      expect(await queue.size()).toBe(sizeBefore);
      expect(await queue.cancelAll({ dryRun: false, name: other.name, status: "pending" })).toEqual(
        { cancelled: 1, skipped: 0 },
      );

      // The actions themselves give the previews' counts (less what the cancel above took).
      expect(await queue.cancelAll({ dryRun: true })).toEqual({ cancelled: 3, skipped: 0 });
      expect(await queue.cancelAll()).toEqual({ cancelled: 3, skipped: 0 });
      expect(await queue.retryAll({ name: job.name })).toEqual(previews.retry);
      // Retried, the two are no longer finished: the purge's preview counts what is left.
      expect(await queue.deleteAll({ status: ["failed", "completed"], dryRun: true })).toEqual({
        deleted: 2,
        skipped: 0,
      });
      expect(await queue.deleteAll({ status: ["failed", "completed"] })).toEqual({
        deleted: 2,
        skipped: 0,
      });
    });

    it("a dryRun that is not true or false is one clear error, before anything is read", async () => {
      const queue = h.queue();
      await queue.add(job(1));
      for (const [call, where] of [
        [() => queue.retryAll({ dryRun: "yes" as never }), "queue.retryAll()"],
        [() => queue.cancelAll({ dryRun: 1 as never }), "queue.cancelAll()"],
        [() => queue.deleteAll({ dryRun: null as never }), "queue.deleteAll()"],
      ] as const) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as Error).message).toMatch(`${where}: dryRun must be true or false (got `);
      }
      expect(await queue.size()).toBe(1);
    });
  });
}
