/**
 * Dead letters and redrive: `queue.listTasks({ status, cursor, limit })`
 * pages newest first (narrowed by name, key, error text or finish time), and `queue.retryAll({ status, since })` re-queues
 * finished tasks a batch at a time — each once, never one a worker is
 * running, and nothing that is not of the statuses asked for.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  currentTask,
  InvalidOptionError,
  type Queue,
  type Task,
  TaskStateError,
  task,
} from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { logOf } from "../support/event-log.js";
import { finishedRecord, settleClaim } from "../support/records.js";
import { PerTest, sleep, until } from "../support/until.js";

/** Per test token: runs per task id, and how often a run started while another of the same id ran. */
const runs = new PerTest(() => ({
  count: new Map<string, number>(),
  running: new Set<string>(),
  overlaps: 0,
}));

async function run(token: string, failFirst: boolean): Promise<number> {
  const state = runs.get(token);
  const { id } = currentTask();
  if (state.running.has(id)) state.overlaps += 1;
  state.running.add(id);
  try {
    await sleep(1);
    const n = (state.count.get(id) ?? 0) + 1;
    state.count.set(id, n);
    if (failFirst && n === 1) throw new Error("the first run fails");
    return n;
  } finally {
    state.running.delete(id);
  }
}

/** Fails on its first run, succeeds on every later one. */
const failFirst = task({ name: "redrive.failFirst" }, (token: string) => run(token, true));
const succeed = task({ name: "redrive.succeed" }, (token: string) => run(token, false));
/** Fails on its first run too, under another name: what a redrive by name leaves alone. */
const alsoFailsFirst = task({ name: "redrive.alsoFailsFirst" }, (token: string) =>
  run(token, true),
);
/** Fails, then waits a minute for its automatic retry. */
const retryLater = task({ name: "redrive.retryLater", retry: 1, retryDelay: 60 }, () => {
  throw new Error("fails");
});

/** Every page of `status`'s tasks, walked `limit` at a time: the ids of each page. */
async function pagesOf(
  queue: Queue,
  status: Parameters<Queue["listTasks"]>[0],
): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page = await queue.listTasks({ ...status, cursor });
    pages.push(page.tasks.map((t) => t.id));
    cursor = page.cursor;
  } while (cursor !== null);
  return pages;
}

const idsOf = (tasks: readonly Task[]) => tasks.map((t) => t.id);

