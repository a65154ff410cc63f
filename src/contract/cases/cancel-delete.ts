/**
 * Cancelling tasks that have not started and deleting finished records.
 * `queue.cancel` returns the cancelled Task or throws `TaskCancellationError`;
 * `queue.delete` returns true/false and throws `TaskStateError` for an
 * unfinished task.
 */

import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import {
  InvalidTaskError,
  TaskCancellationError,
  TaskStateError,
  task,
  WaitTimeoutError,
} from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { retryingRecord, settleClaim } from "../support/records.js";

/** Ids of every task that actually ran. */
const ran = new Set<string>();
const record = task({ name: "cancel-delete.record" }, (label: string) => {
  ran.add(label);
  return label;
});
const add = task({ name: "cancel-delete.add" }, (a: number, b: number) => a + b);
const boom = task({ name: "cancel-delete.boom" }, () => {
  throw new Error("boom");
});

/** Gates a running task until the test opens it. */
const gates = new Map<string, () => void>();
const opened = new Map<string, Promise<void>>();
function gate(key: string): () => void {
  const promise = new Promise<void>((resolve) => gates.set(key, resolve));
  opened.set(key, promise);
  return () => gates.get(key)?.();
}
const gated = task({ name: "cancel-delete.gated" }, async (key: string) => {
  await opened.get(key);
  return key;
});

const UNKNOWN = "00000000-0000-0000-0000-000000000000";

