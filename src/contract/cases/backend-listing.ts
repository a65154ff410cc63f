/**
 * `listTasks`: a queue's records newest first by creation time (ties by id,
 * the greater first in code point order), optionally of some statuses only,
 * a page at a time behind an opaque cursor. A walk returns every record
 * present throughout it exactly once, whatever else changes; a status few
 * records have is found however many others lie between them; a record keeps
 * its place as it runs, retries and is re-run; deleted, cleared and expired
 * records leave the listing; a cursor that no page returned is refused with
 * a clear error. How many records a call looks at is the backend's choice,
 * so pages are compared by what they hold together, never by their count.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Backend, ListTasksRequest, TaskPage } from "../../backends/backend.js";
import { compareTaskIds, creationTimeOf } from "../../backends/task-listing.js";
import { InvalidOptionError, type TaskData, task } from "../../index.js";
import { newWorkflowData } from "../../task/define-workflow.js";
import { TASK_STATUSES, type TaskStatus } from "../../task/task-record.js";
import type { WorkflowData } from "../../task/workflow-record.js";
import { TestClock } from "../../testing/index.js";
import type { ContractHarness } from "../harness.js";
import {
  finishedRecord,
  ids,
  iso,
  requeued,
  retryingRecord,
  scheduledRecord,
  settleClaim,
} from "../support/records.js";

const item = task({ name: "backend-listing.item" }, (n: number) => n);
const HOUR = 3_600_000;
/** Creation times of the records these cases make: an hour ago, a second apart. */
const BASE = Date.now() - HOUR;

/** A pending record created at `at`. */
const created = (at: number, extra: Partial<TaskData> = {}): TaskData => ({
  ...item(at).toJSON(),
  status: "pending",
  createdAt: iso(at),
  ...extra,
});

/** A running workflow waiting for its one step. */
function waitingOn(step: TaskData, now: number): WorkflowData {
  const record = newWorkflowData(randomUUID(), "backend-listing.flow", [], {}, now);
  const steps = [{ taskId: step.id, index: 0, yield: 0, name: step.name, argsHash: "h0" }];
  return { ...record, steps, pending: [step.id] };
}

/** `records` in listing order: newest first, equal times by id, the greater first. */
function newestFirst(records: readonly TaskData[]): string[] {
  return [...records]
    .sort((a, b) => creationTimeOf(b) - creationTimeOf(a) || compareTaskIds(b.id, a.id))
    .map((r) => r.id);
}

/** Every page of a walk from the start; each page holds at most `limit` records. */
async function walk(
  backend: Backend,
  q: string,
  request: Omit<ListTasksRequest, "cursor"> = {},
): Promise<{ ids: string[]; pages: TaskPage[] }> {
  const pages: TaskPage[] = [];
  let cursor: string | null = null;
  do {
    const page = await backend.listTasks(q, { ...request, cursor });
    expect(page.tasks.length).toBeLessThanOrEqual(request.limit ?? 100);
    pages.push(page);
    cursor = page.cursor;
    if (pages.length > 10_000) throw new Error("listTasks: the walk does not end");
  } while (cursor !== null);
  return { ids: pages.flatMap((p) => ids(p.tasks)), pages };
}

/** Claims every claimable record of `q` and settles each as `outcome` says. */
async function settleAll(
  backend: Backend,
  q: string,
  outcome: (record: TaskData) => TaskData,
  now = Date.now(),
): Promise<void> {
  const claims = await backend.claim(q, 10_000);
  const results = await backend.settle(
    q,
    claims.map((c) => ({
      fence: c.fence,
      record: outcome(c.record),
      children: [],
      expiresAt: null,
    })),
    now,
  );
  expect(results.every((r) => r === "settled")).toBe(true);
}

