/**
 * Dedupe and caller-chosen ids: an add under a key ignores or replaces the
 * task holding it, or adds a new one, and says which; a window holds a key
 * for a time whatever becomes of its task; racing adds of one key, from
 * separate connections, leave one task. A `TestClock` moves windows on.
 */

import { describe, expect, it } from "vitest";
import { InvalidOptionError, Queue, TaskIdConflictError, task } from "../../index.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import { retryingRecord, settleClaim } from "../support/records.js";

const sync = task({ name: "dedupe.sync" }, (user: string, n: number) => `${user}:${n}`);
const other = task({ name: "dedupe.other" }, (what: string) => what);
const START = Date.UTC(2030, 0, 1);

/** Claims the one claimable task of `queue` and returns its id. */
async function claimOne(queue: Queue): Promise<string> {
  const backend = await queue.connect();
  const [claim] = await backend.claim(queue.name, 1);
  expect(claim).toBeDefined();
  return claim!.record.id;
}

/** Claims the one claimable task of `queue` and settles it completed. */
async function finishOne(queue: Queue): Promise<string> {
  const backend = await queue.connect();
  const [claim] = await backend.claim(queue.name, 1);
  expect(claim).toBeDefined();
  expect(await settleClaim(backend, queue.name, claim!)).toBe("settled");
  return claim!.record.id;
}

/** Every task of `queue`, as (id, args) pairs. */
async function contents(queue: Queue): Promise<{ id: string; args: unknown[] }[]> {
  return (await queue.getAllTasks()).map((t) => ({ id: t.id, args: [...t.args] }));
}

