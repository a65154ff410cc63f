/**
 * Purging finished records: `queue.deleteAll()` deletes the records of
 * finished tasks — every finished status by default, or some statuses, task
 * names or concurrency keys, finished before a time — and never a task that
 * has not finished, nor one retried or claimed between the listing and the
 * delete.
 */
import { describe, expect, it } from "vitest";
import { InvalidOptionError, task } from "../../index.js";
import { deleteAll } from "../../queue/delete-all.js";
import type { QueueHandle } from "../../queue/queue-handle.js";
import type { ContractHarness } from "../harness.js";
import { finishedRecord, settleClaim } from "../support/records.js";

const job = task({ name: "delete-all.job" }, (n: number) => n);
const other = task({ name: "delete-all.other" }, (n: number) => n);
const HOUR = 3_600_000;

export function deleteAllCases(h: ContractHarness): void {
  describe("deleteAll", () => {
    it("deletes finished records of some statuses, names, finished before a time; leaves unfinished ones and the rest", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      // Finished two hours ago: two completed, two failed (one of another name); now: one failed.
      const [oldDone, oldDone2, oldFailed, oldOther, newFailed] = [
        job(1),
        job(2),
        job(3),
        other(4),
        job(5),
      ];
      const ended: [ReturnType<typeof job>, "completed" | "failed", number][] = [
        [oldDone, "completed", Date.now() - 2 * HOUR],
        [oldDone2, "completed", Date.now() - 2 * HOUR],
        [oldFailed, "failed", Date.now() - 2 * HOUR],
        [oldOther, "failed", Date.now() - 2 * HOUR],
        [newFailed, "failed", Date.now()],
      ];
      for (const [t, status, at] of ended) {
        await queue.add(t);
        const [claim] = await backend.claim(queue.name, 1);
        expect(claim?.record.id).toBe(t.id);
        const record = {
          ...finishedRecord(claim!.record, status),
          finishedAt: new Date(at).toISOString(),
        };
        expect(await settleClaim(backend, queue.name, claim!, record)).toBe("settled");
      }
      const [running, pending] = [job(6), job(7)];
      await queue.add(running);
      const [held] = await backend.claim(queue.name, 1);
      expect(held?.record.id).toBe(running.id);
      await queue.add(pending);
      const scheduled = job(8);
      await queue.schedule(scheduled, 3600);

      // Failed ones of one name, finished over an hour ago.
      expect(await queue.deleteAll({ status: "failed", name: job.name, before: 3600 })).toEqual({
        deleted: 1,
        skipped: 0,
      });
      expect(await queue.getTask(oldFailed)).toBeNull();
      expect((await queue.getTask(oldOther))?.status).toBe("failed");
      expect((await queue.getTask(newFailed))?.status).toBe("failed");
      // Everything finished: unfinished tasks stay, whatever their status.
      expect(await queue.deleteAll()).toEqual({ deleted: 4, skipped: 0 });
      const left = await queue.getTask([
        oldDone,
        oldDone2,
        oldOther,
        newFailed,
        running,
        pending,
        scheduled,
      ]);
      expect(left.map((t) => t?.status ?? null)).toEqual([
        null,
        null,
        null,
        null,
        "processing",
        "pending",
        "scheduled",
      ]);
      expect(await queue.deleteAll()).toEqual({ deleted: 0, skipped: 0 });
      const stats = await queue.stats();
      expect([stats.completed, stats.failed]).toEqual([0, 0]);
    });

    it("a task retried between the listing and its delete is skipped, never lost", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const tasks = [job(1), job(2), job(3)];
      await queue.add(tasks);
      for (const claim of await backend.claim(queue.name, 3)) {
        await settleClaim(backend, queue.name, claim, finishedRecord(claim.record, "failed"));
      }
      // Retried while the purge reads its page: the purge's backend retries the first one as
      // its listing answers.
      let retried = false;
      const racing = new Proxy(backend, {
        get(target, key, receiver) {
          if (key !== "listTasks") {
            const value = Reflect.get(target, key, receiver);
            // Bound to the backend itself: its methods read its private fields.
            return typeof value === "function" ? value.bind(target) : value;
          }
          return async (...args: Parameters<typeof backend.listTasks>) => {
            const page = await target.listTasks(...args);
            if (!retried) {
              retried = true;
              await queue.retry(tasks[0]!);
            }
            return page;
          };
        },
      });
      const handle: QueueHandle = {
        name: queue.name,
        clock: queue.clock,
        maxPayloadBytes: queue.maxPayloadBytes,
        connect: async () => racing,
        runInline: async () => {},
        interruptInline: () => {},
      };
      const outcome = await deleteAll(handle, { status: "failed" });
      expect(outcome).toEqual({ deleted: 2, skipped: 1 });
      expect((await queue.getTask(tasks[0]!))?.status).toBe("pending");
    });

    it("bad options are one clear error each, and nothing is deleted", async () => {
      const queue = h.queue();
      for (const [options, message] of [
        [{ status: "pending" }, /status/],
        [{ before: -5 }, /queue\.deleteAll\(\): before must be a Date/],
        [{ before: "yesterday" }, /queue\.deleteAll\(\)/],
        [{ bogus: 1 }, /unknown option 'bogus'/],
        [{ batchSize: 0 }, /batchSize must be an integer ≥ 1/],
      ] as const) {
        await expect(queue.deleteAll(options as never), JSON.stringify(options)).rejects.toThrow(
          InvalidOptionError,
        );
        await expect(queue.deleteAll(options as never)).rejects.toThrow(message);
      }
    });
  });
}
