/**
 * Cancelling a backlog: `queue.cancelAll()` cancels every task that has not
 * started — pending (held behind its concurrency key or claimable),
 * scheduled, waiting for a retry — or only some statuses, task names or
 * concurrency keys; with `force`, running tasks too. Each task is cancelled
 * once, however many callers cancel at once, and what started or finished
 * before its turn is left alone.
 */
import { describe, expect, it } from "vitest";
import { InvalidOptionError, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { retryingRecord, settleClaim } from "../support/records.js";

const job = task({ name: "cancel-all.job" }, (n: number) => n);
const other = task({ name: "cancel-all.other" }, (n: number) => n);

export function cancelAllCases(h: ContractHarness): void {
  describe("cancelAll", () => {
    it("cancels pending, held, scheduled and retrying tasks; leaves running and finished ones; a redrive of the cancelled undoes it (the scheduled one waits for its time again)", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      // Two of one key with limit 1: the first claimed (running), the second held behind it.
      const [running, held] = [job(1), job(2)];
      await queue.add([
        { task: running, concurrency: { key: "tenant:a", limit: 1 } },
        { task: held, concurrency: { key: "tenant:a", limit: 1 } },
      ]);
      const [claim] = await backend.claim(queue.name, 1);
      expect(claim?.record.id).toBe(running.id);
      const [pending, finished, retrying] = [job(3), job(4), job(5)];
      await queue.add([finished, retrying]);
      const [first, second] = await backend.claim(queue.name, 2);
      await settleClaim(backend, queue.name, first!);
      await settleClaim(
        backend,
        queue.name,
        second!,
        retryingRecord(second!.record, Date.now() + 60_000),
      );
      await queue.add(pending);
      const scheduled = job(6);
      await queue.schedule(scheduled, 3600);

      expect(await queue.cancelAll()).toEqual({ cancelled: 4, skipped: 0 });
      const after = await queue.getTask([running, held, pending, finished, retrying, scheduled]);
      expect(after.map((t) => t?.status)).toEqual([
        "processing",
        "cancelled",
        "cancelled",
        "completed",
        "cancelled",
        "cancelled",
      ]);
      expect(await queue.size()).toBe(0);
      expect(await queue.getScheduled()).toEqual([]);
      // The running task's slot is its own still; its settle lands as usual.
      expect(await settleClaim(backend, queue.name, claim!)).toBe("settled");

      expect((await queue.retryAll({ status: "cancelled" })).retried).toBe(4);
      expect(await queue.size()).toBe(3);
      expect((await queue.getScheduled()).map((t) => t.id)).toEqual([scheduled.id]);
    });

    it("narrows to some statuses, task names or concurrency keys; other tenants' tasks are untouched", async () => {
      const queue = h.queue();
      const made = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? job(i) : other(i)));
      const keyOf = (i: number) => (i % 3 === 0 ? "tenant:a" : i % 3 === 1 ? "tenant:b" : null);
      await queue.add(
        made.map((t, i) => {
          const key = keyOf(i);
          return key === null ? { task: t } : { task: t, concurrency: { key, limit: 100 } };
        }),
      );
      const later = job(99);
      await queue.schedule(later, 3600, { concurrency: { key: "tenant:a", limit: 100 } });

      expect(
        await queue.cancelAll({
          concurrencyKey: "tenant:a",
          name: "cancel-all.job",
          status: "pending",
        }),
      ).toEqual({ cancelled: 2, skipped: 0 });
      const statusOf = async () => (await queue.getTask(made)).map((t) => t?.status);
      expect(await statusOf()).toEqual(made.map((_, i) => (i % 6 === 0 ? "cancelled" : "pending")));
      expect((await queue.getTask(later))?.status).toBe("scheduled");

      expect(await queue.cancelAll({ concurrencyKey: ["tenant:a", "tenant:b"] })).toEqual({
        cancelled: 7,
        skipped: 0,
      });
      expect(await statusOf()).toEqual(
        made.map((_, i) => (keyOf(i) === null ? "pending" : "cancelled")),
      );
      expect((await queue.getTask(later))?.status).toBe("cancelled");
      expect(await queue.cancelAll({ concurrencyKey: "tenant:nobody" })).toEqual({
        cancelled: 0,
        skipped: 0,
      });
    });

    it("with force, cancels running tasks too: their claims end, and their settles are lost", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await queue.add([job(1), job(2), job(3)]);
      const claims = await backend.claim(queue.name, 2);
      expect(claims).toHaveLength(2);
      expect(await queue.cancelAll({ force: true })).toEqual({ cancelled: 3, skipped: 0 });
      for (const claim of claims) {
        expect(await settleClaim(backend, queue.name, claim)).toBe("lost");
      }
      expect((await queue.stats()).cancelled).toBe(3);
      expect((await queue.stats()).processing).toBe(0);
    });

    it("two cancelAll calls at once cancel each task once between them", async () => {
      const queue = h.queue();
      const sibling = h.sibling(queue);
      const made = Array.from({ length: 60 }, (_, i) => job(i));
      await queue.add(made);
      const [a, b] = await Promise.all([
        queue.cancelAll({ batchSize: 7 }),
        sibling.cancelAll({ batchSize: 5 }),
      ]);
      expect(a.cancelled + b.cancelled).toBe(60);
      expect(a.cancelled + a.skipped).toBeLessThanOrEqual(60);
      expect((await queue.stats()).cancelled).toBe(60);
    });

    it("refuses bad options with one line naming the option: nothing is cancelled", async () => {
      const queue = h.queue();
      await queue.add(job(1));
      const refusals: [unknown, RegExp][] = [
        [{ status: "completed" }, /status must be one of pending, scheduled, retrying, processing/],
        [{ status: "processing" }, /status 'processing' needs force: true/],
        [{ force: "yes" }, /force must be true or false/],
        [{ concurrencyKey: "" }, /concurrencyKey must be a concurrency key or a list of them/],
        [{ name: [] }, /name must be a task name or a list of them, at least one/],
        [{ batchSize: 0 }, /batchSize must be an integer ≥ 1/],
        [{ tenant: "a" }, /unknown option 'tenant'/],
      ];
      for (const [options, message] of refusals) {
        const refused = queue.cancelAll(options as never);
        await expect(refused).rejects.toThrow(InvalidOptionError);
        await expect(queue.cancelAll(options as never)).rejects.toThrow(message);
      }
      expect(await queue.size()).toBe(1);
    });
  });
}
