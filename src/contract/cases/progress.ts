/**
 * A running task's reports: `progress()` and `log()` reach its stored record
 * while it runs — throttled, so thousands of calls cost a few writes — and
 * stay on it when it ends; a write under a claim that is no longer current
 * changes nothing.
 */

import { describe, expect, it } from "vitest";
import { DependencyError, log, progress, type Task, type TaskData, task } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { gate, PerTest, until } from "../support/until.js";

const CALLS = 10_000;
const LINES = 250;

const gates = new PerTest(() => gate());
const reporting = task({ name: "progress.reporting" }, async (token: string) => {
  for (let i = 0; i < CALLS; i++) {
    progress({ done: i + 1, total: CALLS });
    if (i % (CALLS / LINES) === 0) log(`line ${i / (CALLS / LINES)}`);
  }
  await gates.get(token).opened;
  return "done";
});

const misuse = task({ name: "progress.misuse" }, () =>
  [{ big: "x".repeat(70 * 1024) }, { n: 5n }].map((value) => {
    try {
      progress(value as unknown as number);
      return "accepted";
    } catch (error) {
      return (error as Error).message;
    }
  }),
);

/** What `log()` says to each value that is not text. */
const badLines = task({ name: "progress.badLines" }, () =>
  [{ a: 1 }, 5n, undefined, null, 5].map((line) => {
    try {
      log(line as unknown as string);
      return "accepted";
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    }
  }),
);

const item = task({ name: "progress.item" }, (n: number) => n);

export function progressCases(h: ContractHarness): void {
  describe("progress and logs", () => {
    it("PRG-1 10,000 progress() calls cost a few writes; the record shows them while running and keeps the last when done", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const save = backend.saveProgress.bind(backend);
      let writes = 0;
      backend.saveProgress = (...args: Parameters<typeof save>) => {
        writes++;
        return save(...args);
      };
      const token = crypto.randomUUID();
      const t = reporting(token);
      const worker = h.worker(queue);
      const events: Task[] = [];
      worker.on("task:progress", ({ task: reported }) => events.push(reported));
      const running = worker.work({ maxTasks: 1 });
      await queue.add(t);
      const seen = await until(
        async () => {
          const stored = await queue.getTask(t);
          return (stored?.progress as { done?: number } | null)?.done === CALLS ? stored : null;
        },
        { what: "the last progress on the running record" },
      );
      expect(seen.status).toBe("processing");
      expect(seen.logs).toHaveLength(100);
      // The worker tells its listeners once the write has returned to it, which may be a moment
      // after a reader sees the record (a pooler between them lengthens the moment).
      await until(
        () => (events.at(-1)?.progress as { done?: number } | null | undefined)?.done === CALLS,
        { what: "the task:progress event of the last report" },
      );
      expect(events.at(-1)?.progress).toEqual({ done: CALLS, total: CALLS });
      gates.get(token).open();
      const done = await queue.waitFor(t, { timeout: 10 });
      await running;
      expect(done.status).toBe("completed");
      expect(done.progress).toEqual({ done: CALLS, total: CALLS });
      expect(done.logs).toHaveLength(100);
      expect(done.logs[0]).toBe(`line ${LINES - 100}`);
      expect(done.logs.at(-1)).toBe(`line ${LINES - 1}`);
      expect(writes).toBeGreaterThanOrEqual(1);
      expect(writes).toBeLessThanOrEqual(3);
    });

    it("PRG-2 saveProgress writes only under the current claim, keeping the record processing", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const record: TaskData = { ...item(1).toJSON(), status: "pending" };
      await backend.add(queue.name, [record]);
      const [claim] = await backend.claim(queue.name, 1);
      const reported = { ...claim!.record, progress: 0.5, logs: ["half way"] };
      const ref = { id: record.id, fence: claim!.fence };
      expect(
        await backend.saveProgress(queue.name, { ...ref, fence: ref.fence + 1 }, reported),
      ).toBe(false);
      expect((await queue.getTask(record.id))?.progress).toBeNull();
      expect(await backend.saveProgress(queue.name, ref, reported)).toBe(true);
      const running = await queue.getTask(record.id);
      expect([running?.status, running?.progress, running?.logs]).toEqual([
        "processing",
        0.5,
        ["half way"],
      ]);
      expect(running?.startedAt).toEqual(new Date(claim!.record.startedAt!));
      const finished: TaskData = {
        ...reported,
        status: "completed",
        result: 1,
        finishedAt: new Date().toISOString(),
      };
      await backend.settle(
        queue.name,
        [{ fence: claim!.fence, record: finished, children: [], expiresAt: null }],
        Date.now(),
      );
      expect(await backend.saveProgress(queue.name, ref, { ...reported, progress: 0.9 })).toBe(
        false,
      );
      const stored = await queue.getTask(record.id);
      expect([stored?.status, stored?.progress]).toEqual(["completed", 0.5]);
    });

    it("PRG-4 a run started by hand reports afresh: retry() clears the earlier runs' progress and log", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const record: TaskData = { ...item(4).toJSON(), status: "pending" };
      await backend.add(queue.name, [record]);
      const [claim] = await backend.claim(queue.name, 1);
      const failed: TaskData = {
        ...claim!.record,
        status: "failed",
        progress: 0.9,
        logs: ["went wrong"],
        finishedAt: new Date().toISOString(),
      };
      await backend.settle(
        queue.name,
        [{ fence: claim!.fence, record: failed, children: [], expiresAt: null }],
        Date.now(),
      );
      expect(await queue.retry(record.id)).toBe(true);
      const again = await queue.getTask(record.id);
      expect([again?.status, again?.progress, again?.logs]).toEqual(["pending", null, []]);
    });

    it("PRG-3 progress() outside a task is a DependencyError; inside one, a value over 64 KiB or not JSON is refused to the task, naming it", async () => {
      expect(() => progress(1)).toThrow(DependencyError);
      expect(() => log("x")).toThrow(/log\(\) was called outside a running task/);
      const queue = h.queue();
      const t = misuse();
      await queue.add(t);
      const worker = h.worker(queue);
      await worker.work({ maxTasks: 1 });
      const done = await queue.waitFor(t, { timeout: 10 });
      const [tooBig, notJson] = done.result!;
      expect(tooBig).toMatch(
        /^progress\(\) in task 'progress.misuse': the value takes \d+ bytes of JSON; a progress value may take at most 65536/,
      );
      expect(notJson).toBe(
        "progress() in task 'progress.misuse': value.n is a bigint, which JSON cannot store",
      );
      expect(done.progress).toBeNull();
    });

    it("PRG-5 log() refuses anything but a string, naming the task, and stores nothing for it", async () => {
      const queue = h.queue();
      const t = badLines();
      await queue.add(t);
      await h.worker(queue).work({ maxTasks: 1 });
      const done = await queue.waitFor(t, { timeout: 10 });
      const refused = (kind: string) =>
        `InvalidOptionError: log() in task 'progress.badLines': a log line must be a string, not ${kind} (format it first, e.g. with JSON.stringify)`;
      expect(done.result).toEqual(
        ["an object", "a bigint", "undefined", "null", "a number"].map(refused),
      );
      expect(done.logs).toEqual([]);
    });
  });
}
