/**
 * A list of entries given to `queue.add`: each task with an add's options of
 * its own (an id of the caller's, a dedupe key, a due time, a priority, a
 * concurrency key), answered entry by entry in the list's order; a resend of
 * the list adds nothing twice; a bad entry is refused before anything is
 * stored; an id held by a task of another name is refused once the rest is
 * stored.
 */

import { describe, expect, it } from "vitest";
import {
  type AddEntry,
  InvalidOptionError,
  InvalidTaskError,
  TaskIdConflictError,
  task,
} from "../../index.js";
import type { ContractHarness } from "../harness.js";

const charge = task(
  { name: "entries.charge" },
  (order: string, cents: number) => `${order}:${cents}`,
);
const notify = task({ name: "entries.notify" }, (user: string) => user);

export function addEntriesCases(h: ContractHarness): void {
  describe("a list of entries, each with options of its own", () => {
    it("AE-1 each entry's id, key, time, priority and concurrency are its own; the call's options fill in the rest; answers follow the list", async () => {
      const queue = h.queue();
      const plain = notify("u0");
      const before = Date.now();
      const results = await queue.add(
        [
          { task: charge("o-1", 100), id: "charge:o-1" },
          { task: notify("u1"), dedupe: { key: "notify:u1" } },
          { task: charge("o-2", 200), id: "charge:o-2", at: 3600, priority: 7 },
          { task: plain, concurrency: { key: "tenant-9", limit: 2 } },
        ],
        { priority: 3 },
      );
      expect(results).toEqual([
        { outcome: "added", id: "charge:o-1" },
        { outcome: "added", id: expect.any(String) },
        { outcome: "added", id: "charge:o-2" },
        { outcome: "added", id: plain.id },
      ]);
      const [first, keyed, later, last] = await queue.getTask([
        "charge:o-1",
        results[1]!.id,
        "charge:o-2",
        plain.id,
      ]);
      expect([first?.status, first?.args, first?.priority]).toEqual(["pending", ["o-1", 100], 3]);
      expect([keyed?.name, keyed?.dedupeKey, keyed?.status]).toEqual([
        "entries.notify",
        "notify:u1",
        "pending",
      ]);
      expect([later?.status, later?.priority]).toEqual(["scheduled", 7]);
      const due = later!.scheduledAt!.getTime();
      expect(due).toBeGreaterThanOrEqual(before + 3_599_000);
      expect(due).toBeLessThanOrEqual(Date.now() + 3_601_000);
      expect([last?.concurrencyKey, last?.concurrencyLimit, last?.priority]).toEqual([
        "tenant-9",
        2,
        3,
      ]);
      const stats = await queue.stats();
      expect([stats.pending, stats.scheduled]).toEqual([3, 1]);
    });

    it("AE-2 a resend of the list adds nothing twice; an id or key twice in one list is added once", async () => {
      const queue = h.queue();
      const plain = notify("u0");
      const entries: AddEntry[] = [
        { task: charge("o-1", 100), id: "charge:o-1" },
        { task: notify("u1"), dedupe: { key: "notify:u1" } },
        { task: plain },
      ];
      const first = await queue.add(entries);
      expect(first.map((r) => r.outcome)).toEqual(["added", "added", "added"]);
      const again = await queue.add(entries);
      expect(again).toEqual([
        { outcome: "ignored", id: "charge:o-1" },
        { outcome: "ignored", id: first[1]!.id },
        { outcome: "ignored", id: plain.id },
      ]);
      const twice = await queue.add([
        { task: charge("o-3", 1), id: "charge:o-3" },
        { task: charge("o-3", 2), id: "charge:o-3" },
        { task: notify("u4"), dedupe: { key: "notify:u4" } },
        { task: notify("u4"), dedupe: { key: "notify:u4" } },
      ]);
      expect(twice.map((r) => r.outcome)).toEqual(["added", "ignored", "added", "ignored"]);
      expect(twice[1]!.id).toBe("charge:o-3");
      expect(twice[3]!.id).toBe(twice[2]!.id);
      expect((await queue.getTask("charge:o-3"))?.args).toEqual(["o-3", 1]);
      expect(await queue.size()).toBe(5);
    });

    it("AE-3 entries under one key apply in the list's order: a replace takes the pending task's place", async () => {
      const queue = h.queue();
      const [added, replaced] = await queue.add([
        { task: notify("v1"), dedupe: { key: "save:doc", mode: "replace" }, at: 5 },
        { task: notify("v2"), dedupe: { key: "save:doc", mode: "replace" }, at: 5 },
      ]);
      expect(added!.outcome).toBe("added");
      expect(replaced).toEqual({ outcome: "replaced", id: added!.id });
      const stored = await queue.getTask(added!.id);
      expect([stored?.args, stored?.status]).toEqual([["v2"], "scheduled"]);
      expect((await queue.getAllTasks()).map((t) => t.id)).toEqual([added!.id]);
    });

    it("AE-4 an id held by a task of another name is a TaskIdConflictError naming the entry; the list's other entries are stored", async () => {
      const queue = h.queue();
      expect(await queue.add(notify("squat"), { id: "charge:o-1" })).toEqual({
        outcome: "added",
        id: "charge:o-1",
      });
      const error = (await queue
        .add([
          { task: charge("o-0", 1), id: "charge:o-0" },
          { task: charge("o-1", 2), id: "charge:o-1" },
          { task: notify("u2"), dedupe: { key: "notify:u2" } },
        ])
        .catch((e: unknown) => e)) as TaskIdConflictError;
      expect(error).toBeInstanceOf(TaskIdConflictError);
      expect(error.message).toBe(
        "queue.add(): item [1]: id 'charge:o-1' is held by a task of another name ('entries.notify'), so this is not a resend of it; choose another id (the list's other entries were stored)",
      );
      expect([error.id, error.heldBy]).toEqual(["charge:o-1", "entries.notify"]);
      const held = await queue.getTask("charge:o-1");
      expect([held?.name, held?.args]).toEqual(["entries.notify", ["squat"]]);
      expect((await queue.getTask("charge:o-0"))?.args).toEqual(["o-0", 1]);
      expect(await queue.size()).toBe(3);
    });

    it("AE-4b every entry whose id another task's name holds is named, in one error listing them all", async () => {
      const queue = h.queue();
      await queue.add([
        { task: notify("a"), id: "charge:o-1" },
        { task: notify("b"), id: "charge:o-3" },
      ]);
      const error = (await queue
        .add([
          { task: charge("o-0", 1), id: "charge:o-0" },
          { task: charge("o-1", 2), id: "charge:o-1" },
          { task: charge("o-2", 3), id: "charge:o-2" },
          { task: charge("o-3", 4), id: "charge:o-3" },
        ])
        .catch((e: unknown) => e)) as TaskIdConflictError;
      expect(error).toBeInstanceOf(TaskIdConflictError);
      expect(error.message).toBe(
        "queue.add(): item [1]: id 'charge:o-1' is held by a task of another name ('entries.notify'), so this is not a resend of it; choose another id; so are the ids of item [3] ('charge:o-3', by 'entries.notify') (the list's other entries were stored)",
      );
      expect([error.id, error.heldBy]).toEqual(["charge:o-1", "entries.notify"]);
      expect(error.conflicts).toEqual([
        { id: "charge:o-1", heldBy: "entries.notify" },
        { id: "charge:o-3", heldBy: "entries.notify" },
      ]);
      expect((await queue.getTask(["charge:o-0", "charge:o-2"])).map((t) => t?.args)).toEqual([
        ["o-0", 1],
        ["o-2", 3],
      ]);
      expect(await queue.size()).toBe(4);
    });

    it("AE-5 a bad entry is refused with one line naming it, and nothing of the list is stored", async () => {
      const queue = h.queue();
      const good = { task: charge("o-1", 1), id: "charge:o-1" };
      const refused = async (
        list: unknown[],
        options: unknown,
        error: unknown,
        pattern: RegExp,
      ) => {
        const thrown = await queue
          .add(list as AddEntry[], options as undefined)
          .catch((e: unknown) => e);
        expect(thrown).toBeInstanceOf(error as typeof Error);
        expect((thrown as Error).message).toMatch(pattern);
        expect((thrown as Error).message).not.toContain("\n");
      };
      await refused(
        [good, notify("u")],
        undefined,
        InvalidTaskError,
        /^queue\.add\(\): item \[1\] is a Task in a list of entries; write it as \{ task \}/,
      );
      await refused(
        [good, "notify"],
        undefined,
        InvalidTaskError,
        /^queue\.add\(\): item \[1\] is string, not an entry \{ task, id\?, dedupe\?, at\?, priority\?, concurrency\? \}$/,
      );
      await refused(
        [good, { task: notify }],
        undefined,
        InvalidTaskError,
        /^queue\.add\(\): item \[1\]: task must be a Task; got a function \(call the task factory/,
      );
      await refused(
        [good, { task: notify("u"), dedup: { key: "k" } }],
        undefined,
        InvalidOptionError,
        /^queue\.add\(\): item \[1\]: unknown option 'dedup'; did you mean 'dedupe'\?/,
      );
      await refused(
        [good, { task: notify("u"), id: "a/b" }],
        undefined,
        InvalidOptionError,
        /^queue\.add\(\): item \[1\]: id must be 1–128 ASCII letters/,
      );
      await refused(
        [good, { task: notify("u"), at: "tomorrow" }],
        undefined,
        InvalidOptionError,
        /^queue\.add\(\): item \[1\]/,
      );
      await refused(
        [good, { task: notify("u"), priority: 1.5 }],
        undefined,
        InvalidOptionError,
        /^queue\.add\(\): item \[1\]: priority/,
      );
      await refused(
        [good, { task: notify("u"), dedupe: { key: "k", window: -1 } }],
        undefined,
        InvalidOptionError,
        /^queue\.add\(\): item \[1\]: dedupe\.window must be/,
      );
      await refused(
        [good],
        { id: "x" },
        InvalidOptionError,
        /^queue\.add\(\): id and dedupe go in each entry of a list/,
      );
      await refused([good], { priorty: 1 }, InvalidOptionError, /did you mean 'priority'\?/);
      // A BullMQ job's options, ported as they were, are told Sheppy's names.
      await refused(
        [good, { task: notify("u"), delay: 5000 }],
        undefined,
        InvalidOptionError,
        /^queue\.add\(\): item \[1\]: unknown option 'delay'; Sheppy's is 'at': a delay in seconds \(not milliseconds\)/,
      );
      await refused(
        [good, { task: notify("u"), jobId: "j-1" }],
        undefined,
        InvalidOptionError,
        /^queue\.add\(\): item \[1\]: unknown option 'jobId'; Sheppy's is 'id'$/,
      );
      // So are the options of one task's add.
      const single = (options: unknown) =>
        queue.add(notify("v"), options as undefined).then(
          () => new Error("added"),
          (e: unknown) => e as Error,
        );
      expect((await single({ delay: 5000 })).message).toBe(
        "queue.add(): unknown option 'delay'; a delayed add is queue.schedule(task, seconds) — seconds, not milliseconds — or a Date or ISO text with an offset",
      );
      // `at` is an entry's, and queue.schedule's argument: one task's add is told where it goes.
      expect((await single({ at: 5 })).message).toBe(
        "queue.add(): unknown option 'at'; a task added for later is queue.schedule(task, at): seconds from now, a Date or ISO text with an offset",
      );
      expect((await single({ removeOnComplete: true })).message).toMatch(
        /^queue\.add\(\): unknown option 'removeOnComplete'; retention is the task's \(or the backend's\) 'ttl'/,
      );
      expect((await single({ delya: 1 })).message).toMatch(
        /^queue\.add\(\): unknown option 'delya'/,
      );
      expect(await queue.size()).toBe(0);
      expect(await queue.getTask("charge:o-1")).toBeNull();
    });

    it("AE-6 entries are claimed by their own priorities", async () => {
      const queue = h.queue();
      await queue.add([
        { task: notify("low"), priority: -1 },
        { task: notify("high"), priority: 10 },
        { task: notify("default") },
      ]);
      const backend = await queue.connect();
      const claims = await backend.claim(queue.name, 3);
      expect(claims.map((claim) => claim.record.args[0])).toEqual(["high", "default", "low"]);
    });
  });
}