export function redriveCases(h: ContractHarness): void {
  describe("dead letters and redrive", () => {
    it("a redrive of 1,000 failed tasks re-queues each once, reports 1,000, and a worker then completes them", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const tasks = Array.from({ length: 1000 }, () => failFirst(token));
      await queue.add(tasks);
      const first = await h.worker(queue, { concurrency: 100 }).work({ maxTasks: 1000 });
      expect(first).toMatchObject({ processed: 0, failed: 1000 });
      expect((await queue.stats()).failed).toBe(1000);

      expect(await queue.retryAll({ status: "failed" })).toEqual({
        retried: 1000,
        skipped: 0,
        endedWorkflowSteps: 0,
      });
      expect(await queue.size()).toBe(1000);
      const requeued = await queue.getTask(tasks);
      expect(requeued.every((t) => t?.status === "pending" && t.manualRetryCount === 1)).toBe(true);
      expect(requeued.every((t) => t?.finishedAt === null && t.startedAt === null)).toBe(true);
      // Nothing left to redrive.
      expect(await queue.retryAll()).toEqual({ retried: 0, skipped: 0, endedWorkflowSteps: 0 });

      const second = await h.worker(queue, { concurrency: 100 }).work({ maxTasks: 1000 });
      expect(second).toMatchObject({ processed: 1000, failed: 0 });
      const done = await queue.getTask(tasks);
      expect(done.every((t) => t?.status === "completed" && t.result === 2)).toBe(true);
      expect([...runs.get(token).count.values()].every((n) => n === 2)).toBe(true);
      expect(runs.get(token).overlaps).toBe(0);
    });

    it("a redrive re-queues a page's tasks oldest first: they are claimed in the order they were first added", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const tasks = Array.from({ length: 5 }, () => failFirst(token));
      for (const t of tasks) await queue.add(t);
      const first = await h.worker(queue, { concurrency: 1 }).work({ maxTasks: 5 });
      expect(first).toMatchObject({ failed: 5 });
      expect((await queue.retryAll()).retried).toBe(5);
      expect((await queue.getPending(10)).map((t) => t.id)).toEqual(idsOf(tasks));
    });

    it("`error` takes only the failures whose stored error mentions a text, in its type or message; `before` only those that finished before a time", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const token = randomUUID();
      const tasks = [failFirst(token), failFirst(token), failFirst(token), failFirst(token)];
      const errors = [
        { type: "HttpError", message: "503 Service Unavailable" },
        { type: "HttpError", message: "503 Service Unavailable" },
        { type: "ECONNRESET", message: "socket hang up" },
        { type: "TypeError", message: "card is undefined" },
      ];
      await queue.add(tasks);
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      for (const claim of await backend.claim(queue.name, 4)) {
        const at = tasks.findIndex((t) => t.id === claim.record.id);
        await settleClaim(backend, queue.name, claim, {
          ...finishedRecord(claim.record, "failed"),
          error: { ...errors[at]!, stack: null, cause: null },
          // The first one failed an hour ago.
          ...(at === 0 ? { finishedAt: hourAgo } : {}),
        });
      }
      expect(await queue.retryAll({ error: "503", before: 60 })).toMatchObject({ retried: 1 });
      expect((await queue.getTask(tasks[0]!))?.status).toBe("pending");
      expect(await queue.retryAll({ error: "ECONNRESET" })).toMatchObject({ retried: 1 });
      expect(await queue.retryAll({ error: "Unavailable" })).toMatchObject({ retried: 1 });
      const left = await queue.getTask(tasks);
      expect(left.map((t) => t?.status)).toEqual(["pending", "pending", "pending", "failed"]);
      expect(await queue.deleteAll({ error: "card" })).toEqual({ deleted: 1, skipped: 0 });
      for (const error of ["", "  ", 5]) {
        await expect(queue.retryAll({ error: error as string })).rejects.toThrow(
          /queue\.retryAll\(\): error must be text \(not only spaces\)/,
        );
      }
      // A window nothing can have finished in is a mistake, said so, not zero tasks.
      await expect(queue.retryAll({ since: 600, before: 3600 })).rejects.toThrow(
        /queue\.retryAll\(\): the window is empty: since .* is not before before /,
      );
      await expect(queue.deleteAll({ since: new Date(Date.now() + 3_600_000) })).rejects.toThrow(
        /queue\.deleteAll\(\): since .* is in the future/,
      );
      expect(await queue.getTask(tasks[3]!)).toBeNull();
    });

    it("`since` takes only tasks that finished at or after it: a Date, ISO text with an offset, or seconds before now", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const early = [failFirst(token), failFirst(token)];
      await queue.add(early);
      await h.worker(queue).work({ maxTasks: 2 });
      await sleep(5);
      const cut = new Date();
      await sleep(5);
      const late = [failFirst(token), failFirst(token), failFirst(token)];
      await queue.add(late);
      await h.worker(queue).work({ maxTasks: 3 });

      expect(await queue.retryAll({ since: cut })).toEqual({
        retried: 3,
        skipped: 0,
        endedWorkflowSteps: 0,
      });
      expect(idsOf(await queue.getPending(10)).sort()).toEqual(idsOf(late).sort());
      expect(await queue.retryAll({ since: cut.toISOString() })).toEqual({
        retried: 0,
        skipped: 0,
        endedWorkflowSteps: 0,
      });
      expect(await queue.retryAll({ since: 3600 })).toEqual({
        retried: 2,
        skipped: 0,
        endedWorkflowSteps: 0,
      });
      expect(await queue.size()).toBe(5);

      for (const since of ["2030-01-01T09:00", -1, Number.NaN, new Date(Number.NaN), "1h"]) {
        await expect(queue.retryAll({ since })).rejects.toThrow(InvalidOptionError);
      }
      await expect(queue.retryAll({ since: "2 days" })).rejects.toThrow(
        /'2 days'.*a number of seconds \(e\.g\. 3600 for the last hour\)/,
      );
    });

    it("listTasks pages newest first, of one status or several, with full pages until the last", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const made = Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? succeed : failFirst)(token));
      await queue.add(made);
      await h.worker(queue).work({ maxTasks: 12 });
      const newestFirst = idsOf(made).reverse();
      const failed = idsOf(made.filter((t) => t.name === "redrive.failFirst")).reverse();

      const pages = await pagesOf(queue, { status: "failed", limit: 3 });
      expect(pages.flat()).toEqual(failed);
      expect(pages.slice(0, 2).map((p) => p.length)).toEqual([3, 3]);
      expect(pages.slice(2).flat()).toHaveLength(2);

      const both = await queue.listTasks({ status: ["failed", "completed"], limit: 100 });
      expect(idsOf(both.tasks)).toEqual(newestFirst);
      expect(both.cursor).toBeNull();
      expect(idsOf((await queue.listTasks()).tasks)).toEqual(newestFirst);
      const [top] = (await queue.listTasks({ status: "completed", limit: 1 })).tasks;
      expect(top?.id).toBe(made[9]!.id);
      expect(top?.result).toBe(1);
      expect(await queue.listTasks({ status: "pending" })).toEqual({ tasks: [], cursor: null });

      await expect(queue.listTasks({ status: "bogus" as never })).rejects.toThrow(
        InvalidOptionError,
      );
      await expect(queue.listTasks({ limit: 0 })).rejects.toThrow(InvalidOptionError);
    });

    it("`name` narrows listTasks and retryAll to tasks of those names: a fix for one task redrives that task alone", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const made = Array.from({ length: 9 }, (_, i) =>
        [failFirst, alsoFailsFirst, succeed][i % 3]!(token),
      );
      await queue.add(made);
      await h.worker(queue).work({ maxTasks: 9 });
      const named = (name: string) => idsOf(made.filter((t) => t.name === name)).reverse();

      // Full pages however few of the walk's tasks have the name.
      const pages = await pagesOf(queue, { name: "redrive.alsoFailsFirst", limit: 2 });
      expect(pages.flat()).toEqual(named("redrive.alsoFailsFirst"));
      expect(pages[0]).toHaveLength(2);
      const two = await queue.listTasks({
        name: ["redrive.failFirst", "redrive.succeed"],
        status: "failed",
      });
      expect(idsOf(two.tasks)).toEqual(named("redrive.failFirst"));
      expect((await queue.listTasks({ name: "redrive.nothing-by-this-name" })).tasks).toEqual([]);

      expect(await queue.retryAll({ name: "redrive.failFirst" })).toEqual({
        retried: 3,
        skipped: 0,
        endedWorkflowSteps: 0,
      });
      expect(idsOf(await queue.getPending(10)).sort()).toEqual(named("redrive.failFirst").sort());
      // The other name's failures stay as they were.
      const others = await queue.getTask(made.filter((t) => t.name === "redrive.alsoFailsFirst"));
      expect(others.map((t) => t?.status)).toEqual(["failed", "failed", "failed"]);

      for (const name of ["", 7, [""], null, []]) {
        await expect(queue.listTasks({ name: name as never })).rejects.toThrow(
          /queue\.listTasks\(\): name must be a task name or a list of them/,
        );
        await expect(queue.retryAll({ name: name as never })).rejects.toThrow(
          /queue\.retryAll\(\): name must be a task name or a list of them/,
        );
      }
    });

    it("`concurrencyKey` narrows listTasks and retryAll to one tenant's tasks (or several tenants'); tasks without a key never match", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const tenants = ["tenant:acme", "tenant:globex", "tenant:a,b"];
      const made = Array.from({ length: 9 }, () => failFirst(token));
      await queue.add(
        made
          .slice(0, 6)
          .map((t, i) => ({ task: t, concurrency: { key: tenants[i % 3]!, limit: 5 } })),
      );
      await queue.add(made.slice(6));
      await h.worker(queue).work({ maxTasks: 9 });
      const ofTenant = (...keys: string[]) =>
        idsOf(made.filter((_, i) => i < 6 && keys.includes(tenants[i % 3]!))).reverse();

      const pages = await pagesOf(queue, { concurrencyKey: "tenant:globex", limit: 1 });
      expect(pages.flat()).toEqual(ofTenant("tenant:globex"));
      expect(pages[0]).toHaveLength(1);
      // A key is matched whole: a comma in it is part of it.
      const two = await queue.listTasks({
        concurrencyKey: ["tenant:acme", "tenant:a,b"],
        status: "failed",
        name: "redrive.failFirst",
      });
      expect(idsOf(two.tasks)).toEqual(ofTenant("tenant:acme", "tenant:a,b"));
      expect((await queue.listTasks({ concurrencyKey: "tenant:nobody" })).tasks).toEqual([]);

      expect(await queue.retryAll({ concurrencyKey: "tenant:acme" })).toEqual({
        retried: 2,
        skipped: 0,
        endedWorkflowSteps: 0,
      });
      expect(idsOf(await queue.getPending(10)).sort()).toEqual(ofTenant("tenant:acme").sort());
      expect((await queue.stats()).failed).toBe(7);

      for (const key of ["", 7, [""], null, []]) {
        await expect(queue.listTasks({ concurrencyKey: key as never })).rejects.toThrow(
          /queue\.listTasks\(\): concurrencyKey must be a concurrency key or a list of them/,
        );
        await expect(queue.retryAll({ concurrencyKey: key as never })).rejects.toThrow(
          /queue\.retryAll\(\): concurrencyKey must be a concurrency key or a list of them/,
        );
      }
    });

    it("listTasks finds the tasks added under a dedupe key, those whose stored error mentions a text, and those that finished in a window", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const token = randomUUID();
      const failing = [failFirst(token), failFirst(token), failFirst(token)];
      const errors = [
        { type: "HttpError", message: "503 Service Unavailable" },
        { type: "ECONNRESET", message: "socket hang up" },
        { type: "HttpError", message: "503 Service Unavailable" },
      ];
      await queue.add(failing);
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      for (const claim of await backend.claim(queue.name, 3)) {
        const at = failing.findIndex((t) => t.id === claim.record.id);
        await settleClaim(backend, queue.name, claim, {
          ...finishedRecord(claim.record, "failed"),
          error: { ...errors[at]!, stack: null, cause: null },
          // The last one failed an hour ago.
          ...(at === 2 ? { finishedAt: hourAgo } : {}),
        });
      }
      const keyed = succeed(token);
      const other = succeed(token);
      expect(await queue.add(keyed, { dedupe: { key: "reindex:42" } })).toMatchObject({
        outcome: "added",
      });
      await queue.add(other, { dedupe: { key: "reindex:4,2" } });
      expect(await queue.add(succeed(token), { dedupe: { key: "reindex:42" } })).toEqual({
        outcome: "ignored",
        id: keyed.id,
      });
      const listed = async (options: Parameters<Queue["listTasks"]>[0]) =>
        idsOf((await queue.listTasks(options)).tasks);
      const [first, second, third] = idsOf(failing);

      // A key is matched whole: a comma in it is part of it.
      expect(await listed({ dedupeKey: "reindex:42" })).toEqual([keyed.id]);
      expect(await listed({ dedupeKey: ["reindex:42", "reindex:4,2"] })).toEqual([
        other.id,
        keyed.id,
      ]);
      expect(await listed({ dedupeKey: "reindex:4" })).toEqual([]);
      expect(await listed({ error: "503" })).toEqual([third, first]);
      expect(await listed({ error: "ECONNRESET", status: "failed" })).toEqual([second]);
      // A task not finished is in no window; full pages however few match.
      expect(await listed({ since: 600 })).toEqual([second, first]);
      expect(await listed({ before: 600, limit: 1 })).toEqual([third]);
      expect(await listed({ since: new Date(Date.now() - 7_200_000), before: 600 })).toEqual([
        third,
      ]);
      expect(await listed({ error: "503", since: 600, name: "redrive.failFirst" })).toEqual([
        first,
      ]);

      for (const dedupeKey of ["", [], [7]]) {
        await expect(queue.listTasks({ dedupeKey: dedupeKey as never })).rejects.toThrow(
          /queue\.listTasks\(\): dedupeKey must be a dedupe key or a list of them/,
        );
      }
      await expect(queue.listTasks({ error: "  " })).rejects.toThrow(
        /queue\.listTasks\(\): error must be text \(not only spaces\)/,
      );
      await expect(queue.listTasks({ since: 600, before: 3600 })).rejects.toThrow(
        /queue\.listTasks\(\): the window is empty/,
      );
    });

    it("a task that is not of the statuses asked for is untouched: pending, scheduled, running, retrying, completed; crashed and cancelled only when named", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const token = randomUUID();

      const crashed = succeed(token);
      await queue.add(crashed);
      const [crashClaim] = await backend.claim(queue.name, 1);
      await settleClaim(
        backend,
        queue.name,
        crashClaim!,
        finishedRecord(crashClaim!.record, "crashed"),
      );
      const running = succeed(token);
      await queue.add(running);
      expect((await backend.claim(queue.name, 1)).map((c) => c.record.id)).toEqual([running.id]);

      const failed = failFirst(token);
      const completed = succeed(token);
      const retrying = retryLater();
      await queue.add([failed, completed, retrying]);
      await h.worker(queue).work({ maxTasks: 3 });
      const cancelled = succeed(token);
      await queue.add(cancelled);
      await queue.cancel(cancelled);
      const pending = succeed(token);
      await queue.add(pending);
      const scheduled = succeed(token);
      await queue.schedule(scheduled, 3600);

      const others = [crashed, running, completed, retrying, cancelled, pending, scheduled];
      const before = (await queue.getTask(others)).map((t) => t?.toJSON());
      expect(before.map((t) => t?.status)).toEqual([
        "crashed",
        "processing",
        "completed",
        "retrying",
        "cancelled",
        "pending",
        "scheduled",
      ]);
      expect(await queue.retryAll()).toEqual({ retried: 1, skipped: 0, endedWorkflowSteps: 0 });
      expect((await queue.getTask(failed))?.status).toBe("pending");
      expect((await queue.getTask(others)).map((t) => t?.toJSON())).toEqual(before);

      expect(await queue.retryAll({ status: ["crashed", "cancelled"] })).toEqual({
        retried: 2,
        skipped: 0,
        endedWorkflowSteps: 0,
      });
      const redriven = await queue.getTask([crashed, cancelled]);
      expect(redriven.map((t) => [t?.status, t?.manualRetryCount])).toEqual([
        ["pending", 1],
        ["pending", 1],
      ]);
      for (const status of ["completed", "pending", "processing", "bogus"]) {
        await expect(queue.retryAll({ status: status as never })).rejects.toThrow(
          InvalidOptionError,
        );
      }
      await expect(queue.retryAll({ batchSize: 0 })).rejects.toThrow(InvalidOptionError);
    });

    it("a task that changed after the listing is skipped, not re-queued: deleted, retried and claimed, or retried or claimed just before the re-queue", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const token = randomUUID();
      const [deleted, claimedEarly, claimedLate, retriedLate] = [
        failFirst(token),
        failFirst(token),
        failFirst(token),
        failFirst(token),
      ];
      await queue.add([deleted, claimedEarly, claimedLate, retriedLate]);
      await h.worker(queue).work({ maxTasks: 4 });
      expect((await queue.stats()).failed).toBe(4);

      // After the redrive has listed the page: one task deleted, one retried and claimed by a worker.
      let afterListing = true;
      let beforeReplace = false;
      const listTasks = backend.listTasks.bind(backend);
      backend.listTasks = async (name, request) => {
        const page = await listTasks(name, request);
        if (afterListing) {
          afterListing = false;
          await queue.delete(deleted);
          await queue.retry(claimedEarly);
          expect((await backend.claim(queue.name, 1)).map((c) => c.record.id)).toEqual([
            claimedEarly.id,
          ]);
          beforeReplace = true;
        }
        return page;
      };
      // After it has read the page again: the last one retried and claimed too.
      const getTasks = backend.getTasks.bind(backend);
      backend.getTasks = async (name, ids) => {
        const found = await getTasks(name, ids);
        if (beforeReplace && ids.includes(claimedLate.id)) {
          beforeReplace = false;
          await queue.retry(claimedLate);
          expect((await backend.claim(queue.name, 1)).map((c) => c.record.id)).toEqual([
            claimedLate.id,
          ]);
          // Re-queued by someone else and still waiting: not finished, so not re-queued again.
          await queue.retry(retriedLate);
        }
        return found;
      };

      expect(await queue.retryAll()).toEqual({ retried: 0, skipped: 4, endedWorkflowSteps: 0 });
      expect(await queue.getTask(deleted)).toBeNull();
      const after = await queue.getTask([claimedEarly, claimedLate, retriedLate]);
      expect(after.map((t) => [t?.status, t?.manualRetryCount])).toEqual([
        ["processing", 1],
        ["processing", 1],
        ["pending", 1],
      ]);
    });

    it("redrives from two processes at once re-queue each task once: one counts it retried, the other skipped or not at all", async () => {
      const queue = h.queue();
      const token = randomUUID();
      await queue.add(Array.from({ length: 60 }, () => failFirst(token)));
      await h.worker(queue, { concurrency: 20 }).work({ maxTasks: 60 });
      expect((await queue.stats()).failed).toBe(60);

      const other = h.sibling(queue);
      const [a, b] = await Promise.all([
        queue.retryAll({ batchSize: 5 }),
        other.retryAll({ batchSize: 5 }),
      ]);
      expect(a.retried + b.retried).toBe(60);
      // A caller counts as skipped what it listed before the other re-queued it; a task
      // re-queued before its page was read is no longer failed, so it is not listed at all.
      for (const counts of [a, b]) expect(counts.retried + counts.skipped).toBeLessThanOrEqual(60);
      const tasks = (await queue.listTasks({ limit: 100 })).tasks;
      expect(tasks.map((t) => [t.status, t.manualRetryCount])).toEqual(
        Array.from({ length: 60 }, () => ["pending", 1]),
      );
    });

    it("queue.retry() of one task (failed, or waiting for its retry) from two processes at once re-queues it once; the other is refused", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const failed = failFirst(token);
      const waiting = retryLater();
      await queue.add([failed, waiting]);
      await h.worker(queue).work({ maxTasks: 2 });
      expect((await queue.getTask(waiting))?.status).toBe("retrying");
      const other = h.sibling(queue);
      for (const t of [failed, waiting]) {
        const outcomes = await Promise.allSettled([queue.retry(t), other.retry(t)]);
        const fulfilled = outcomes.filter((o) => o.status === "fulfilled");
        const rejected = outcomes.filter(
          (o): o is PromiseRejectedResult => o.status === "rejected",
        );
        expect(fulfilled).toHaveLength(1);
        expect(rejected).toHaveLength(1);
        expect(rejected[0]!.reason).toBeInstanceOf(TaskStateError);
        // Refused at its read (it is pending) or at its re-queue (re-queued since the read).
        expect(String(rejected[0]!.reason.message)).toMatch(
          /re-queued or started meanwhile|it has not finished/,
        );
        const stored = await queue.getTask(t);
        expect([stored?.status, stored?.manualRetryCount]).toEqual(["pending", 1]);
      }
      // One `added` per task for its add and one for its single re-queue.
      const added = (await logOf(await queue.connect(), queue.name)).filter(
        (e) => e.type === "added",
      );
      expect(added).toHaveLength(4);
    });

    it("a rerun made from a record another rerun has replaced since — run and finished again — is refused: a task is re-run once per read", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const job = failFirst(token);
      await queue.add(job);
      await h.worker(queue).work({ maxTasks: 1 });
      const read = (await queue.getTask(job))!.toJSON();
      expect(read.status).toBe("failed");
      // Two callers make a rerun from that same read; the first goes in, runs and completes.
      const rerunOfRead = {
        ...read,
        status: "pending" as const,
        result: null,
        startedAt: null,
        finishedAt: null,
        manualRetryCount: (read.manualRetryCount ?? 0) + 1,
      };
      const backend = await queue.connect();
      expect(await backend.add(queue.name, [rerunOfRead], "rerun")).toEqual([true]);
      await h.worker(queue).work({ maxTasks: 1 });
      expect((await queue.waitFor(job, { timeout: 5 })).status).toBe("completed");
      // The second arrives late: the record it was made from is gone.
      const late = { ...rerunOfRead, lastRetryAt: new Date().toISOString() };
      expect(await backend.add(queue.name, [late], "rerun")).toEqual([false]);
      const after = await queue.getTask(job);
      expect([after?.status, after?.manualRetryCount]).toEqual(["completed", 1]);
      expect(runs.get(token).count.get(job.id)).toBe(2);
      // A rerun made from the record now stored goes in.
      const current = (await queue.getTask(job))!.toJSON();
      const next = {
        ...current,
        status: "pending" as const,
        finishedAt: null,
        manualRetryCount: 2,
      };
      expect(await backend.add(queue.name, [next], "rerun")).toEqual([true]);
    });

    it("redrives racing each other and a running worker never run a task twice at once, and small batches reach every task", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const tasks = Array.from({ length: 200 }, () => failFirst(token));
      await queue.add(tasks);
      await h.worker(queue, { concurrency: 50 }).work({ maxTasks: 200 });
      expect((await queue.stats()).failed).toBe(200);

      const worker = h.worker(queue, { concurrency: 20 });
      const working = worker.work();
      const other = h.sibling(queue);
      const [a, b] = await Promise.all([
        queue.retryAll({ batchSize: 7 }),
        other.retryAll({ batchSize: 13 }),
      ]);
      // Each task is re-queued once: a finished one only, and it then completes.
      expect(a.retried + b.retried).toBe(200);
      await until(async () => (await queue.stats()).completed === 200, {
        timeoutMs: 15_000,
        what: "all 200 completed",
      });
      await worker.close();
      await working;
      expect(runs.get(token).overlaps).toBe(0);
      expect(runs.get(token).count.size).toBe(200);
    });
  });
}
