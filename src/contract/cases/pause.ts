/**
 * Pausing a queue: claims stop for every worker on the storage, from the
 * next claim on; running tasks finish; adds, due times and reads go on; a
 * resume wakes waiting workers.
 */

import { describe, expect, it } from "vitest";
import { type TaskData, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { claimIds, ids } from "../support/records.js";
import { gate, PerTest, sleep, until } from "../support/until.js";

const item = task({ name: "pause.item" }, (n: number) => n);
const data = (n: number): TaskData => ({ ...item(n).toJSON(), status: "pending" });

const holds = new PerTest(() => ({ started: [] as number[], release: gate() }));
const held = task({ name: "pause.held" }, async (token: string, n: number) => {
  const state = holds.get(token);
  state.started.push(n);
  await state.release.opened;
  return n;
});

export function pauseCases(h: ContractHarness): void {
  describe("pausing a queue", () => {
    it("P-1 a paused queue claims nothing; adds and reads go on; a resume hands out its tasks in FIFO order", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const before = [data(1), data(2)];
      await backend.add(queue.name, before);
      expect(await queue.isPaused()).toBe(false);
      await queue.pause();
      expect(await queue.isPaused()).toBe(true);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      const after = data(3);
      expect(await backend.add(queue.name, [after])).toEqual([true]);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      expect(await queue.size()).toBe(3);
      expect((await backend.getPending(queue.name, 10)).map((t) => t.id)).toEqual(
        ids([...before, after]),
      );
      await queue.resume();
      expect(await queue.isPaused()).toBe(false);
      expect(claimIds(await backend.claim(queue.name, 10))).toEqual(ids([...before, after]));
    });

    it("P-2 pause and resume are idempotent, touch only their own queue, and outlive clear", async () => {
      const queue = h.queue();
      const other = h.queue();
      const backend = await queue.connect();
      await queue.pause();
      await queue.pause();
      expect(await queue.isPaused()).toBe(true);
      expect(await other.isPaused()).toBe(false);
      await backend.add(other.name, [data(1)]);
      expect(await backend.claim(other.name, 1)).toHaveLength(1);
      await backend.add(queue.name, [data(2)]);
      await queue.clear();
      expect(await queue.isPaused()).toBe(true);
      await queue.resume();
      await queue.resume();
      expect(await queue.isPaused()).toBe(false);
    });

    it("P-3 a pause by one backend instance stops claims on another at once (another process, on shared storage)", async () => {
      const queue = h.queue();
      const other = h.sibling(queue);
      const backend = await queue.connect();
      await backend.add(queue.name, [data(1)]);
      await other.pause();
      expect(await queue.isPaused()).toBe(true);
      expect(await backend.claim(queue.name, 5)).toEqual([]);
      await other.resume();
      expect(await backend.claim(queue.name, 5)).toHaveLength(1);
    });

    it("P-4 a claim waiting on a paused queue keeps waiting through adds, and a resume wakes it", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await queue.pause();
      let answer: unknown;
      const waiting = backend.claim(queue.name, 5, 10_000).then((claimed) => {
        answer = claimed;
        return claimed;
      });
      const record = data(1);
      await backend.add(queue.name, [record]);
      await sleep(300);
      expect(answer).toBeUndefined();
      await queue.resume();
      expect(claimIds(await waiting)).toEqual([record.id]);
    });

    it("P-5 a paused worker finishes what it runs and starts nothing new until the queue resumes", async () => {
      const queue = h.queue();
      const token = crypto.randomUUID();
      const state = holds.get(token);
      const worker = h.worker(queue, { concurrency: 1 });
      const running = worker.work();
      const tasks = [held(token, 1), held(token, 2), held(token, 3)];
      await queue.add(tasks);
      await until(() => state.started.length === 1, { what: "the first task started" });
      await queue.pause();
      state.release.open();
      const first = await queue.waitFor(tasks[0]!, { timeout: 10 });
      expect(first.status).toBe("completed");
      await sleep(400);
      expect(state.started).toEqual([1]);
      expect((await queue.stats()).pending).toBe(2);
      await queue.resume();
      const done = await queue.waitFor(tasks, { timeout: 10 });
      expect(done.map((t) => t.status)).toEqual(["completed", "completed", "completed"]);
      expect(state.started).toEqual([1, 2, 3]);
      await worker.close();
      await running;
    });

    it("P-8 a worker serving several queues with one slot: an empty queue and a paused one never keep the busy queue's tasks waiting", async () => {
      const [empty, paused, busy] = [h.queue(), h.queue(), h.queue()];
      await paused.add(item(0));
      await paused.pause();
      // Idle claims wait this long for work: a loop that waited holding the only slot would hold
      // each of the busy queue's tasks back by up to that much.
      const worker = h.worker([empty, paused, busy], { concurrency: 1, claimWait: 5 });
      const running = worker.work();
      await sleep(200);
      for (let n = 1; n <= 5; n++) {
        const t = item(n);
        const addedAt = Date.now();
        await busy.add(t);
        expect((await busy.waitFor(t, { timeout: 20 })).result).toBe(n);
        expect(Date.now() - addedAt, `task ${n}: add to completion`).toBeLessThan(2000);
      }
      expect((await paused.stats()).pending).toBe(1);
      await worker.close();
      await running;
    });

    it("P-9 a worker over many idle queues with fewer maxTasks claims left than queues starts a task added to any of them at once", async () => {
      const queues = Array.from({ length: 8 }, () => h.queue());
      // Idle claims wait this long: a loop that waited holding a claim of maxTasks would leave
      // the other queues' loops waiting for one, a claim wait each.
      const worker = h.worker(queues, { concurrency: 4, claimWait: 5 });
      const running = worker.work({ maxTasks: 2 });
      await sleep(200);
      for (const [n, queue] of [queues[6]!, queues[3]!].entries()) {
        const t = item(n);
        const addedAt = Date.now();
        await queue.add(t);
        expect((await queue.waitFor(t, { timeout: 20 })).result).toBe(n);
        expect(Date.now() - addedAt, `task ${n}: add to completion`).toBeLessThan(2000);
      }
      const lastDone = Date.now();
      expect((await running).processed).toBe(2);
      // With maxTasks spent, the other queues' idle waits end: the run does not sit out a
      // claim wait (5 s) before it returns.
      expect(Date.now() - lastDone, "last task done to work() returning").toBeLessThan(2500);
    });

    it("P-6 a scheduled task comes due while the queue is paused: it waits, keeps its time, and runs after the resume", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const scheduledAt = new Date(Date.now() + 60_000);
      const t = item(7);
      await queue.schedule(t, scheduledAt);
      await queue.pause();
      expect(await backend.promoteDue(queue.name, scheduledAt.getTime() + 1)).toEqual([t.id]);
      expect(await backend.claim(queue.name, 5)).toEqual([]);
      const waiting = await queue.getTask(t);
      expect(waiting?.status).toBe("pending");
      expect(waiting?.scheduledAt).toEqual(scheduledAt);
      await queue.resume();
      const [claim] = await backend.claim(queue.name, 5);
      expect(claim?.record.id).toBe(t.id);
      expect(claim?.record.scheduledAt).toBe(scheduledAt.toISOString());
    });

    it("P-7 listPaused names every paused queue, sorted, even one that holds nothing; a resume takes it off", async () => {
      const empty = h.queue();
      const holding = h.queue();
      const running = h.queue();
      const backend = await empty.connect();
      await backend.add(holding.name, [data(1)]);
      await backend.add(running.name, [data(2)]);
      await holding.pause();
      await empty.pause();
      const mine = (names: string[]) =>
        names.filter((name) => [empty.name, holding.name, running.name].includes(name));
      const paused = await backend.listPaused();
      expect(mine(paused)).toEqual([empty.name, holding.name].sort());
      expect(paused).toEqual([...paused].sort());
      // Another instance on the same storage sees the same list.
      const sibling = await h.sibling(empty).connect();
      expect(mine(await sibling.listPaused())).toEqual([empty.name, holding.name].sort());
      await empty.resume();
      expect(mine(await backend.listPaused())).toEqual([holding.name]);
    });
  });
}
