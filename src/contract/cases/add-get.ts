/**
 * Enqueueing and reading back: idempotent add, bulk add, FIFO order, getTask
 * forms, queue scoping.
 */

import { describe, expect, it } from "vitest";
import { InvalidTaskError, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";

const add = task({ name: "add-get.add" }, (a: number, b: number) => a + b);

export function addGetCases(h: ContractHarness): void {
  describe("add and get", () => {
    it("Q-7 add returns true and the task becomes pending", async () => {
      const queue = h.queue();
      expect(await queue.add(add(1, 2))).toBe(true);
      expect(await queue.size()).toBe(1);
      const [pending] = await queue.getPending(1);
      expect(pending?.status).toBe("pending");
    });

    it("Q-8 adding an id the queue holds returns false and changes nothing (idempotent add)", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      expect(await queue.add(t)).toBe(true);
      expect(await queue.add(t)).toBe(false);
      expect(await queue.add([t])).toEqual([false]);
      expect(await queue.size()).toBe(1);
    });

    it("Q-9 bulk add returns one boolean per task, in order", async () => {
      const queue = h.queue();
      const [t1, t2, t3] = [add(1, 1), add(2, 2), add(3, 3)];
      expect(await queue.add([t1, t2])).toEqual([true, true]);
      expect(await queue.add([t2, t2])).toEqual([false, false]);
      expect(await queue.add([t3, t1])).toEqual([true, false]);
      const fresh = add(4, 4);
      expect(await queue.add([fresh, fresh])).toEqual([true, false]);
      expect(await queue.size()).toBe(4);
    });

    it("Q-10 add([]) returns [] and enqueues nothing", async () => {
      const queue = h.queue();
      expect(await queue.add([])).toEqual([]);
      expect(await queue.size()).toBe(0);
    });

    it("Q-11 adding something that is not a task throws and enqueues nothing", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      for (const bad of [null, add, () => 1, 5, [t, null, add(2, 3)], ["x"]]) {
        await expect(queue.add(bad as never)).rejects.toThrow(InvalidTaskError);
      }
      expect(await queue.size()).toBe(0);
    });

    it("Q-12 / T-19 the stored record is the task with status pending; the caller's object is untouched", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      const stored = await queue.getTask(t);
      expect(stored?.toJSON()).toEqual({ ...t.toJSON(), status: "pending" });
      expect(t.status).toBe("new");
    });

    it("Q-13 getTask by task or id; null when unknown", async () => {
      const queue = h.queue();
      const t = add(1, 2);
      await queue.add(t);
      expect((await queue.getTask(t))?.id).toBe(t.id);
      expect((await queue.getTask(t.id))?.id).toBe(t.id);
      expect(await queue.getTask("00000000-0000-0000-0000-000000000000")).toBeNull();
    });

    it("Q-14 / Q-15 getTask with a list returns one entry per item, in order, null for unknown", async () => {
      const queue = h.queue();
      const [t1, t2] = [add(1, 1), add(2, 2)];
      await queue.add([t1, t2]);
      const found = await queue.getTask([t1, t2.id, "missing", t1]);
      expect(found.map((t) => t?.id ?? null)).toEqual([t1.id, t2.id, null, t1.id]);
      expect(await queue.getTask([])).toEqual([]);
    });

    it("Q-16 getTask(null) is a clear error", async () => {
      const queue = h.queue();
      await expect(queue.getTask(null as never)).rejects.toThrow(InvalidTaskError);
    });

    it("Q-17 tasks are scoped to their queue", async () => {
      const first = h.queue();
      const second = h.queue();
      const t = add(1, 2);
      await first.add(t);
      expect(await second.getTask(t)).toBeNull();
      expect(await second.size()).toBe(0);
      expect(await second.add(t)).toBe(true);
    });

    it("Q-20 / Q-22 getPending lists the first n in FIFO order without claiming; bad counts are errors", async () => {
      const queue = h.queue();
      const tasks = [add(1, 0), add(2, 0), add(3, 0)];
      await queue.add(tasks);
      expect((await queue.getPending(2)).map((t) => t.id)).toEqual([tasks[0]!.id, tasks[1]!.id]);
      expect((await queue.getPending(50)).map((t) => t.id)).toEqual(tasks.map((t) => t.id));
      expect(await queue.size()).toBe(3);
      await expect(queue.getPending(0)).rejects.toThrow(/integer ≥ 1/);
      await expect(queue.getPending(-1)).rejects.toThrow(/integer ≥ 1/);
      expect(await h.queue().getPending(5)).toEqual([]);
    });

    it("B-6 / Q-25 claims are FIFO in batches; a claimed record equals the added one but for status and startedAt", async () => {
      const queue = h.queue();
      const tasks = Array.from({ length: 5 }, (_, i) => add(i, i));
      await queue.add(tasks);
      const backend = await queue.connect();
      const batches = [
        await backend.claim(queue.name, 1),
        await backend.claim(queue.name, 3),
        await backend.claim(queue.name, 3),
      ];
      expect(batches.map((b) => b.map((t) => t.record.id))).toEqual([
        [tasks[0]!.id],
        [tasks[1]!.id, tasks[2]!.id, tasks[3]!.id],
        [tasks[4]!.id],
      ]);
      const first = batches[0]![0]!.record;
      expect(first.status).toBe("processing");
      expect(first.startedAt).not.toBeNull();
      expect({ ...first, status: "pending", startedAt: null }).toEqual({
        ...tasks[0]!.toJSON(),
        status: "pending",
      });
      expect(await backend.claim(queue.name, 2)).toEqual([]);
      expect(await queue.size()).toBe(0);
    });

    it("Q-33 a batch of 1000 tasks is added in one call", async () => {
      const queue = h.queue();
      const tasks = Array.from({ length: 1000 }, (_, i) => add(i, 1));
      const added = await queue.add(tasks);
      expect(added.every(Boolean)).toBe(true);
      expect(await queue.size()).toBe(1000);
    });

    it("Q-30 getAllTasks returns every record of the queue; iterateTasks pages through them", async () => {
      const queue = h.queue();
      expect(await queue.getAllTasks()).toEqual([]);
      const tasks = Array.from({ length: 7 }, (_, i) => add(i, 0));
      await queue.add(tasks);
      const all = await queue.getAllTasks();
      expect(new Set(all.map((t) => t.id))).toEqual(new Set(tasks.map((t) => t.id)));
      const paged: string[] = [];
      for await (const t of queue.iterateTasks(3)) paged.push(t.id);
      expect(paged.sort()).toEqual(tasks.map((t) => t.id).sort());
    });
  });
}
