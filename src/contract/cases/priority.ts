/**
 * Priorities: the claim takes the highest priority first, and tasks of one
 * priority in the order they became claimable — decided by the claim
 * itself, whatever path made a task claimable (added, due, retried).
 */

import { describe, expect, it } from "vitest";
import { InvalidOptionError, type TaskData, TaskDefinitionError, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { claimIds } from "../support/records.js";
import { PerTest, until } from "../support/until.js";

const item = task({ name: "priority.item" }, (n: number) => n);
const urgent = task({ name: "priority.urgent", priority: 7 }, (n: number) => n);
const at = (n: number, priority: number): TaskData => ({
  ...item(n).toJSON(),
  status: "pending",
  priority,
});

const order = new PerTest<number[]>(() => []);
const logged = task({ name: "priority.logged" }, (token: string, n: number) => {
  order.get(token).push(n);
  return n;
});

export function priorityCases(h: ContractHarness): void {
  describe("priorities", () => {
    it("PR-1 claims take the highest priority first, FIFO within one priority; getPending shows that order", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const records = [at(1, 0), at(2, 5), at(3, 0), at(4, 5), at(5, -1), at(6, 10), at(7, 0)];
      await backend.add(queue.name, records);
      const expected = [6, 2, 4, 1, 3, 7, 5].map((n) => records[n - 1]!.id);
      expect((await backend.getPending(queue.name, 10)).map((t) => t.id)).toEqual(expected);
      const claimed = [];
      for (let i = 0; i < 3; i++) claimed.push(...claimIds(await backend.claim(queue.name, 3)));
      expect(claimed).toEqual(expected);
    });

    it("PR-2 a task's priority comes from its definition, and queue.add / queue.schedule can override it", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const fromDefinition = urgent(1);
      expect(fromDefinition.priority).toBe(7);
      const plain = item(2);
      const overridden = item(3);
      await queue.add(plain);
      await queue.add(fromDefinition);
      await queue.add(overridden, { priority: 20 });
      expect((await queue.getTask(overridden))?.priority).toBe(20);
      expect((await queue.getTask(fromDefinition))?.priority).toBe(7);
      expect(claimIds(await backend.claim(queue.name, 3))).toEqual([
        overridden.id,
        fromDefinition.id,
        plain.id,
      ]);
      const later = item(4);
      await queue.schedule(later, 3600, { priority: -3 });
      expect((await queue.getTask(later))?.priority).toBe(-3);
    });

    it("PR-3 tasks that come due or are retried take their priority's place, not the back of one line", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const low = item(1);
      const high = item(2);
      const due = Date.now() + 60_000;
      await queue.schedule(low, new Date(due));
      await queue.schedule(high, new Date(due + 1000), { priority: 3 });
      await backend.add(queue.name, [at(3, 1)]);
      expect(await backend.promoteDue(queue.name, due + 2000)).toEqual([low.id, high.id]);
      const [first, second, third] = await backend.claim(queue.name, 3);
      expect([first, second, third].map((c) => c?.record.priority)).toEqual([3, 1, 0]);
      // A retry that is due at once goes back among the claimable by its priority.
      const middle = at(4, 2);
      await backend.add(queue.name, [middle]);
      const retried = { ...first!.record, status: "pending" as const, startedAt: null };
      await backend.settle(
        queue.name,
        [{ fence: first!.fence, record: retried, children: [], expiresAt: null }],
        Date.now(),
      );
      expect(claimIds(await backend.claim(queue.name, 2))).toEqual([high.id, middle.id]);
    });

    it("PR-4 a worker running one task at a time runs the waiting tasks by priority", async () => {
      const queue = h.queue();
      const token = crypto.randomUUID();
      await queue.add(logged(token, 1));
      await queue.add(logged(token, 2), { priority: 2 });
      await queue.add(logged(token, 3), { priority: 9 });
      await queue.add(logged(token, 4));
      const worker = h.worker(queue, { concurrency: 1, prefetch: 1 });
      const running = worker.work({ maxTasks: 4 });
      await until(() => order.get(token).length === 4, { what: "all four ran" });
      await running;
      expect(order.get(token)).toEqual([3, 2, 1, 4]);
    });

    it("PR-4 a worker's first claims weigh tasks that fell due before it started by their priority too", async () => {
      const queue = h.queue();
      // A worker has run before: its backend's connections are open, so nothing slows the first claim.
      await queue.add(logged(crypto.randomUUID(), 0));
      await h.worker(queue, { concurrency: 2 }).work({ oneshot: true });
      const token = crypto.randomUUID();
      await queue.add(logged(token, 1));
      await queue.schedule(logged(token, 2), new Date(Date.now() + 150), { priority: 5 });
      await queue.add(logged(token, 3), { priority: 1 });
      // Due now, and nothing has moved it among the claimable: the worker's scheduler will.
      await new Promise((resolve) => setTimeout(resolve, 400));
      const worker = h.worker(queue, { concurrency: 1, prefetch: 1 });
      await worker.work({ maxTasks: 3 });
      expect(order.get(token)).toEqual([2, 3, 1]);
    });

    it("PR-5 a priority that is not an integer in range is refused with a one-line error naming where", async () => {
      expect(() => task({ name: "priority.bad", priority: 1.5 }, () => 1)).toThrow(
        TaskDefinitionError,
      );
      expect(() => task({ name: "priority.bad2", priority: 2 ** 40 }, () => 1)).toThrow(
        /task 'priority.bad2': priority must be an integer from -2147483648 to 2147483647/,
      );
      const queue = h.queue();
      for (const priority of [Number.NaN, "1", 0.5, -(2 ** 31) - 1]) {
        const error = await queue
          .add(item(1), { priority: priority as number })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as Error).message).toMatch(/^queue\.add\(\): priority must be an integer/);
        expect((error as Error).message).not.toContain("\n");
      }
      // Text that looks like a number is quoted, so the message does not read as if 5 were refused.
      await expect(queue.add(item(1), { priority: "5" as never })).rejects.toThrow(
        /\(higher runs first; got "5"\)$/,
      );
      expect(await queue.size()).toBe(0);
    });

    it("PR-6 queue.retry() re-runs a task at the priority it is given; unknown options are refused", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const low = item(1);
      await queue.add(low);
      const [claim] = await backend.claim(queue.name, 1);
      const failed = {
        ...claim!.record,
        status: "failed" as const,
        finishedAt: new Date().toISOString(),
      };
      await backend.settle(
        queue.name,
        [{ fence: claim!.fence, record: failed, children: [], expiresAt: null }],
        Date.now(),
      );
      const other = item(2);
      await queue.add(other, { priority: 5 });
      const bad = await queue
        .retry(low, { priority: 9, prio: 1 } as never)
        .catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(InvalidOptionError);
      expect((bad as Error).message).toBe(
        "queue.retry(): unknown option 'prio' (valid options: at, force, priority)",
      );
      await expect(queue.retry(low, { priority: 0.5 })).rejects.toThrow(
        /^queue\.retry\(\): priority must be an integer/,
      );
      expect((await queue.getTask(low))?.status).toBe("failed");
      expect(await queue.retry(low, { priority: 9 })).toBe(true);
      expect((await queue.getTask(low))?.priority).toBe(9);
      expect(claimIds(await backend.claim(queue.name, 2))).toEqual([low.id, other.id]);
    });
  });
}