export function backendListingCases(h: ContractHarness): void {
  const setup = async (): Promise<{ backend: Backend; q: string; other: string }> => ({
    backend: await h.backend(),
    q: h.queue().name,
    other: h.queue().name,
  });

  describe("backend: listTasks", () => {
    it("LT-1 pages through every record newest first by creation time, equal times by id, whatever order they were added in", async () => {
      const { backend, q, other } = await setup();
      const spread = [3, 0, 7, 5, 1, 8, 2].map((k) => created(BASE + k * 1000));
      const crowded = Array.from({ length: 4 }, () => created(BASE + 4000));
      const records = [...spread.slice(0, 4), ...crowded, ...spread.slice(4)];
      await backend.add(q, records.slice(0, 6));
      await backend.add(q, records.slice(6));
      await backend.add(other, [created(BASE + 9000)]);
      const expected = newestFirst(records);

      const all = await backend.listTasks(q);
      expect(all.cursor).toBeNull();
      expect(ids(all.tasks)).toEqual(expected);
      const stored = await backend.getTasks(q, expected);
      expect(all.tasks).toEqual(expected.map((id) => stored.get(id)));

      const paged = await walk(backend, q, { limit: 4 });
      expect(paged.ids).toEqual(expected);
      expect(paged.pages.at(-1)?.cursor).toBeNull();
      expect(paged.pages.slice(0, -1).every((p) => p.cursor !== null)).toBe(true);

      const exact = await backend.listTasks(q, { limit: records.length });
      expect(ids(exact.tasks)).toEqual(expected);
      const [first] = (await backend.listTasks(q, { limit: 1 })).tasks;
      expect(first?.id).toBe(expected[0]);
      expect(ids((await backend.listTasks(other)).tasks)).toHaveLength(1);
      expect(await backend.listTasks("backend-listing-never-used")).toEqual({
        tasks: [],
        cursor: null,
      });
    });

    it("LT-2 a status filter finds the few matching records among many others, newest first, each once", async () => {
      const { backend, q } = await setup();
      const records = Array.from({ length: 303 }, (_, i) => created(BASE + i * 1000));
      const failing = new Set([records[10]!.id, records[150]!.id, records[290]!.id]);
      await backend.add(q, records);
      await settleAll(backend, q, (r) =>
        finishedRecord(r, failing.has(r.id) ? "failed" : "completed"),
      );
      const expectedFailed = newestFirst(records.filter((r) => failing.has(r.id)));

      const failed = await walk(backend, q, { statuses: ["failed"], limit: 2 });
      expect(failed.ids).toEqual(expectedFailed);
      for (const page of failed.pages) {
        expect(page.tasks.every((t) => t.status === "failed")).toBe(true);
      }
      const completed = await walk(backend, q, { statuses: ["completed"], limit: 100 });
      expect(completed.ids).toEqual(newestFirst(records.filter((r) => !failing.has(r.id))));
      const both = await walk(backend, q, { statuses: ["failed", "completed"], limit: 50 });
      expect(both.ids).toEqual(newestFirst(records));
      expect((await walk(backend, q, { statuses: ["pending"], limit: 10 })).ids).toEqual([]);
      expect(await backend.listTasks(q, { statuses: [] })).toEqual({ tasks: [], cursor: null });
    });

    it("LT-3 every status filters as getTasks reads the status: waiting, claimed, retrying, put off, promoted and finished records", async () => {
      const { backend, q } = await setup();
      const now = Date.now();
      const at = (k: number) => BASE + k * 1000;
      // Claimed in this order, each then settled as below (or left claimed).
      const claimed = [created(at(1)), created(at(2)), created(at(3)), created(at(4))];
      const crashed = created(at(5));
      const dueNow = created(at(6));
      await backend.add(q, [...claimed, crashed, dueNow]);
      const claims = await backend.claim(q, 6);
      const byId = new Map(claims.map((c) => [c.record.id, c]));
      const [retrying, putOff, failed, processing] = claimed;
      const settled = await backend.settle(
        q,
        [
          [retrying!, retryingRecord(byId.get(retrying!.id)!.record, now + HOUR)],
          [putOff!, scheduledRecord(byId.get(putOff!.id)!.record, now + HOUR)],
          [failed!, finishedRecord(byId.get(failed!.id)!.record, "failed")],
          [crashed, finishedRecord(byId.get(crashed.id)!.record, "crashed")],
          // A retry whose time has come is stored claimable at once.
          [dueNow, retryingRecord(byId.get(dueNow.id)!.record, now - 1000)],
        ].map(([given, record]) => ({
          fence: byId.get(given!.id)!.fence,
          record: record!,
          children: [],
          expiresAt: null,
        })),
        now,
      );
      expect(settled).toEqual(Array(5).fill("settled"));
      const pending = created(at(7));
      const scheduled = scheduledRecord(created(at(8)), now + HOUR);
      const promoted = scheduledRecord(created(at(9)), now + 1000);
      const cancelled = created(at(10));
      const completed = created(at(11));
      await backend.add(q, [pending, scheduled, promoted, cancelled]);
      await backend.promoteDue(q, now + 2000);
      expect(await backend.cancel(q, cancelled.id, { at: now, expiresAt: null })).not.toBeNull();
      await backend.add(q, [completed]);
      const all = [...claimed, crashed, dueNow, pending, scheduled, promoted, cancelled, completed];
      // Everything claimable runs once: `completed` completes, the rest are put back as they were.
      const claimable = await backend.getPending(q, 10);
      for (const claim of await backend.claim(q, claimable.length)) {
        if (claim.record.id === completed.id) await settleClaim(backend, q, claim);
        else await settleClaim(backend, q, claim, requeued(claim.record));
      }

      const stored = await backend.getTasks(q, ids(all));
      const statusOf = (id: string) => stored.get(id)!.status;
      expect(statusOf(processing!.id)).toBe("processing");
      expect(statusOf(retrying!.id)).toBe("retrying");
      expect(statusOf(putOff!.id)).toBe("scheduled");
      expect(statusOf(dueNow.id)).toBe("pending");
      expect(statusOf(promoted.id)).toBe("pending");
      expect(statusOf(cancelled.id)).toBe("cancelled");
      for (const status of TASK_STATUSES) {
        const expected = newestFirst(all.filter((r) => statusOf(r.id) === status));
        const found = await walk(backend, q, { statuses: [status], limit: 2 });
        expect(found.ids, status).toEqual(expected);
      }
      const mixed: TaskStatus[] = ["scheduled", "retrying", "cancelled"];
      expect((await walk(backend, q, { statuses: mixed, limit: 3 })).ids).toEqual(
        newestFirst(all.filter((r) => mixed.includes(statusOf(r.id)))),
      );
    });

    it("LT-4 a record keeps its place as it runs, retries, is put off and is re-run; a replacement created at another time moves", async () => {
      const { backend, q } = await setup();
      const records = Array.from({ length: 5 }, (_, i) => created(BASE + i * 1000));
      const expected = newestFirst(records);
      const middle = records[2]!;
      await backend.add(q, [middle]);
      await backend.add(
        q,
        records.filter((r) => r !== middle),
      );
      const order = async () => (await walk(backend, q, { limit: 2 })).ids;

      const [claim] = await backend.claim(q, 1);
      expect(claim?.record.id).toBe(middle.id);
      expect(await order()).toEqual(expected);
      const now = Date.now();
      await settleClaim(backend, q, claim!, retryingRecord(claim!.record, now + HOUR), { now });
      expect(await order()).toEqual(expected);
      expect(await backend.promoteDue(q, now + 2 * HOUR)).toEqual([middle.id]);
      // The four others were added after it; the promoted retry is claimable after them.
      const claims = await backend.claim(q, 5);
      const again = claims.find((c) => c.record.id === middle.id)!;
      await settleClaim(backend, q, again, scheduledRecord(again.record, now + HOUR), { now });
      expect(await order()).toEqual(expected);
      await backend.promoteDue(q, now + 2 * HOUR);
      const [third] = (await backend.claim(q, 5)).filter((c) => c.record.id === middle.id);
      await settleClaim(backend, q, third!, finishedRecord(third!.record, "failed"));
      expect(await order()).toEqual(expected);

      // A re-run by hand replaces the record, keeping its creation time.
      const failed = (await backend.getTasks(q, [middle.id])).get(middle.id)!;
      const rerun: TaskData = { ...failed, status: "pending", finishedAt: null, startedAt: null };
      expect(await backend.add(q, [rerun], "replace")).toEqual([true]);
      expect(await order()).toEqual(expected);

      const newest = { ...rerun, createdAt: iso(BASE + 60_000) };
      expect(await backend.add(q, [newest], "replace")).toEqual([true]);
      expect(await order()).toEqual([middle.id, ...expected.filter((id) => id !== middle.id)]);
    });

    it("LT-5 deleted, expired, bounded and cleared records leave the listing; chained tasks and workflow steps join it", async () => {
      const clock = new TestClock(BASE + 100_000);
      const queue = h.queue({ clock, maxFinished: 3 });
      const { backend, name: q } = queue;
      await backend.connect();
      const records = Array.from({ length: 6 }, (_, i) => created(BASE + i * 1000));
      await backend.add(q, records);
      const claims = await backend.claim(q, 6);
      const expiry = (i: number) => (i < 4 ? clock.now() + (i + 1) * 1000 : null);
      const results = await backend.settle(
        q,
        claims.map((c, i) => ({
          fence: c.fence,
          record: finishedRecord(c.record),
          // The newest one chains a task created after it.
          children: i === 5 ? [created(BASE + 10_000)] : [],
          expiresAt: expiry(i),
        })),
        clock.now(),
      );
      expect(results).toEqual(Array(6).fill("settled"));
      const listed = async () => (await walk(backend, q, { limit: 2 })).ids;
      // maxFinished 3: of the four that expire, the one due soonest is deleted at once.
      const child = (await listed())[0]!;
      expect((await backend.getTasks(q, [child])).get(child)?.name).toBe(item.taskName);
      expect(await listed()).toEqual([child, ...newestFirst(records.slice(1))]);

      expect(await backend.deleteTask(q, records[5]!.id)).toBe(true);
      expect(await listed()).toEqual([child, ...newestFirst(records.slice(1, 5))]);
      // Expired but not yet pruned: already gone for readers.
      await clock.advanceTo(clock.now() + 3000);
      expect(await listed()).toEqual([child, ...newestFirst([records[3]!, records[4]!])]);
      await backend.pruneExpired(q, clock.now());
      expect(await listed()).toEqual([child, ...newestFirst([records[3]!, records[4]!])]);

      const [childClaim] = await backend.claim(q, 5);
      expect(childClaim?.record.id).toBe(child);
      // Settled at the test clock's time: a settle may prune what has expired by its `now`.
      const childEnd = finishedRecord(childClaim!.record);
      const now = clock.now();
      expect(await settleClaim(backend, q, childClaim!, childEnd, { now })).toBe("settled");

      // A step's end adds its workflow's resume task; so does cancelling a step.
      const [stepA, stepB] = [created(BASE + 20_000), created(BASE + 21_000)];
      const [resumeA, resumeB] = [created(BASE + 30_000), created(BASE + 31_000)];
      const flowA = waitingOn(stepA, clock.now());
      expect(await backend.addWorkflow(q, flowA, [stepA], null)).toBe(true);
      const [stepClaim] = await backend.claim(q, 5);
      expect(stepClaim?.record.id).toBe(stepA.id);
      const [stepSettled] = await backend.settle(
        q,
        [
          {
            fence: stepClaim!.fence,
            record: finishedRecord(stepClaim!.record),
            children: [],
            expiresAt: null,
            workflowStep: { workflowId: flowA.id, resume: resumeA },
          },
        ],
        clock.now(),
      );
      expect(stepSettled).toBe("settled");
      const flowB = waitingOn(stepB, clock.now());
      expect(await backend.addWorkflow(q, flowB, [stepB], null)).toBe(true);
      const workflowStep = { workflowId: flowB.id, resume: resumeB };
      const cancelled = await backend.cancel(q, stepB.id, {
        at: clock.now(),
        expiresAt: null,
        workflowStep,
      });
      expect(cancelled?.status).toBe("cancelled");
      expect(await listed()).toEqual([
        ...newestFirst([resumeA, resumeB, stepA, stepB]),
        child,
        ...newestFirst([records[3]!, records[4]!]),
      ]);

      expect(await backend.clear(q)).toBeGreaterThan(0);
      expect(await backend.listTasks(q)).toEqual({ tasks: [], cursor: null });
      const fresh = created(BASE);
      await backend.add(q, [fresh]);
      expect(await listed()).toEqual([fresh.id]);
    });

    it("LT-6 a walk resumes after its cursor's place even when that record is gone, and never repeats one", async () => {
      const { backend, q, other } = await setup();
      const spread = Array.from({ length: 8 }, (_, i) => created(BASE + i * 1000));
      const crowded = Array.from({ length: 6 }, () => created(BASE + 20_000));
      await backend.add(q, [...spread, ...crowded]);
      await settleAll(backend, q, (r) => finishedRecord(r));
      const expected = newestFirst([...spread, ...crowded]);

      // The cursor's record, and the one after it, are deleted between pages.
      const first = await backend.listTasks(q, { limit: 2 });
      expect(ids(first.tasks)).toEqual(expected.slice(0, 2));
      await backend.deleteTask(q, expected[1]!);
      await backend.deleteTask(q, expected[2]!);
      const second = await backend.listTasks(q, { cursor: first.cursor, limit: 3 });
      expect(ids(second.tasks)).toEqual(expected.slice(3, 6));
      // The same cursor gives the same page again.
      expect(await backend.listTasks(q, { cursor: first.cursor, limit: 3 })).toEqual(second);

      // Across the last of the crowded millisecond and into the spread times.
      await backend.deleteTask(q, expected[5]!);
      const third = await backend.listTasks(q, { cursor: second.cursor, limit: 2 });
      expect(ids(third.tasks)).toEqual(expected.slice(6, 8));

      // Records added meanwhile are newer than the cursor: not seen; the rest comes once.
      await backend.add(q, [created(Date.now()), created(Date.now() + 1)]);
      const rest: string[] = [];
      let cursor = third.cursor;
      while (cursor !== null) {
        const page = await backend.listTasks(q, { cursor, limit: 3 });
        rest.push(...ids(page.tasks));
        cursor = page.cursor;
      }
      expect(rest).toEqual(expected.slice(8));

      // A cursor names a place in the order, so it is good on another queue too.
      const elsewhere = await backend.listTasks(other, { cursor: first.cursor });
      expect(elsewhere).toEqual({ tasks: [], cursor: null });
    });

    it("LT-7 a cursor no page returned, a bad limit or an unknown status is a one-line InvalidOptionError", async () => {
      const { backend, q } = await setup();
      await backend.add(q, [created(BASE), created(BASE + 1000)]);
      const { cursor } = await backend.listTasks(q, { limit: 1 });
      expect(cursor).not.toBeNull();
      const hostile: unknown[] = [
        "",
        "garbage",
        "12",
        `${cursor}x=`,
        `${cursor}\n`,
        cursor!.replace(".", ".."),
        `99999999999999999.${cursor!.split(".")[1]}`,
        "1.",
        ".YQ",
        "1.YR",
        "1.wA",
        `1.${"A".repeat(20_000)}`,
        "\u0000\u2028".repeat(50),
        // Ids that decode to the NUL character, which no stored id holds (and PostgreSQL cannot be asked about).
        "1796251087592.AA",
        "1796251087592.AAAA",
        `1796251087592.${Buffer.from("a\u0000b").toString("base64url")}`,
        12,
        {},
        [],
      ];
      for (const bad of hostile) {
        const call = backend.listTasks(q, { cursor: bad as string });
        await expect(call, String(typeof bad)).rejects.toThrow(InvalidOptionError);
        const message = await call.then(String, (error: Error) => error.message);
        expect(message).not.toMatch(/[\n\r\u2028\u2029]/);
        expect(message.length).toBeLessThan(300);
      }
      for (const limit of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "10"]) {
        await expect(backend.listTasks(q, { limit: limit as number })).rejects.toThrow(
          /limit must be an integer/,
        );
      }
      await expect(backend.listTasks(q, { statuses: ["bogus" as TaskStatus] })).rejects.toThrow(
        InvalidOptionError,
      );
      expect(ids((await backend.listTasks(q, { cursor })).tasks)).toHaveLength(1);
    });

    it("LT-8 a long run of records of other statuses between two matches costs pages, not a missed match", async () => {
      const { backend, q } = await setup();
      const oldest = created(BASE);
      await backend.add(q, [oldest]);
      await settleAll(backend, q, (r) => finishedRecord(r, "failed"));
      const filler = Array.from({ length: 5200 }, (_, i) => created(BASE + 1000 + i));
      await backend.add(q, filler);
      const newest = created(BASE + 10_000);
      await backend.add(q, [newest]);
      await settleAll(backend, q, (r) =>
        finishedRecord(r, r.id === newest.id ? "failed" : "completed"),
      );
      const failed = await walk(backend, q, { statuses: ["failed"], limit: 10 });
      expect(failed.ids).toEqual([newest.id, oldest.id]);
      expect((await walk(backend, q, { limit: 1000 })).ids).toHaveLength(5202);
    });

    it("LT-9 a page with only deleted records older than it is the last: its cursor is null", async () => {
      const { backend, q } = await setup();
      const [gone, a, b] = [created(BASE), created(BASE + 1000), created(BASE + 2000)];
      await backend.add(q, [gone]);
      await settleAll(backend, q, (r) => finishedRecord(r, "failed"));
      expect(await backend.deleteTask(q, gone.id)).toBe(true);
      await backend.add(q, [a, b]);
      await settleAll(backend, q, (r) => finishedRecord(r, "failed"));
      for (const request of [{ limit: 2 }, { limit: 2, statuses: ["failed" as const] }]) {
        const page = await backend.listTasks(q, request);
        expect(page.tasks.map((t) => t.id)).toEqual([b.id, a.id]);
        expect(page.cursor).toBeNull();
      }
    });
  });
}
