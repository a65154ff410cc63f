/**
 * Chaining: a task that returns a Task (or Task[]) completes, and those tasks
 * are added to its queue as pending — not run as part of the parent. The
 * parent's result reads back as the Task(s).
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Backend } from "../../backends/backend.js";
import { BackendUnavailableError, Task, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { PerTest, sleep } from "../support/until.js";

const triple = task({ name: "chaining.triple" }, (x: number) => x * 3);
const tripleAsync = task({ name: "chaining.tripleAsync" }, async (x: number) => {
  await sleep(1);
  return x * 3;
});
const double = task({ name: "chaining.double" }, (x: number) => x * 2);

const chainOne = task({ name: "chaining.chainOne" }, (x: number) => triple(x));
const chainOneAsync = task({ name: "chaining.chainOneAsync" }, async (x: number) => {
  await sleep(1);
  return triple(x);
});
const chainToAsync = task({ name: "chaining.chainToAsync" }, (x: number) => tripleAsync(x));
const chainTwo = task({ name: "chaining.chainTwo" }, (x: number) => [triple(x), double(x)]);
const chainNone = task({ name: "chaining.chainNone" }, (): Task[] => []);
const chainSameTwice = task({ name: "chaining.chainSameTwice" }, (x: number) => {
  const child = triple(x);
  return [child, double(x), child];
});
// Refused at compile time (a task inside a plain result is stored, not chained); this checks what
// happens for a caller the compiler does not see.
// @ts-expect-error a list mixing tasks and other values is not a chain
const chainMixed = task({ name: "chaining.chainMixed" }, (x: number) => [triple(x), 5]);

/** Children a failing parent created before it threw, keyed by a test token. */
const created = new PerTest<string[]>(() => []);
const chainThenFail = task({ name: "chaining.chainThenFail" }, (token: string): Task => {
  const child = triple(1);
  created.get(token).push(child.id);
  throw new Error("parent failed after creating a child");
});

/** Records every settlement sent to `backend`: the task id, its status and the ids of the tasks it chained. */
function spySettles(backend: Backend): { id: string; status: string; children: string[] }[] {
  const log: { id: string; status: string; children: string[] }[] = [];
  const settle = backend.settle.bind(backend);
  backend.settle = (queue, settlements, now) => {
    for (const s of settlements)
      log.push({ id: s.record.id, status: s.record.status, children: s.children.map((c) => c.id) });
    return settle(queue, settlements, now);
  };
  return log;
}

/**
 * Makes the first settle of `parentId` on `backend` fail the way a dropped
 * connection does: `mode` "reply" writes it and loses the answer; "request"
 * loses the call before anything is written. The worker must send it again.
 */
function dropFirstSettle(backend: Backend, parentId: string, mode: "reply" | "request"): void {
  const settle = backend.settle.bind(backend);
  let dropped = false;
  backend.settle = async (queue, settlements, now) => {
    if (dropped || !settlements.some((s) => s.record.id === parentId))
      return settle(queue, settlements, now);
    dropped = true;
    if (mode === "reply") await settle(queue, settlements, now);
    throw new BackendUnavailableError(`the settle ${mode} was lost (test)`);
  };
}

