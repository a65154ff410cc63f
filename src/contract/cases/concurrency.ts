/**
 * Concurrency keys and the queue-wide cap: tasks sharing a key run at most
 * their limit at a time across every worker, in the order they became
 * claimable, while other keys' tasks run alongside; a key's slot frees in the
 * step that ends its task's attempt (settle, cancel, takeover and settle);
 * a queue's cap bounds the claims held at once across workers.
 */

import { describe, expect, it } from "vitest";
import { InvalidOptionError, type TaskData, TaskDefinitionError, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { CONFUSABLE_KEYS } from "../support/confusable-keys.js";
import {
  claimIds,
  finishedRecord,
  ids,
  requeued,
  retryingRecord,
  scheduledRecord,
  settleClaim,
} from "../support/records.js";
import { PerTest, sleep } from "../support/until.js";

const item = task({ name: "concurrency.item" }, (n: number) => n);
const keyed = (n: number, key: string, limit = 1, priority = 0): TaskData => ({
  ...item(n).toJSON(),
  status: "pending",
  concurrencyKey: key,
  concurrencyLimit: limit,
  priority,
});

/** What tasks saw while running, per test: starts in order, and how many ran at once per key and in all. */
const runs = new PerTest(() => ({
  starts: [] as string[],
  running: new Map<string, number>(),
  maxPerKey: new Map<string, number>(),
  total: 0,
  maxTotal: 0,
}));

const tenantJob = task(
  { name: "concurrency.tenant", concurrency: { key: (_token: string, tenant: string) => tenant } },
  async (token: string, tenant: string, n: number) => {
    const seen = runs.get(token);
    seen.starts.push(`${tenant}:${n}`);
    const now = (seen.running.get(tenant) ?? 0) + 1;
    seen.running.set(tenant, now);
    seen.maxPerKey.set(tenant, Math.max(seen.maxPerKey.get(tenant) ?? 0, now));
    seen.total++;
    seen.maxTotal = Math.max(seen.maxTotal, seen.total);
    await sleep(5 + (n % 3) * 5);
    seen.running.set(tenant, seen.running.get(tenant)! - 1);
    seen.total--;
    return n;
  },
);

/** Keeps a slot busy for 20 ms. */
const filler = task({ name: "concurrency.filler" }, async (n: number) => {
  await sleep(20);
  return n;
});

const capped = task({ name: "concurrency.capped" }, async (token: string, n: number) => {
  const seen = runs.get(token);
  seen.total++;
  seen.maxTotal = Math.max(seen.maxTotal, seen.total);
  await sleep(20);
  seen.total--;
  return n;
});

const pairs = task(
  { name: "concurrency.pairs", concurrency: { key: "pairs", limit: 2 } },
  (n: number) => n,
);

export function concurrencyCases(h: ContractHarness): void {
  describe("concurrency keys", () => {
    it("CK-1 a key at its limit holds its further tasks: claims take other keys' tasks, and a settle hands the slot to the key's next task", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const a = [keyed(1, "a"), keyed(2, "a"), keyed(3, "a")];
      const b = keyed(4, "b");
      const free = { ...item(5).toJSON(), status: "pending" as const };
      await backend.add(queue.name, [...a, b, free]);
      expect(await backend.size(queue.name)).toBe(3);
      expect(ids(await backend.getPending(queue.name, 10))).toEqual(ids([a[0]!, b, free]));
      expect((await backend.getStats(queue.name)).pending).toBe(5);
      // Of those pending, a's second and third wait for its slot (a backend may not tell).
      const heldNow = async () => (await backend.getStats(queue.name)).held;
      const tells = (await heldNow()) !== undefined;
      if (tells) expect(await heldNow()).toBe(2);
      const first = await backend.claim(queue.name, 10);
      if (tells) expect(await heldNow()).toBe(2);
      expect(claimIds(first)).toEqual(ids([a[0]!, b, free]));
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      expect((await backend.getTasks(queue.name, [a[1]!.id])).get(a[1]!.id)?.status).toBe(
        "pending",
      );
      expect(await settleClaim(backend, queue.name, first[0]!)).toBe("settled");
      if (tells) expect(await heldNow()).toBe(1);
      expect(claimIds(await backend.claim(queue.name, 10))).toEqual([a[1]!.id]);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
    });

    it("CK-11 a key is any text (NUL, U+0001, astral characters): keys that differ never share a slot, added or chained", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const keys = CONFUSABLE_KEYS;
      const first = keys.map((key, n) => keyed(n, key));
      await backend.add(queue.name, first);
      const claimed = await backend.claim(queue.name, 20);
      expect(claimIds(claimed)).toEqual(ids(first));
      // Each key's second task waits for its own key's slot only; a chained task takes a key too.
      const second = keys.map((key, n) => keyed(10 + n, key));
      await backend.add(queue.name, second.slice(1));
      const [carrier, ...rest] = claimed;
      await settleClaim(backend, queue.name, carrier!, finishedRecord(carrier!.record), {
        children: [second[0]!],
      });
      expect(claimIds(await backend.claim(queue.name, 20))).toEqual([second[0]!.id]);
      for (const [n, claim] of rest.entries()) {
        await settleClaim(backend, queue.name, claim);
        expect(claimIds(await backend.claim(queue.name, 20))).toEqual([second[n + 1]!.id]);
      }
      const stored = await backend.getTasks(queue.name, ids(second));
      expect(ids(second).map((id) => stored.get(id)?.concurrencyKey)).toEqual(keys);
    });

    it("CK-2 a limit of n lets n tasks of one key be claimed at once, in the order they were added", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const records = [1, 2, 3, 4, 5].map((n) => keyed(n, "k", 2));
      await backend.add(queue.name, records);
      const first = await backend.claim(queue.name, 10);
      expect(claimIds(first)).toEqual(ids(records.slice(0, 2)));
      await settleClaim(backend, queue.name, first[1]!);
      expect(claimIds(await backend.claim(queue.name, 10))).toEqual([records[2]!.id]);
      await settleClaim(backend, queue.name, first[0]!);
      expect(claimIds(await backend.claim(queue.name, 10))).toEqual([records[3]!.id]);
    });

    it("CK-3 cancelling a held task takes it out of its key's line; cancelling a claimable one frees its slot", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const records = [1, 2, 3].map((n) => keyed(n, "k"));
      await backend.add(queue.name, records);
      const held = await backend.cancel(queue.name, records[1]!.id, {
        at: Date.now(),
        expiresAt: null,
      });
      expect(held?.status).toBe("cancelled");
      const claimable = await backend.cancel(queue.name, records[0]!.id, {
        at: Date.now(),
        expiresAt: null,
      });
      expect(claimable?.status).toBe("cancelled");
      expect(claimIds(await backend.claim(queue.name, 10))).toEqual([records[2]!.id]);
    });

    it("CK-4 an attempt that ends retrying, put off or interrupted frees its slot; coming back, the task queues behind the key's held tasks", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const records = [1, 2, 3, 4].map((n) => keyed(n, "k"));
      await backend.add(queue.name, records);
      const now = Date.now();
      const [c1] = await backend.claim(queue.name, 10);
      expect(
        await settleClaim(backend, queue.name, c1!, retryingRecord(c1!.record, now + 60_000)),
      ).toBe("settled");
      const [c2] = await backend.claim(queue.name, 10);
      expect(c2?.record.id).toBe(records[1]!.id);
      await settleClaim(backend, queue.name, c2!, scheduledRecord(c2!.record, now + 60_000));
      const [c3] = await backend.claim(queue.name, 10);
      expect(c3?.record.id).toBe(records[2]!.id);
      await settleClaim(backend, queue.name, c3!, requeued(c3!.record));
      // The interrupted task went behind the held fourth, which now has the slot.
      const [c4] = await backend.claim(queue.name, 10);
      expect(c4?.record.id).toBe(records[3]!.id);
      expect(await backend.promoteDue(queue.name, now + 120_000)).toHaveLength(2);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      await settleClaim(backend, queue.name, c4!);
      const order: string[] = [];
      for (let i = 0; i < 3; i++) {
        const [next] = await backend.claim(queue.name, 10);
        expect(next).toBeDefined();
        order.push(next!.record.id);
        expect(await backend.claim(queue.name, 10)).toEqual([]);
        await settleClaim(backend, queue.name, next!);
      }
      expect(order).toEqual([records[2]!.id, records[0]!.id, records[1]!.id]);
    });

    it("CK-5 a claim taken over from a dead worker keeps the slot until its settle frees it", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const records = [1, 2].map((n) => keyed(n, "k"));
      await backend.add(queue.name, records);
      await backend.claim(queue.name, 10);
      await sleep(20);
      const [taken] = await backend.reclaimExpired(queue.name, { leaseMs: 1, confirmMs: 0 });
      expect(taken?.record.id).toBe(records[0]!.id);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      await settleClaim(backend, queue.name, taken!, finishedRecord(taken!.record, "crashed"));
      expect(claimIds(await backend.claim(queue.name, 10))).toEqual([records[1]!.id]);
    });

    it("CK-6 a scheduled keyed task that comes due while its key is busy waits for the slot", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const now = Date.now();
      const running = keyed(1, "k");
      const later = {
        ...keyed(2, "k"),
        status: "scheduled" as const,
        scheduledAt: new Date(now + 1000).toISOString(),
      };
      await backend.add(queue.name, [running, later]);
      const [c1] = await backend.claim(queue.name, 10);
      expect(await backend.promoteDue(queue.name, now + 2000)).toEqual([later.id]);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      expect((await backend.getTasks(queue.name, [later.id])).get(later.id)?.status).toBe(
        "pending",
      );
      await settleClaim(backend, queue.name, c1!);
      expect(claimIds(await backend.claim(queue.name, 10))).toEqual([later.id]);
    });

    it("CK-7 clear forgets the keys' slots; a replacing add of a keyed task frees what it held", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await backend.add(queue.name, [keyed(1, "k"), keyed(2, "k")]);
      await backend.claim(queue.name, 10);
      await queue.clear();
      const fresh = keyed(3, "k");
      await backend.add(queue.name, [fresh, keyed(4, "k")]);
      const replaced = { ...fresh, args: [30] };
      expect(await backend.add(queue.name, [replaced], "replace")).toEqual([true]);
      const [claim] = await backend.claim(queue.name, 10);
      expect(claim?.record.args).toEqual([4]);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      await settleClaim(backend, queue.name, claim!);
      expect((await backend.claim(queue.name, 10))[0]?.record.args).toEqual([30]);
    });

    it("CK-8 a key comes from the task's definition (fixed or from its arguments) or from queue.add, and is read back", async () => {
      const queue = h.queue();
      const token = crypto.randomUUID();
      const fromArgs = tenantJob(token, "acme", 1);
      expect(fromArgs.concurrencyKey).toBe("acme");
      expect(fromArgs.concurrencyLimit).toBe(1);
      expect(pairs(1).concurrencyKey).toBe("pairs");
      expect(pairs(1).concurrencyLimit).toBe(2);
      expect(item(1).concurrencyKey).toBeNull();
      expect(item(1).concurrencyLimit).toBeNull();
      const overridden = item(2);
      await queue.add(overridden, { concurrency: { key: "t-9", limit: 3 } });
      const stored = await queue.getTask(overridden);
      expect(stored?.concurrencyKey).toBe("t-9");
      expect(stored?.concurrencyLimit).toBe(3);
      const scheduled = item(3);
      await queue.schedule(scheduled, 3600, { concurrency: { key: "t-9" } });
      expect((await queue.getTask(scheduled))?.concurrencyLimit).toBe(1);
      await expect(queue.add(item(4), { concurrency: { key: "" } })).rejects.toThrow(
        InvalidOptionError,
      );
      await expect(queue.add(item(4), { concurrency: { key: "k", limit: 0 } })).rejects.toThrow(
        /queue\.add\(\): concurrency\.limit must be an integer from 1/,
      );
      await expect(
        queue.add(item(4), { concurrency: { key: "k", limt: 2 } as never }),
      ).rejects.toThrow(/unknown option 'limt'/);
      expect(() =>
        task({ name: "concurrency.bad", concurrency: { key: "k", limit: -1 } }, () => 1),
      ).toThrow(TaskDefinitionError);
      const badKey = task(
        { name: "concurrency.badkey", concurrency: { key: (n: number) => (n > 0 ? "x" : "") } },
        (n: number) => n,
      );
      expect(badKey(1).concurrencyKey).toBe("x");
      expect(() => badKey(0)).toThrow(
        "task 'concurrency.badkey': concurrency key (its function given [0]) must be non-empty text (got \"\")",
      );
    });

    it("CK-9 limit 1 per key, 3 keys × 20 tasks, 4 workers: never two of one key at once, each key in order, keys run alongside", async () => {
      const queue = h.queue();
      const token = crypto.randomUUID();
      const seen = runs.get(token);
      const tasks = [];
      for (let n = 0; n < 20; n++) {
        for (const tenant of ["a", "b", "c"]) tasks.push(tenantJob(token, tenant, n));
      }
      await queue.add(tasks);
      const workers = [0, 1, 2, 3].map((i) =>
        h.worker(i === 0 ? queue : h.sibling(queue), { concurrency: 4 }),
      );
      const working = workers.map((w) => w.work());
      const done = await queue.waitFor(tasks, { timeout: 60 });
      expect(done.every((t) => t.status === "completed")).toBe(true);
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(working);
      for (const tenant of ["a", "b", "c"]) {
        expect(seen.maxPerKey.get(tenant)).toBe(1);
        const order = seen.starts.filter((s) => s.startsWith(`${tenant}:`));
        expect(order).toEqual(Array.from({ length: 20 }, (_, n) => `${tenant}:${n}`));
      }
      expect(seen.maxTotal).toBeGreaterThan(1);
      const firstSix = new Set(seen.starts.slice(0, 6).map((s) => s.split(":")[0]));
      expect(firstSix.size).toBe(3);
    });

    it("CK-11 a worker serving a busy queue beside a keyed one keeps each key in order: a task claimed while every slot is busy waits for a slot, not behind its key's next", async () => {
      const [busy, keyed] = [h.queue(), h.queue()];
      const token = crypto.randomUUID();
      const seen = runs.get(token);
      await busy.add(Array.from({ length: 120 }, (_, n) => filler(n)));
      const tasks = [];
      for (let n = 0; n < 8; n++) {
        for (const tenant of ["a", "b", "c"]) tasks.push(tenantJob(token, tenant, n));
      }
      await keyed.add(tasks);
      const worker = h.worker([busy, keyed], { concurrency: 4 });
      const working = worker.work();
      const done = await keyed.waitFor(tasks, { timeout: 60 });
      expect(done.every((t) => t.status === "completed")).toBe(true);
      await worker.close();
      await working;
      for (const tenant of ["a", "b", "c"]) {
        expect(seen.maxPerKey.get(tenant)).toBe(1);
        const order = seen.starts.filter((s) => s.startsWith(`${tenant}:`));
        expect(order).toEqual(Array.from({ length: 8 }, (_, n) => `${tenant}:${n}`));
      }
    });
  });

  describe("concurrency keys with dedupe", () => {
    it("CK-10 a dedupe replace of a task held for its key keeps it waiting for the slot, with the new arguments", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const first = item(1);
      const second = item(2);
      await queue.add(first, { concurrency: { key: "k" } });
      const added = await queue.add(second, {
        concurrency: { key: "k" },
        dedupe: { key: "d", mode: "replace" },
      });
      expect(added.outcome).toBe("added");
      const replaced = await queue.add(item(3), {
        concurrency: { key: "k" },
        dedupe: { key: "d", mode: "replace" },
      });
      expect(replaced).toEqual({ outcome: "replaced", id: second.id });
      const claimed = await backend.claim(queue.name, 10);
      expect(claimIds(claimed)).toEqual([first.id]);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      await settleClaim(backend, queue.name, claimed[0]!);
      const [next] = await backend.claim(queue.name, 10);
      expect(next?.record.id).toBe(second.id);
      expect(next?.record.args).toEqual([3]);
    });

    it("CK-12 a replace that moves a waiting task to another key, or gives a key to a task without one, takes that key's free slot at once", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const busy = keyed(1, "a");
      const heldInA = keyed(2, "a");
      await backend.add(queue.name, [busy, heldInA]);
      const [first] = await backend.claim(queue.name, 10);
      // Key a's slot is taken and its second task waits.
      expect(first?.record.id).toBe(busy.id);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      const keyless = { ...item(4).toJSON(), status: "pending" as const };
      await backend.add(queue.name, [keyless]);
      // The waiting task moves to key b, the keyless one takes key c: both keys are free.
      const movedToB = { ...heldInA, concurrencyKey: "b", args: [20] };
      const keyedC = { ...keyless, concurrencyKey: "c", concurrencyLimit: 1 };
      expect(await backend.add(queue.name, [movedToB], "replace")).toEqual([true]);
      expect(await backend.add(queue.name, [keyedC], "replace")).toEqual([true]);
      const claimed = await backend.claim(queue.name, 10);
      expect(claimIds(claimed).sort()).toEqual([heldInA.id, keyless.id].sort());
      expect(claimed.find((c) => c.record.id === heldInA.id)?.record.args).toEqual([20]);
      // Key a's line lost its waiting task: its slot, once free, has nobody to hand over to.
      await settleClaim(backend, queue.name, first!);
      expect(await backend.claim(queue.name, 10)).toEqual([]);
    });
  });

  describe("a queue's concurrency cap", () => {
    it("CQ-1 the cap bounds the claims held at once; a settle makes room; null lifts it; it outlives clear", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      expect(await queue.getConcurrencyLimit()).toBeNull();
      await queue.setConcurrencyLimit(2);
      expect(await queue.getConcurrencyLimit()).toBe(2);
      expect(await h.sibling(queue).getConcurrencyLimit()).toBe(2);
      const records = [1, 2, 3, 4].map((n) => ({
        ...item(n).toJSON(),
        status: "pending" as const,
      }));
      await backend.add(queue.name, records);
      const first = await backend.claim(queue.name, 10);
      expect(claimIds(first)).toEqual(ids(records.slice(0, 2)));
      expect(await backend.claim(queue.name, 10)).toEqual([]);
      await settleClaim(backend, queue.name, first[0]!);
      expect(claimIds(await backend.claim(queue.name, 10))).toEqual([records[2]!.id]);
      await queue.setConcurrencyLimit(null);
      expect(claimIds(await backend.claim(queue.name, 10))).toEqual([records[3]!.id]);
      await queue.setConcurrencyLimit(1);
      await queue.clear();
      expect(await queue.getConcurrencyLimit()).toBe(1);
      await expect(queue.setConcurrencyLimit(0)).rejects.toThrow(
        /queue\.setConcurrencyLimit\(\) must be an integer from 1/,
      );
      await expect(queue.setConcurrencyLimit(1.5)).rejects.toThrow(InvalidOptionError);
      // Left out (a setting never read) is not a cap of 1: it is refused, and the cap stays.
      for (const run of [
        () => queue.setConcurrencyLimit(undefined as unknown as null),
        () => (queue.setConcurrencyLimit as () => Promise<void>)(),
      ]) {
        await expect(run()).rejects.toThrow(
          /^queue\.setConcurrencyLimit\(\) takes an integer from 1 to 2147483647, or null to lift the cap \(got undefined\)$/,
        );
      }
      expect(await queue.getConcurrencyLimit()).toBe(1);
    });

    it("CQ-2 a claim waiting at the cap is woken by the settle that makes room", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      await queue.setConcurrencyLimit(1);
      const records = [1, 2].map((n) => ({ ...item(n).toJSON(), status: "pending" as const }));
      await backend.add(queue.name, records);
      const [c1] = await backend.claim(queue.name, 5);
      const started = Date.now();
      const waiting = backend.claim(queue.name, 5, 10_000);
      await sleep(100);
      await settleClaim(backend, queue.name, c1!);
      expect(claimIds(await waiting)).toEqual([records[1]!.id]);
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it("CQ-3 with a cap of 2, three workers of concurrency 5 never run more than 2 of the queue's tasks at once", async () => {
      const queue = h.queue();
      const token = crypto.randomUUID();
      const seen = runs.get(token);
      await queue.setConcurrencyLimit(2);
      const tasks = Array.from({ length: 20 }, (_, n) => capped(token, n));
      await queue.add(tasks);
      const workers = [0, 1, 2].map((i) =>
        h.worker(i === 0 ? queue : h.sibling(queue), { concurrency: 5 }),
      );
      const working = workers.map((w) => w.work());
      const done = await queue.waitFor(tasks, { timeout: 60 });
      expect(done.every((t) => t.status === "completed")).toBe(true);
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(working);
      expect(seen.maxTotal).toBe(2);
    });
  });
}
