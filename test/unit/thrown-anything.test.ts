/**
 * Nothing a task throws can take down its worker or leave the task stuck:
 * whatever value an attempt throws — any JS value, Proxies whose every trap
 * throws, revoked Proxies, throwing getters, cycles, BigInts, Symbols,
 * functions, errors nested four deep with hostile causes, properties and
 * schema issues — the attempt runs through the real worker pipeline
 * (execute → outcome → settle) and the task ends `failed` with a readable
 * error, and the same worker goes on with the next batch.
 */
import fc from "fast-check";
import pino from "pino";
import { MemoryBackend, Queue, task, Worker } from "sheppy";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { build, type Recipe, recipe } from "../support/hostile-values.js";

/** The values the current batch throws, by argument. */
const toThrow = new Map<number, Recipe>();
const throws = task({ name: "thrown-anything.throws" }, (i: number) => {
  throw build(toThrow.get(i)!);
});
const throwsTwice = task(
  { name: "thrown-anything.throws-twice", retry: 1, retryDelay: 0 },
  (i: number) => {
    throw build(toThrow.get(i)!);
  },
);

describe("a worker given tasks that throw anything", () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => {
    process.on("unhandledRejection", onUnhandled);
  });
  afterAll(() => {
    process.off("unhandledRejection", onUnhandled);
  });

  test("every one of ≥ 1,000 thrown values ends as a failed task with a readable error, and the worker goes on", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "thrown-anything",
    });
    // A real pino logger: it serializes every thrown value the worker logs a failure line for.
    const logged: { msg?: string; error?: unknown }[] = [];
    const sink = { write: (line: string) => void logged.push(JSON.parse(line)) };
    const worker = new Worker(queue, {
      concurrency: 8,
      claimWait: 0.05,
      logger: pino({ level: "warn" }, sink),
    });
    let thrown = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(recipe, { minLength: 20, maxLength: 30 }), async (recipes) => {
        toThrow.clear();
        for (const [i, r] of recipes.entries()) toThrow.set(i, r);
        const tasks = recipes.map((_, i) => (i % 3 === 0 ? throwsTwice(i) : throws(i)));
        await queue.add(tasks);
        const summary = await worker.work({ oneshot: true });
        thrown += tasks.length + tasks.filter((t) => t.name === throwsTwice.taskName).length;
        const retried = tasks.filter((t) => t.config.retry > 0).length;
        expect(summary).toMatchObject({ processed: 0, failed: tasks.length, retried });
        for (const done of await queue.waitFor(tasks, { timeout: 5 })) {
          expect(done.status).toBe("failed");
          expect(typeof done.error?.type).toBe("string");
          expect(typeof done.error?.message).toBe("string");
          expect(String(done.error)).toContain(": ");
          expect(done.error?.toError()).toBeInstanceOf(Error);
        }
        expect(await queue.size()).toBe(0);
      }),
      { numRuns: 45 },
    );
    expect(thrown).toBeGreaterThanOrEqual(1_000);
    // One failure line per attempt, each with a readable error, whatever the logger could not read.
    const failures = logged.filter((line) => line.msg?.startsWith("task failed"));
    expect(failures).toHaveLength(thrown);
    for (const line of failures) expect(typeof line.error).toBe("string");
    expect(logged.filter((line) => !line.msg?.startsWith("task failed"))).toEqual([]);
    expect(unhandled).toEqual([]);
    await queue.close();
  }, 120_000);
});