export function chainingCases(h: ContractHarness): void {
  describe("chaining", () => {
    it("CH-1 / CH-3 a task returning a Task completes; the child is added as pending, not run, and the parent's result reads back as the Task", async () => {
      const queue = h.queue();
      const parent = chainOne(3);
      await queue.add(parent);
      const worker = h.worker(queue);
      expect(await worker.work({ maxTasks: 1 })).toMatchObject({ processed: 1 });
      const done = (await queue.getTask(parent))!;
      expect(done.status).toBe("completed");
      const child = done.result;
      expect(child).toBeInstanceOf(Task);
      expect(child?.name).toBe("chaining.triple");
      expect(child?.args).toEqual([3]);
      expect(child?.status).toBe("new");
      expect(await queue.size()).toBe(1);
      const pending = (await queue.getTask(child!.id))!;
      expect(pending.status).toBe("pending");
      expect(pending.result).toBeNull();
      await worker.work({ oneshot: true });
      const ran = (await queue.getTask(child!.id))!;
      expect([ran.status, ran.result]).toEqual(["completed", 9]);
      // Reading the parent again still yields the child as created.
      expect((await queue.getTask(parent))?.result?.id).toBe(child!.id);
    });

    it("CH-2 / CH-3 tasks returning lists add every task; each parent's result is the list of Tasks", async () => {
      const queue = h.queue();
      const parents = [chainTwo(3), chainTwo(4)];
      await queue.add(parents);
      const worker = h.worker(queue);
      await worker.work({ maxTasks: 2 });
      expect(await queue.size()).toBe(4);
      const stored = await queue.getTask(parents);
      const children = stored.map((p) => p!.result as Task[]);
      for (const list of children) {
        expect(list).toHaveLength(2);
        for (const child of list) {
          expect(child).toBeInstanceOf(Task);
          expect((await queue.getTask(child.id))?.status).toBe("pending");
        }
      }
      await worker.work({ oneshot: true });
      const results = await queue.getTask(children.flat().map((c) => c.id));
      expect(results.map((r) => r?.result)).toEqual([9, 6, 12, 8]);
    });

    it("CH-2 a task returned twice in one list is one child (as adding it twice adds it once); the result names it at both places", async () => {
      const queue = h.queue();
      const parent = chainSameTwice(5);
      await queue.add(parent);
      const worker = h.worker(queue);
      await worker.work({ maxTasks: 1 });
      expect(await queue.size()).toBe(2);
      const list = (await queue.getTask(parent))!.result as Task[];
      expect(list).toHaveLength(3);
      expect(list[2]!.id).toBe(list[0]!.id);
      expect(list[1]!.id).not.toBe(list[0]!.id);
      await worker.work({ oneshot: true });
      const results = await queue.getTask(list.map((child) => child.id));
      expect(results.map((r) => [r?.status, r?.result])).toEqual([
        ["completed", 15],
        ["completed", 10],
        ["completed", 15],
      ]);
      expect(await queue.size()).toBe(0);
    });

    it("CH-4 sync and async parents and children chain in any mix", async () => {
      const queue = h.queue();
      const parents = [chainOne(1), chainOneAsync(2), chainToAsync(3)];
      await queue.add(parents);
      await h.worker(queue).work({ oneshot: true });
      const stored = await queue.getTask(parents);
      const childIds = stored.map((p) => (p!.result as Task).id);
      const children = await queue.getTask(childIds);
      expect(children.map((c) => [c?.status, c?.result])).toEqual([
        ["completed", 3],
        ["completed", 6],
        ["completed", 9],
      ]);
    });

    it("CH-5 no chaining when the parent fails", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const parent = chainThenFail(token);
      await queue.add(parent);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 0, failed: 1 });
      const failed = (await queue.getTask(parent))!;
      expect(failed.status).toBe("failed");
      expect(failed.result).toBeNull();
      const [childId] = created.get(token);
      expect(childId).toBeDefined();
      expect(await queue.getTask(childId!)).toBeNull();
      expect(await queue.size()).toBe(0);
      expect(await queue.getAllTasks()).toHaveLength(1);
    });

    it("CH-6 children are added in the same settle that stores the parent's outcome, under ids derived from it", async () => {
      const queue = h.queue();
      const parent = chainTwo(5);
      await queue.add(parent);
      const log = spySettles(await queue.connect());
      await h.worker(queue).work({ maxTasks: 1 });
      const children = (await queue.getTask(parent))!.result as Task[];
      expect(log.filter((entry) => entry.id === parent.id)).toEqual([
        { id: parent.id, status: "completed", children: children.map((c) => c.id) },
      ]);
      expect(new Set(children.map((c) => c.id)).size).toBe(2);
      for (const child of children) expect((await queue.getTask(child))?.status).toBe("pending");
    });

    for (const mode of ["reply", "request"] as const) {
      it(`CH-6 a settle whose ${mode} is lost is sent again: every child exists exactly once, the parent is completed once`, async () => {
        const queue = h.queue();
        const parent = chainTwo(6);
        await queue.add(parent);
        dropFirstSettle(await queue.connect(), parent.id, mode);
        const summary = await h.worker(queue).work({ maxTasks: 1 });
        expect(summary).toMatchObject({ processed: 1, failed: 0 });
        const done = (await queue.getTask(parent))!;
        expect(done.status).toBe("completed");
        const children = done.result as Task[];
        const all = await queue.getAllTasks();
        expect(all).toHaveLength(3);
        expect(new Set(all.map((t) => t.id))).toEqual(
          new Set([parent.id, ...children.map((c) => c.id)]),
        );
        expect(await queue.size()).toBe(2);
        expect((await queue.stats()).completed).toBe(1);
      });
    }

    it("CH-7 an empty list adds nothing; a list mixing tasks and other values is a plain result and adds nothing", async () => {
      const queue = h.queue();
      const empty = chainNone();
      const mixed = chainMixed(2);
      await queue.add([empty, mixed]);
      const summary = await h.worker(queue).work({ oneshot: true });
      expect(summary.processed).toBe(2);
      const [e, m] = await queue.getTask([empty, mixed]);
      expect([e?.status, e?.result]).toEqual(["completed", []]);
      expect(m?.status).toBe("completed");
      const value = m?.result as unknown[];
      expect(value).toHaveLength(2);
      expect(value[0]).not.toBeInstanceOf(Task);
      expect(value[1]).toBe(5);
      expect(await queue.size()).toBe(0);
      expect(await queue.getAllTasks()).toHaveLength(2);
    });
  });
}