export function cancelDeleteCases(h: ContractHarness): void {
  describe("cancel and delete", () => {
    const drain = (queue: ReturnType<ContractHarness["queue"]>) =>
      h.worker(queue).work({ oneshot: true });

    it("C-1 cancelling a pending task returns its cancelled record and takes it out of the queue", async () => {
      const queue = h.queue();
      const [t, other] = [add(1, 2), add(3, 4)];
      await queue.add([t, other]);
      expect(await queue.size()).toBe(2);
      const cancelled = await queue.cancel(t);
      expect(cancelled.id).toBe(t.id);
      expect(cancelled.status).toBe("cancelled");
      expect(cancelled.finishedAt).toBeInstanceOf(Date);
      expect(cancelled.result).toBeNull();
      expect(await queue.size()).toBe(1);
      expect((await queue.getPending(10)).map((p) => p.id)).toEqual([other.id]);
      expect(t.status).toBe("new");
    });

    it("C-1 cancel accepts an id; a value that is not a task or id is a clear error", async () => {
      const queue = h.queue();
      const t = add(1, 1);
      await queue.add(t);
      expect((await queue.cancel(t.id)).status).toBe("cancelled");
      await expect(queue.cancel(null as never)).rejects.toThrow(InvalidTaskError);
      await expect(queue.delete(5 as never)).rejects.toThrow(InvalidTaskError);
    });

    it("C-2 the cancelled record is kept: getTask returns it cancelled with no result", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      const cancelled = await queue.cancel(t);
      const stored = await queue.getTask(t);
      expect(stored?.status).toBe("cancelled");
      expect(stored?.result).toBeNull();
      expect(stored?.toJSON()).toEqual(cancelled.toJSON());
      expect((await queue.stats()).cancelled).toBe(1);
    });

    it("C-3 a cancelled task never runs", async () => {
      const queue = h.queue();
      const label = randomUUID();
      const t = record(label);
      await queue.add(t);
      await queue.cancel(t);
      const summary = await drain(queue);
      expect(summary.processed + summary.failed).toBe(0);
      expect(ran.has(label)).toBe(false);
      const stored = await queue.getTask(t);
      expect(stored?.status).toBe("cancelled");
      expect(stored?.result).toBeNull();
    });

    it("C-4 cancelling a scheduled task removes it from the schedule", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.schedule(t, 60);
      expect(await queue.getScheduled()).toHaveLength(1);
      const cancelled = await queue.cancel(t);
      expect(cancelled.status).toBe("cancelled");
      expect(cancelled.finishedAt).toBeInstanceOf(Date);
      expect(await queue.getScheduled()).toEqual([]);
      expect(await queue.size()).toBe(0);
      expect(await (await queue.connect()).promoteDue(queue.name, Date.now() + 3_600_000)).toEqual(
        [],
      );
    });

    it("C-4 a task waiting for a retry can be cancelled", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      const backend = await queue.connect();
      const [claimed] = await backend.claim(queue.name, 1);
      await settleClaim(
        backend,
        queue.name,
        claimed!,
        retryingRecord(claimed!.record, Date.now() + 60_000),
      );
      expect((await queue.cancel(t)).status).toBe("cancelled");
      expect(await queue.getScheduled()).toEqual([]);
    });

    it("C-5 cancelling a task a worker has claimed throws TaskCancellationError and changes nothing", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      const backend = await queue.connect();
      await backend.claim(queue.name, 1);
      await expect(queue.cancel(t)).rejects.toThrow(TaskCancellationError);
      await expect(queue.cancel(t)).rejects.toThrow(/running/);
      await expect(queue.cancel(t)).rejects.toMatchObject({
        reason: "running",
        id: t.id,
        status: "processing",
      });
      expect((await queue.getTask(t))?.status).toBe("processing");
    });

    it("C-5 cancelling a task while it runs throws; the task still completes", async () => {
      const queue = h.queue();
      const key = randomUUID();
      const open = gate(key);
      const t = gated(key);
      await queue.add(t);
      const worker = h.worker(queue);
      const started = once(worker, "task:started");
      const running = worker.work({ oneshot: true });
      await started;
      await expect(queue.cancel(t)).rejects.toThrow(TaskCancellationError);
      open();
      await running;
      const done = await queue.waitFor(t, { timeout: 5 });
      expect(done.status).toBe("completed");
      expect(done.result).toBe(key);
    });

    it("C-6 cancelling a completed task, cancelling twice or an unknown id throws TaskCancellationError", async () => {
      const queue = h.queue();
      const [done, twice] = [add(1, 2), add(2, 3)];
      await queue.add(done);
      await drain(queue);
      await expect(queue.cancel(done)).rejects.toThrow(TaskCancellationError);
      await expect(queue.cancel(done)).rejects.toThrow(/already finished/);
      await expect(queue.cancel(done)).rejects.toMatchObject({
        reason: "finished",
        status: "completed",
      });
      expect((await queue.getTask(done))?.status).toBe("completed");

      await queue.add(twice);
      await queue.cancel(twice);
      await expect(queue.cancel(twice)).rejects.toThrow(TaskCancellationError);

      await expect(queue.cancel(UNKNOWN)).rejects.toThrow(TaskCancellationError);
      await expect(queue.cancel(UNKNOWN)).rejects.toThrow(/no such task/);
      await expect(queue.cancel(UNKNOWN)).rejects.toMatchObject({
        reason: "not-found",
        id: UNKNOWN,
        status: null,
      });
    });

    it("C-7 a task cancelled before any worker claims it is never handed to a worker", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      await queue.cancel(t);
      const backend = await queue.connect();
      expect(await backend.claim(queue.name, 5)).toEqual([]);
      expect(await backend.getPending(queue.name, 5)).toEqual([]);
      expect((await queue.getTask(t))?.status).toBe("cancelled");
    });

    it("C-8 a concurrent cancel and claim: exactly one wins, whichever is called first", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const cancel = (id: string) =>
        backend.cancel(queue.name, id, { at: Date.now(), expiresAt: null });
      const tasks = Array.from({ length: 10 }, (_, i) => add(i, i));
      for (const [i, t] of tasks.entries()) {
        await queue.add(t);
        const [cancelled, claimed] =
          i % 2 === 0
            ? await Promise.all([cancel(t.id), backend.claim(queue.name, 1)])
            : await Promise.all([backend.claim(queue.name, 1), cancel(t.id)]).then(
                ([c, x]) => [x, c] as const,
              );
        const winners = (cancelled ? 1 : 0) + claimed.length;
        expect(winners).toBe(1);
        const stored = (await backend.getTasks(queue.name, [t.id])).get(t.id);
        expect(stored?.status).toBe(cancelled ? "cancelled" : "processing");
        // Release a claim so the next round starts from an empty queue.
        if (claimed.length > 0) await settleClaim(backend, queue.name, claimed[0]!);
      }
      expect(await queue.size()).toBe(0);
    });

    it("C-8 of two concurrent cancels exactly one succeeds", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      const outcomes = await Promise.allSettled([queue.cancel(t), queue.cancel(t)]);
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      const rejected = outcomes.filter((o) => o.status === "rejected");
      expect(rejected).toHaveLength(1);
      expect((rejected[0] as PromiseRejectedResult).reason).toBeInstanceOf(TaskCancellationError);
      const backend = await queue.connect();
      const cancellation = { at: Date.now(), expiresAt: null };
      const direct = await Promise.all([
        backend.cancel(queue.name, t.id, cancellation),
        backend.cancel(queue.name, t.id, cancellation),
      ]);
      expect(direct).toEqual([null, null]);
    });

    it("C-9 deleting a finished task (cancelled, completed, failed) returns true, then false", async () => {
      const queue = h.queue();
      const [cancelled, completed, failed] = [add(1, 1), add(2, 2), boom()];
      await queue.add([completed, failed]);
      await drain(queue);
      await queue.add(cancelled);
      await queue.cancel(cancelled);
      expect((await queue.getTask(failed))?.status).toBe("failed");
      for (const t of [cancelled, completed, failed]) {
        expect(await queue.delete(t)).toBe(true);
        expect(await queue.getTask(t)).toBeNull();
        expect(await queue.delete(t)).toBe(false);
      }
      expect(await queue.getAllTasks()).toEqual([]);
      const stats = await queue.stats();
      expect([stats.completed, stats.failed, stats.cancelled]).toEqual([0, 0, 0]);
    });

    it("C-9 delete accepts an id; a deleted task can no longer be waited for", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      await drain(queue);
      expect(await queue.delete(t.id)).toBe(true);
      await expect(queue.waitFor(t, { timeout: 0 })).rejects.toThrow(WaitTimeoutError);
    });

    it("an id holding NUL is refused as bad input by every lookup, the same on every backend", async () => {
      const queue = h.queue();
      const id = "a\u0000b";
      const calls: [string, () => Promise<unknown>][] = [
        ["getTask", () => queue.getTask(id)],
        ["cancel", () => queue.cancel(id)],
        ["delete", () => queue.delete(id)],
        ["retry", () => queue.retry(id)],
        ["waitFor", () => queue.waitFor(id, { timeout: 0 })],
        ["getWorkflow", () => queue.getWorkflow(id)],
        ["cancelWorkflow", () => queue.cancelWorkflow(id)],
      ];
      for (const [name, call] of calls) {
        const error = await call().then(
          () => new Error(`${name} answered`),
          (e: Error) => e,
        );
        expect(error, name).toBeInstanceOf(InvalidTaskError);
        expect(error.message, name).toContain("never holds the NUL character");
      }
    });

    it("C-10 deleting an unknown id returns false", async () => {
      const queue = h.queue();
      expect(await queue.delete(UNKNOWN)).toBe(false);
      // A finished task of another queue is unknown here, and stays where it is.
      const other = h.queue();
      const t = add(1, 2);
      await other.add(t);
      await drain(other);
      expect(await queue.delete(t)).toBe(false);
      expect((await other.getTask(t))?.status).toBe("completed");
    });

    it("C-11 deleting an unfinished task (pending, scheduled, claimed) throws TaskStateError: cancel it first, or wait for a running one", async () => {
      const queue = h.queue();
      const [pending, scheduled, claimed] = [add(1, 1), add(2, 2), add(3, 3)];
      await queue.add(claimed);
      const backend = await queue.connect();
      await backend.claim(queue.name, 1);
      await queue.add(pending);
      await queue.schedule(scheduled, 60);
      for (const t of [pending, scheduled]) {
        await expect(queue.delete(t)).rejects.toThrow(TaskStateError);
        await expect(queue.delete(t)).rejects.toThrow(/cancel it first/);
        await expect(queue.delete(t)).rejects.toMatchObject({ reason: "waiting", id: t.id });
      }
      // A running task is cancelled only when forced: the message says so.
      await expect(queue.delete(claimed)).rejects.toThrow(TaskStateError);
      await expect(queue.delete(claimed)).rejects.toThrow(
        /while it is processing: wait until it finishes, or cancel it with \{ force: true \} first$/,
      );
      await expect(queue.delete(claimed)).rejects.toMatchObject({
        reason: "running",
        status: "processing",
      });
      expect((await queue.getTask(pending))?.status).toBe("pending");
      expect((await queue.getTask(scheduled))?.status).toBe("scheduled");
      expect((await queue.getTask(claimed))?.status).toBe("processing");
      expect(await queue.size()).toBe(1);
      expect(await queue.getScheduled()).toHaveLength(1);
      await queue.cancel(pending);
      expect(await queue.delete(pending)).toBe(true);
    });
  });
}
