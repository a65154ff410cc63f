/**
 * A worker draining a backlog of tasks that never wait for I/O still lets
 * the event loop turn: timers fire and `close()` takes effect while tasks
 * remain, on every backend (on some, every backend call finishes without
 * waiting for I/O).
 */

import { describe, expect, it } from "vitest";
import { task } from "../../index.js";
import type { ContractHarness } from "../harness.js";

const quick = task({ name: "worker-turns.quick" }, async (n: number) => n);

const BACKLOG = 20_000;

export function workerTurnsCases(h: ContractHarness): void {
  describe("a worker draining a backlog", () => {
    it("WK-T lets timers fire and a close() take effect while tasks remain; none is lost", async () => {
      const queue = h.queue();
      const tasks = Array.from({ length: BACKLOG }, (_, i) => quick(i));
      for (let i = 0; i < tasks.length; i += 5000) await queue.add(tasks.slice(i, i + 5000));
      const worker = h.worker(queue, { concurrency: 100 });
      let completed = 0;
      worker.on("task:completed", () => {
        completed++;
      });
      const running = worker.work();
      // Once the drain is under way, a short timer must fire before the queue runs dry.
      while (completed === 0) await new Promise((resolve) => setImmediate(resolve));
      const atTimer = await new Promise<number>((resolve) =>
        setTimeout(() => resolve(completed), 5),
      );
      expect(atTimer).toBeLessThan(BACKLOG);
      await worker.close();
      const summary = await running;
      expect(summary.processed).toBeLessThan(BACKLOG);
      const stats = await queue.stats();
      expect(stats.completed + stats.pending).toBe(BACKLOG);
      expect(stats.processing).toBe(0);
    });
  });
}
