/**
 * How long a worker keeps trying to store an outcome: while the backend
 * cannot be reached it retries (with backoff); a failure the backend gives
 * for any other reason is tried three times, then the outcome is logged as
 * not stored and left to the task's lease — the worker never retries forever
 * and never stops over it. One settlement the backend cannot take does not
 * hold back the others of its batch, and a record refused as unstorable is
 * stored as a failed stand-in instead of going round for ever.
 */
import {
  BackendError,
  BackendFullError,
  BackendUnavailableError,
  MemoryBackend,
  Queue,
  SerializationError,
  task,
  Worker,
} from "sheppy";
import { describe, expect, test } from "vitest";
import { OTHER_FAILURE_ATTEMPTS } from "../../src/worker/result-writer.js";

const ok = task({ name: "result-writer.ok" }, () => "ok");
const napThenOk = task({ name: "result-writer.nap" }, async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return "ok";
});

/** A logger that keeps every record's message. */
function captureLogs() {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (objOrMsg: object | string, msg?: string): void => {
      lines.push({ level, msg: typeof objOrMsg === "string" ? objOrMsg : (msg ?? "") });
    };
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}

/** A memory backend whose first `failures` settle calls throw what `error` makes. */
function failingSettles(failures: number, error: () => Error) {
  const backend = new MemoryBackend({ instantProcessing: false });
  const settle = backend.settle.bind(backend);
  let calls = 0;
  backend.settle = async (queue, settlements, now) => {
    calls++;
    if (calls <= failures) throw error();
    return settle(queue, settlements, now);
  };
  return { backend, calls: () => calls };
}

describe("storing outcomes when the backend fails", () => {
  test("a refusal that is not an outage is tried a bounded number of times, then logged and left to the lease", async () => {
    const { backend, calls } = failingSettles(
      Number.POSITIVE_INFINITY,
      () => new BackendError("settle: Redis refused the call: ERR something is wrong"),
    );
    const queue = new Queue(backend, { name: "refused" });
    const logger = captureLogs();
    const t = ok();
    await queue.add(t);
    const summary = await new Worker(queue, { claimWait: 0.05, logger }).work({ maxTasks: 1 });
    expect(calls()).toBe(OTHER_FAILURE_ATTEMPTS);
    expect(summary).toMatchObject({ processed: 0, failed: 0 });
    expect(logger.lines).toContainEqual({
      level: "error",
      msg: "could not store a task's outcome; the task will be reclaimed once its lease expires",
    });
    // Nothing was written: the task is still claimed, waiting for its lease to run out.
    expect((await queue.getTask(t))?.status).toBe("processing");
  });

  test("while the backend cannot be reached the outcome is retried until it is stored", async () => {
    const { backend, calls } = failingSettles(
      2,
      () => new BackendUnavailableError("settle: Redis cannot be reached"),
    );
    const queue = new Queue(backend, { name: "unreachable" });
    const t = ok();
    await queue.add(t);
    const summary = await new Worker(queue, { claimWait: 0.05, logger: captureLogs() }).work({
      maxTasks: 1,
    });
    expect(calls()).toBe(3);
    expect(summary.processed).toBe(1);
    expect((await queue.getTask(t))?.status).toBe("completed");
  });

  test("while the backend is full (a disk, a memory limit) the outcome is retried until it is stored, not left to be taken over as crashed", async () => {
    const { backend, calls } = failingSettles(
      3,
      () =>
        new BackendFullError("settle: the SQLite disk or file is full (database or disk is full)"),
    );
    const queue = new Queue(backend, { name: "full" });
    const t = ok();
    await queue.add(t);
    const summary = await new Worker(queue, { claimWait: 0.05, logger: captureLogs() }).work({
      maxTasks: 1,
    });
    expect(calls()).toBe(4);
    expect(summary.processed).toBe(1);
    expect((await queue.getTask(t))?.status).toBe("completed");
  });

  test("a batch refused because of one settlement is written one by one: the others are stored, the unstorable one fails alone", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const settle = backend.settle.bind(backend);
    const sizes: number[] = [];
    const poison = task({ name: "result-writer.poison" }, () => "poison");
    // Like a backend that cannot encode one record: the whole call is refused, nothing written.
    backend.settle = async (queue, settlements, now) => {
      sizes.push(settlements.length);
      const bad = settlements.find((s) => s.record.result === "poison");
      if (bad) throw new SerializationError(`cannot encode task record ${bad.record.id}: too deep`);
      return settle(queue, settlements, now);
    };
    const queue = new Queue(backend, { name: "poisoned" });
    const tasks = [ok(), ok(), poison(), ok(), ok()];
    await queue.add(tasks);
    const logger = captureLogs();
    const summary = await new Worker(queue, { concurrency: 5, logger }).work({ oneshot: true });
    expect(summary).toMatchObject({ processed: 4, failed: 1 });
    expect(sizes[0]).toBe(5);
    for (const t of tasks.filter((_, i) => i !== 2)) {
      expect((await queue.getTask(t))?.status).toBe("completed");
    }
    const stored = await queue.getTask(tasks[2]!);
    expect(stored?.status).toBe("failed");
    expect(stored?.result).toBeNull();
    expect(stored?.args).toEqual([]);
    expect(stored?.error?.type).toBe("SerializationError");
    expect(stored?.error?.message).toMatch(
      /the outcome of this attempt could not be stored \(cannot encode task record .*: too deep\); its arguments and result were dropped/,
    );
    // The unstorable record was not retried: one batch, then one call per settlement, then its stand-in.
    expect(sizes.filter((n) => n === 1)).toHaveLength(6);
    // The task that failed is the one error: nothing about storing outcomes.
    expect(logger.lines.filter((l) => l.level === "error")).toEqual([
      { level: "error", msg: "task failed" },
    ]);
  });

  test("an outage that several batches wait through is one warning and one recovery line, not one per batch", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const settle = backend.settle.bind(backend);
    let downUntil = 0;
    backend.settle = async (queue, settlements, now) => {
      if (Date.now() < downUntil)
        throw new BackendUnavailableError("settle: Redis cannot be reached");
      return settle(queue, settlements, now);
    };
    const queue = new Queue(backend, { name: "one-outage" });
    // Each ends in a turn of its own: one batch each, all waiting through the same outage.
    const tasks = [0, 30, 60, 90, 120].map((ms) => napThenOk(ms));
    await queue.add(tasks);
    const logger = captureLogs();
    downUntil = Date.now() + 600;
    const summary = await new Worker(queue, { concurrency: 5, claimWait: 0.05, logger }).work({
      maxTasks: 5,
    });
    expect(summary.processed).toBe(5);
    expect((await queue.getTask(tasks)).map((t) => t?.status)).toEqual(Array(5).fill("completed"));
    const said = (msg: string) => logger.lines.filter((l) => l.msg === msg).length;
    expect(said("storing task outcomes failed; retrying")).toBe(1);
    expect(said("storing task outcomes works again")).toBe(1);
  });
});