export function dedupeCases(h: ContractHarness): void {
  describe("dedupe and caller-chosen ids", () => {
    it("DD-1 ignore (the default): an add while the key's task is unfinished does nothing and reports that task", async () => {
      const queue = h.queue();
      const first = sync("u1", 1);
      const added = await queue.add(first, { dedupe: { key: "sync:u1" } });
      expect(added).toEqual({ outcome: "added", id: first.id });
      const again = await queue.add(sync("u1", 2), { dedupe: { key: "sync:u1", mode: "ignore" } });
      expect(again).toEqual({ outcome: "ignored", id: first.id });
      // Another key is another task.
      const other = await queue.add(sync("u2", 1), { dedupe: { key: "sync:u2" } });
      expect(other.outcome).toBe("added");
      expect(await queue.size()).toBe(2);
      const stored = await queue.getTask(first.id);
      expect(stored?.args).toEqual(["u1", 1]);
      expect(stored?.dedupeKey).toBe("sync:u1");
      // A plain add is unchanged: a boolean.
      expect(await queue.add(sync("u3", 1))).toBe(true);
    });

    it("DD-2 replace: a pending task's arguments, options and priority are replaced, its id kept", async () => {
      const queue = h.queue();
      const first = sync("u1", 1);
      await queue.add(first, { dedupe: { key: "k", mode: "replace" } });
      const result = await queue.add(sync("u1", 2), {
        dedupe: { key: "k", mode: "replace" },
        priority: 5,
      });
      expect(result).toEqual({ outcome: "replaced", id: first.id });
      expect(await contents(queue)).toEqual([{ id: first.id, args: ["u1", 2] }]);
      const stored = await queue.getTask(first.id);
      expect(stored?.priority).toBe(5);
      expect(stored?.status).toBe("pending");
      expect(await claimOne(queue)).toBe(first.id);
    });

    it("DD-3 replace: a scheduled task takes the new time and arguments; an add for now makes it pending", async () => {
      const queue = h.queue();
      const first = sync("u1", 1);
      const inAnHour = Date.now() + 3_600_000;
      await queue.schedule(first, new Date(inAnHour), { dedupe: { key: "k", mode: "replace" } });
      const later = await queue.schedule(sync("u1", 2), new Date(inAnHour + 60_000), {
        dedupe: { key: "k", mode: "replace" },
      });
      expect(later).toEqual({ outcome: "replaced", id: first.id });
      const [scheduled, ...rest] = await queue.getScheduled();
      expect(rest).toEqual([]);
      expect(scheduled?.id).toBe(first.id);
      expect(scheduled?.args).toEqual(["u1", 2]);
      expect(scheduled?.scheduledAt?.getTime()).toBe(inAnHour + 60_000);
      const now = await queue.add(sync("u1", 3), { dedupe: { key: "k", mode: "replace" } });
      expect(now).toEqual({ outcome: "replaced", id: first.id });
      expect(await queue.getScheduled()).toEqual([]);
      expect((await queue.getPending()).map((t) => [t.id, ...t.args])).toEqual([
        [first.id, "u1", 3],
      ]);
    });

    it("DD-4 replace: once the key's task is claimed, a new task is added and takes the key", async () => {
      const queue = h.queue();
      const first = sync("u1", 1);
      await queue.add(first, { dedupe: { key: "k", mode: "replace" } });
      expect(await claimOne(queue)).toBe(first.id);
      const second = sync("u1", 2);
      const added = await queue.add(second, { dedupe: { key: "k", mode: "replace" } });
      expect(added).toEqual({ outcome: "added", id: second.id });
      expect((await queue.getTask(first.id))?.args).toEqual(["u1", 1]);
      const third = await queue.add(sync("u1", 3), { dedupe: { key: "k", mode: "replace" } });
      expect(third).toEqual({ outcome: "replaced", id: second.id });
      expect((await queue.getTask(second.id))?.args).toEqual(["u1", 3]);
      // Ignore mode also sees the newest holder.
      const ignored = await queue.add(sync("u1", 4), { dedupe: { key: "k" } });
      expect(ignored).toEqual({ outcome: "ignored", id: second.id });
    });

    it("DD-5 once the key's task has finished (completed or cancelled), an add adds a new one", async () => {
      const queue = h.queue();
      const first = sync("u1", 1);
      await queue.add(first, { dedupe: { key: "k" } });
      expect(await finishOne(queue)).toBe(first.id);
      const second = sync("u1", 2);
      expect(await queue.add(second, { dedupe: { key: "k" } })).toEqual({
        outcome: "added",
        id: second.id,
      });
      await queue.cancel(second);
      const third = sync("u1", 3);
      expect(await queue.add(third, { dedupe: { key: "k", mode: "replace" } })).toEqual({
        outcome: "added",
        id: third.id,
      });
      expect((await queue.getTask(first.id))?.status).toBe("completed");
      expect(await queue.size()).toBe(1);
    });

    it("DD-6 a window holds the key from the first add, even after its task finished; after it, a new task is added even while the earlier one runs", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const first = sync("u1", 1);
      const window = { key: "k", window: 60 };
      expect(await queue.add(first, { dedupe: window })).toEqual({
        outcome: "added",
        id: first.id,
      });
      await clock.advance(30);
      expect(await queue.add(sync("u1", 2), { dedupe: window })).toEqual({
        outcome: "ignored",
        id: first.id,
      });
      expect(await finishOne(queue)).toBe(first.id);
      // A prune before the window ends keeps the key.
      await (await queue.connect()).pruneExpired(queue.name, clock.now());
      await clock.advance(29.999);
      expect(await queue.add(sync("u1", 3), { dedupe: window })).toEqual({
        outcome: "ignored",
        id: first.id,
      });
      await clock.advance(0.001);
      const second = sync("u1", 4);
      expect(await queue.add(second, { dedupe: window })).toEqual({
        outcome: "added",
        id: second.id,
      });
      expect(await claimOne(queue)).toBe(second.id);
      await clock.advance(60);
      const third = sync("u1", 5);
      expect(await queue.add(third, { dedupe: { key: "k" } })).toEqual({
        outcome: "added",
        id: third.id,
      });
      // Without a window the key now holds while the third task is unfinished.
      expect((await queue.add(sync("u1", 6), { dedupe: { key: "k" } })).outcome).toBe("ignored");
    });

    it("DD-7 pruneExpired drops only keys that hold nothing; clear drops every key", async () => {
      const clock = new TestClock(START);
      const queue = h.queue({ clock });
      const backend = await queue.connect();
      const waiting = sync("a", 1);
      await queue.add(waiting, { dedupe: { key: "waiting" } });
      await queue.add(sync("b", 1), { dedupe: { key: "windowed", window: 10 } });
      await clock.advance(11);
      await backend.pruneExpired(queue.name, clock.now());
      expect(await queue.add(sync("a", 2), { dedupe: { key: "waiting" } })).toEqual({
        outcome: "ignored",
        id: waiting.id,
      });
      expect((await queue.add(sync("b", 2), { dedupe: { key: "windowed" } })).outcome).toBe(
        "added",
      );
      await queue.add(sync("c", 1), { dedupe: { key: "long", window: 3600 } });
      await queue.clear();
      expect(
        (await queue.add(sync("c", 2), { dedupe: { key: "long", window: 3600 } })).outcome,
      ).toBe("added");
      expect((await queue.add(sync("a", 3), { dedupe: { key: "waiting" } })).outcome).toBe("added");
    });

    it("DD-8 a caller-chosen id: the task is stored under it; an id the queue holds is reported ignored", async () => {
      const queue = h.queue();
      expect(await queue.add(sync("u1", 1), { id: "order-42" })).toEqual({
        outcome: "added",
        id: "order-42",
      });
      expect((await queue.getTask("order-42"))?.args).toEqual(["u1", 1]);
      expect(await queue.add(sync("u1", 2), { id: "order-42" })).toEqual({
        outcome: "ignored",
        id: "order-42",
      });
      expect(await queue.schedule(sync("u1", 3), 3600, { id: "report:2030-01.v1_a" })).toEqual({
        outcome: "added",
        id: "report:2030-01.v1_a",
      });
      // An id the queue holds is not taken over by a key: the key stays free.
      expect(await queue.add(sync("u1", 4), { id: "order-42", dedupe: { key: "k" } })).toEqual({
        outcome: "ignored",
        id: "order-42",
      });
      const keyed = await queue.add(sync("u1", 5), { id: "order-43", dedupe: { key: "k" } });
      expect(keyed).toEqual({ outcome: "added", id: "order-43" });
      expect((await queue.getTask("order-42"))?.args).toEqual(["u1", 1]);
      expect(await queue.size()).toBe(2);
    });

    it("DD-8 an id held by a task of another name is refused (TaskIdConflictError), not reported ignored; the holder stays as it was", async () => {
      const queue = h.queue();
      expect((await queue.schedule(other("squat"), 3600, { id: "charge:o-1" })).outcome).toBe(
        "added",
      );
      for (const attempt of [
        () => queue.add(sync("victim", 42), { id: "charge:o-1" }),
        () => queue.schedule(sync("victim", 42), 60, { id: "charge:o-1" }),
      ]) {
        const error = (await attempt().catch((e: unknown) => e)) as TaskIdConflictError;
        expect(error).toBeInstanceOf(TaskIdConflictError);
        expect(error.message).toMatch(
          /^queue\.(add|schedule)\(\): id 'charge:o-1' is held by a task of another name \('dedupe\.other'\), so this is not a resend of it; choose another id$/,
        );
        expect([error.id, error.heldBy]).toEqual(["charge:o-1", "dedupe.other"]);
      }
      const held = await queue.getTask("charge:o-1");
      expect([held?.name, held?.args, held?.status]).toEqual([
        "dedupe.other",
        ["squat"],
        "scheduled",
      ]);
      // The same name is a resend, whatever its arguments: ignored.
      expect(await queue.add(other("again"), { id: "charge:o-1" })).toEqual({
        outcome: "ignored",
        id: "charge:o-1",
      });
    });

    it("DD-9 bad ids, keys, modes and windows are refused with a one-line error naming the call and option", async () => {
      const queue = h.queue();
      const refused = async (run: () => Promise<unknown>, pattern: RegExp) => {
        const error = await run().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as Error).message).toMatch(pattern);
        expect((error as Error).message).not.toContain("\n");
      };
      for (const id of ["", "a/b", "with space", ".", "..", "x".repeat(129), 42, "é", "pending"]) {
        await refused(
          () => queue.add(sync("u", 1), { id: id as string }),
          /^queue\.add\(\): id must be 1–128 ASCII letters/,
        );
      }
      for (const key of ["", "x".repeat(257), "a\nb", 7]) {
        await refused(
          () => queue.add(sync("u", 1), { dedupe: { key: key as string } }),
          /^queue\.add\(\): dedupe\.key must be/,
        );
      }
      await refused(
        () => queue.add(sync("u", 1), { dedupe: { key: "k", mode: "replace", window: 10 } }),
        /^queue\.add\(\): dedupe\.window applies to mode 'ignore' only/,
      );
      await refused(
        () => queue.schedule(sync("u", 1), 60, { dedupe: { key: "k", window: 0 } }),
        /^queue\.schedule\(\): dedupe\.window must be a number of seconds > 0/,
      );
      // Past ten years, as every duration: the same refusal on every backend, none reaching a store.
      for (const window of [315_360_001, 1e17, 1e300]) {
        await refused(
          () => queue.add(sync("u", 1), { dedupe: { key: "k", window } }),
          /^queue\.add\(\): dedupe\.window must be a number of seconds > 0 and ≤ 315360000 \(10 years\)/,
        );
      }
      expect(
        await queue.add(sync("u", 1), { dedupe: { key: "decade", window: 315_360_000 } }),
      ).toMatchObject({ outcome: "added" });
      await queue.clear();
      await refused(
        () => queue.add(sync("u", 1), { dedupe: { key: "k", mode: "later" as "ignore" } }),
        /^queue\.add\(\): dedupe\.mode must be 'ignore' or 'replace'/,
      );
      await refused(
        () =>
          queue.add([sync("u", 1)], { dedupe: { key: "k" } } as unknown as { priority: number }),
        /^queue\.add\(\): dedupe and id apply to one task/,
      );
      expect(await queue.size()).toBe(0);
    });

    it("DD-11 addDeduplicated applies a call's entries in order, each seeing those before, windows counted from the caller's now", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const entry = (
        t: ReturnType<typeof sync>,
        key: string,
        mode: "ignore" | "replace",
        windowMs: number | null,
      ) => ({
        record: { ...t.toJSON(), status: "pending" as const, dedupeKey: key },
        key,
        mode,
        windowMs,
      });
      const [a, b, c, d] = [sync("a", 1), sync("a", 2), sync("w", 1), sync("w", 2)];
      const now = START;
      expect(
        await backend.addDeduplicated(
          queue.name,
          [
            entry(a, "k", "ignore", null),
            entry(b, "k", "replace", null),
            entry(c, "w", "ignore", 1000),
          ],
          now,
        ),
      ).toEqual([
        { outcome: "added", id: a.id },
        { outcome: "replaced", id: a.id },
        { outcome: "added", id: c.id },
      ]);
      const stored = (await backend.getTasks(queue.name, [a.id])).get(a.id);
      expect(stored?.args).toEqual(["a", 2]);
      expect(stored?.dedupeKey).toBe("k");
      expect(
        await backend.addDeduplicated(queue.name, [entry(d, "w", "ignore", 1000)], now + 999),
      ).toEqual([{ outcome: "ignored", id: c.id }]);
      expect(
        await backend.addDeduplicated(queue.name, [entry(d, "w", "ignore", 1000)], now + 1000),
      ).toEqual([{ outcome: "added", id: d.id }]);
      expect(await backend.addDeduplicated(queue.name, [], now)).toEqual([]);
      await expect(
        backend.addDeduplicated(
          queue.name,
          [
            {
              ...entry(sync("x", 1), "x", "ignore", null),
              record: { ...sync("x", 1).toJSON(), status: "completed" as const },
            },
          ],
          now,
        ),
      ).rejects.toThrow(InvalidOptionError);
      // a (replaced by b), c, and d after c's window.
      expect(await backend.size(queue.name)).toBe(3);
    });

    it("DD-12 replace: a task waiting for a retry has started, so the add adds a new task", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const first = sync("u1", 1);
      await queue.add(first, { dedupe: { key: "k", mode: "replace" } });
      const [claim] = await backend.claim(queue.name, 1);
      const retrying = retryingRecord(claim!.record, Date.now() + 3_600_000);
      expect(await settleClaim(backend, queue.name, claim!, retrying)).toBe("settled");
      const second = sync("u1", 2);
      expect(await queue.add(second, { dedupe: { key: "k", mode: "replace" } })).toEqual({
        outcome: "added",
        id: second.id,
      });
      expect((await queue.getTask(first.id))?.status).toBe("retrying");
    });

    it("DD-10 fifty racing adds of one key, from separate connections, leave exactly one task", async () => {
      const queue = h.queue();
      // Ten backend instances (each with its own connections), five queues on each:
      // fifty instances of the queue, more connections than that would crowd a shared server.
      const backends = [queue, ...Array.from({ length: 9 }, () => h.sibling(queue))];
      const queues = Array.from(
        { length: 50 },
        (_, i) => new Queue(backends[i % backends.length]!.backend, { name: queue.name }),
      );
      await Promise.all(backends.map((q) => q.connect()));
      for (const mode of ["ignore", "replace"] as const) {
        const results = await Promise.all(
          queues.map((q, i) => q.add(sync(mode, i), { dedupe: { key: `race:${mode}`, mode } })),
        );
        const added = results.filter((r) => r.outcome === "added");
        expect(added).toHaveLength(1);
        expect(new Set(results.map((r) => r.id))).toEqual(new Set([added[0]!.id]));
        if (mode === "ignore") expect(results.every((r) => r.outcome !== "replaced")).toBe(true);
      }
      expect(await queue.size()).toBe(2);
    });
  });
}
