/**
 * `TestQueue` (TQ-*): tasks run only when the test says so. Decisions pinned
 * here: the API is async; `processNext` returns the attempt's record
 * ("retrying" for a failing attempt with retries left, whose retry is due at
 * once); `failedTasks` includes retrying attempts; `processScheduled(cutoff)`
 * takes a Date or seconds from now.
 */
import {
  type Clock,
  currentTask,
  InvalidOptionError,
  InvalidTaskError,
  type Middleware,
  Task,
  TaskStateError,
  task,
} from "sheppy";
import { TestClock, TestQueue } from "sheppy/testing";
import { describe, expect, test } from "vitest";

const HOUR = 3600;

/** A clock that moves only when told to. */
function manualClock(start = Date.parse("2030-01-01T00:00:00.000Z")) {
  let now = start;
  let timers: { at: number; fn: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    setTimer(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return {
        cancel: () => {
          timers = timers.filter((t) => t !== timer);
        },
      };
    },
    sleep(ms) {
      return new Promise((resolve) => clock.setTimer(resolve, ms));
    },
  };
  return {
    clock,
    advance(seconds: number) {
      now += seconds * 1000;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
  };
}

const add = task(function tqAdd(x: number, y: number) {
  return x + y;
});
const addAsync = task(async function tqAddAsync(x: number, y: number) {
  return x + y;
});
const boom = task(function tqBoom(message: string): never {
  throw new Error(message);
});

/** Fails on the first attempt of each task, succeeds afterwards. */
const failOnce = task({ name: "tq-fail-once", retry: 2, retryDelay: 60 }, () => {
  if (currentTask().attempt === 1) throw new Error("transient error");
  return "ok";
});

describe("TQ-1 construction", () => {
  test("needs no worker and no server; the default name is test-queue", async () => {
    const queue = new TestQueue();
    expect(queue.name).toBe("test-queue");
    expect(await queue.size()).toBe(0);
    expect(queue.processedTasks).toEqual([]);
    expect(queue.failedTasks).toEqual([]);
  });

  test("takes a name", () => {
    expect(new TestQueue({ name: "custom" }).name).toBe("custom");
  });

  test("never processes anything by itself", async () => {
    const queue = new TestQueue();
    const t = add(1, 2);
    await queue.add(t);
    expect((await queue.getTask(t))?.status).toBe("pending");
    expect(await queue.size()).toBe(1);
  });
});

describe("TQ-2 add", () => {
  test("returns booleans like Queue.add and refuses duplicates", async () => {
    const queue = new TestQueue();
    const t1 = add(1, 2);
    const t2 = add(3, 4);
    expect(await queue.add(t1)).toBe(true);
    expect(await queue.add(t1)).toBe(false);
    expect(await queue.add([t2, t2])).toEqual([true, false]);
    expect(await queue.add([])).toEqual([]);
    expect(await queue.size()).toBe(2);
  });

  test("refuses things that are not tasks and enqueues nothing", async () => {
    const queue = new TestQueue();
    const bad = [add(1, 2), null] as unknown as Task[];
    await expect(queue.add(bad)).rejects.toThrow(InvalidTaskError);
    await expect(queue.add(add as unknown as Task)).rejects.toThrow(
      "queue.add() expects a Task; got a function (call the task factory to create a Task)",
    );
    await expect(queue.add(bad)).rejects.toThrow(
      "queue.add() expects Task objects; item [1] is null",
    );
    await expect(queue.add({ ...add(1, 2).toJSON() } as unknown as Task)).rejects.toThrow(
      /^queue\.add\(\) expects a Task; got a plain object, not a Task \(a Task comes from calling its task factory/,
    );
    await expect(queue.add([[add(1, 2)]] as unknown as Task[])).rejects.toThrow(
      "queue.add() expects Task objects; item [0] is an array (a list in a list)",
    );
    expect(await queue.size()).toBe(0);
  });

  test("T-19 the caller's task object is never changed by adding or processing", async () => {
    const queue = new TestQueue();
    const t = add(1, 2);
    const before = JSON.stringify(t.toJSON());
    await queue.add(t);
    await queue.processAll();
    expect(t.status).toBe("new");
    expect(t.result).toBeNull();
    expect(t.finishedAt).toBeNull();
    expect(JSON.stringify(t.toJSON())).toBe(before);
  });
});

describe("TQ-3…TQ-5 processNext / processAll", () => {
  test("TQ-3 processNext runs the oldest pending task and returns its stored record", async () => {
    const queue = new TestQueue();
    const first = add(1, 2);
    const second = add(10, 20);
    await queue.add([first, second]);
    const done = await queue.processNext();
    expect(done).toBeInstanceOf(Task);
    expect(done?.id).toBe(first.id);
    expect(done?.status).toBe("completed");
    expect(done?.result).toBe(3);
    expect(done?.finishedAt).toBeInstanceOf(Date);
    expect(done?.startedAt).toBeInstanceOf(Date);
    expect(await queue.size()).toBe(1);
    const stored = await queue.getTask(first);
    expect(stored?.toJSON()).toEqual(done?.toJSON());
  });

  test("TQ-3 a failing task returns its failed record", async () => {
    const queue = new TestQueue();
    await queue.add(boom("kaputt"));
    const done = await queue.processNext();
    expect(done?.status).toBe("failed");
    expect(done?.result).toBeNull();
    expect(done?.error?.toString()).toBe("Error: kaputt");
  });

  test("TQ-3 an empty queue returns null without throwing", async () => {
    expect(await new TestQueue().processNext()).toBeNull();
  });

  test("TQ-4 processedTasks lists every attempt in order, failedTasks the failed ones", async () => {
    const queue = new TestQueue();
    const a = add(1, 1);
    const b = boom("b failed");
    const c = add(2, 2);
    await queue.add([a, b, c]);
    await queue.processAll();
    expect(queue.processedTasks.map((t) => t.id)).toEqual([a.id, b.id, c.id]);
    expect(queue.failedTasks.map((t) => t.id)).toEqual([b.id]);
    expect(queue.failedTasks[0]?.error?.message).toBe("b failed");
  });

  test("TQ-5 processAll runs sync and async tasks in order and returns their records", async () => {
    const queue = new TestQueue();
    await queue.add([add(1, 2), addAsync(3, 4)]);
    const processed = await queue.processAll();
    expect(processed.map((t) => t.result)).toEqual([3, 7]);
    expect(processed.map((t) => t.status)).toEqual(["completed", "completed"]);
    expect(await queue.size()).toBe(0);
  });

  test("TQ-5 processAll on an empty queue returns []", async () => {
    expect(await new TestQueue().processAll()).toEqual([]);
  });
});

describe("TQ-6 / TQ-7 automatic retries run at once", () => {
  test("TQ-6 a fail-once task gives 'retrying' with size() still 1, then 'completed'", async () => {
    const queue = new TestQueue();
    const t = failOnce();
    await queue.add(t);
    const first = await queue.processNext();
    expect(first?.status).toBe("retrying");
    expect(first?.retryCount).toBe(1);
    expect(first?.error?.message).toBe("transient error");
    expect(first?.finishedAt).toBeNull();
    // The record keeps its real delay; the TestQueue just does not wait for it.
    expect(first!.nextRetryAt!.getTime() - first!.lastRetryAt!.getTime()).toBe(60_000);
    expect(await queue.size()).toBe(1);
    const second = await queue.processNext();
    expect(second?.id).toBe(t.id);
    expect(second?.status).toBe("completed");
    expect(second?.result).toBe("ok");
    expect(second?.error).toBeNull();
    expect(await queue.size()).toBe(0);
  });

  test("TQ-7 processAll returns both attempts of a fail-once task, same id", async () => {
    const queue = new TestQueue();
    const t = failOnce();
    await queue.add(t);
    const processed = await queue.processAll();
    expect(processed.map((r) => [r.id, r.status])).toEqual([
      [t.id, "retrying"],
      [t.id, "completed"],
    ]);
    expect(await queue.size()).toBe(0);
    const stored = await queue.getTask(t);
    expect(stored?.status).toBe("completed");
    expect(stored?.retryCount).toBe(1);
    expect(stored?.result).toBe("ok");
    expect(await queue.getScheduled()).toEqual([]);
  });

  test("TQ-4 (decided) failedTasks includes retrying attempts", async () => {
    const queue = new TestQueue();
    await queue.add(failOnce());
    await queue.processAll();
    expect(queue.processedTasks.map((t) => t.status)).toEqual(["retrying", "completed"]);
    expect(queue.failedTasks.map((t) => t.status)).toEqual(["retrying"]);
  });

  test("R-5 / R-6 an always-failing task stops after its retries with status failed", async () => {
    const alwaysFails = task({ name: "tq-always-fails", retry: 2, retryDelay: [5, 50] }, () => {
      throw new Error("never works");
    });
    const queue = new TestQueue();
    await queue.add(alwaysFails());
    const processed = await queue.processAll();
    expect(processed.map((t) => [t.status, t.retryCount])).toEqual([
      ["retrying", 1],
      ["retrying", 2],
      ["failed", 2],
    ]);
    expect(processed[2]?.finishedAt).toBeInstanceOf(Date);
    expect(queue.failedTasks).toHaveLength(3);
  });
});

describe("cancelling a running task", () => {
  const heard: string[] = [];
  const waits = task({ name: "tq.cancel.waits" }, async (ms: number) => {
    const { signal } = currentTask();
    signal.addEventListener("abort", () => heard.push(`abort: ${String(signal.reason)}`));
    await new Promise((resolve) => setTimeout(resolve, ms));
    heard.push(`ended, aborted ${signal.aborted}`);
    return "done";
  });

  test("a forced cancel fires the task's signal at once; processAll returns the cancelled record, not the discarded outcome", async () => {
    heard.length = 0;
    const queue = new TestQueue();
    const t = waits(300);
    await queue.add(t);
    const running = queue.processAll();
    await expect.poll(async () => (await queue.getTask(t))?.status).toBe("processing");
    await queue.cancel(t, { force: true });
    expect(heard).toEqual([expect.stringMatching(/^abort: TaskCancelledError: /)]);
    const attempts = await running;
    expect(attempts.map((a) => [a.id, a.status])).toEqual([[t.id, "cancelled"]]);
    expect(queue.processedTasks.map((a) => a.status)).toEqual(["cancelled"]);
    expect(queue.failedTasks).toEqual([]);
    expect(heard).toEqual([expect.any(String), "ended, aborted true"]);
    expect((await queue.getTask(t))?.status).toBe("cancelled");
  });
});

describe("TQ-8 getTask", () => {
  test("accepts a task, an id or a list mixing both", async () => {
    const queue = new TestQueue();
    const t1 = add(1, 2);
    const t2 = add(3, 4);
    await queue.add([t1, t2]);
    expect((await queue.getTask(t1))?.id).toBe(t1.id);
    expect((await queue.getTask(t2.id))?.id).toBe(t2.id);
    const [a, b, missing] = await queue.getTask([
      t1,
      t2.id,
      "00000000-0000-0000-0000-000000000000",
    ]);
    expect(a?.id).toBe(t1.id);
    expect(b?.id).toBe(t2.id);
    expect(missing).toBeNull();
    expect(await queue.getTask([])).toEqual([]);
  });

  test("Q-12 (decided) the stored record equals the original with status pending", async () => {
    const queue = new TestQueue();
    const t = add(1, 2);
    await queue.add(t);
    const stored = await queue.getTask(t);
    expect(stored?.toJSON()).toEqual({ ...t.toJSON(), status: "pending" });
  });

  test("an unknown task is null", async () => {
    expect(await new TestQueue().getTask(add(1, 2))).toBeNull();
  });
});

describe("waitFor", () => {
  test("W-4 (decided) a negative timeout is an InvalidOptionError; 0 checks once", async () => {
    const queue = new TestQueue();
    const t = add(1, 2);
    await queue.add(t);
    await queue.processAll();
    await expect(queue.waitFor(t, { timeout: -1 })).rejects.toThrow(InvalidOptionError);
    await expect(queue.waitFor(t, { timeout: -0.5 })).rejects.toThrow(
      /timeout must be a number of seconds ≥ 0 \(got -0\.5\)/,
    );
    expect((await queue.waitFor(t, { timeout: 0 })).result).toBe(3);
  });
});

describe("TQ-9…TQ-12 scheduling", () => {
  test("TQ-9 schedule returns true; scheduled tasks are invisible to processNext/processAll", async () => {
    const queue = new TestQueue();
    const t = add(1, 2);
    expect(await queue.schedule(t, HOUR)).toBe(true);
    expect(await queue.schedule(t, HOUR)).toBe(false);
    expect(await queue.processNext()).toBeNull();
    expect(await queue.processAll()).toEqual([]);
    expect(await queue.size()).toBe(0);
    const [scheduled] = await queue.getScheduled();
    expect(scheduled?.id).toBe(t.id);
    expect(scheduled?.status).toBe("scheduled");
    expect(scheduled?.scheduledAt).toBeInstanceOf(Date);
  });

  test("TQ-10 processScheduled runs what is due by the cutoff; none due → []", async () => {
    const queue = new TestQueue();
    const t = add(2, 3);
    await queue.schedule(t, 0);
    await queue.schedule(add(5, 5), HOUR);
    expect(await queue.processScheduled(-60)).toEqual([]);
    const processed = await queue.processScheduled();
    expect(processed.map((r) => [r.id, r.status, r.result])).toEqual([[t.id, "completed", 5]]);
    expect(await queue.processScheduled()).toEqual([]);
    expect(await queue.getScheduled()).toHaveLength(1);
  });

  test("TQ-10 processScheduled runs nothing on a paused queue: what came due is pending, and runs after the resume", async () => {
    const clock = new TestClock(new Date("2030-01-01T00:00:00Z"));
    const queue = new TestQueue({ clock });
    const t = add(1, 2);
    await queue.schedule(t, 10);
    await queue.pause();
    await clock.advance(11);
    expect(await queue.processScheduled()).toEqual([]);
    expect((await queue.getTask(t))?.status).toBe("pending");
    await queue.resume();
    expect((await queue.processAll()).map((r) => r.result)).toEqual([3]);
  });

  test("TQ-10 processScheduled runs the highest priority first, the earliest due within one", async () => {
    const clock = new TestClock(new Date("2030-01-01T00:00:00Z"));
    const queue = new TestQueue({ clock });
    const [low, high, highLater] = [add(1, 0), add(2, 0), add(3, 0)];
    await queue.schedule(low, 1);
    await queue.schedule(highLater, 3, { priority: 10 });
    await queue.schedule(high, 2, { priority: 10 });
    await clock.advance(5);
    expect((await queue.processScheduled()).map((r) => r.result)).toEqual([2, 3, 1]);
  });

  test("TQ-10 processScheduled keeps to the queue's concurrency cap while processAll runs a task", async () => {
    const clock = new TestClock(new Date("2030-01-01T00:00:00Z"));
    const queue = new TestQueue({ clock });
    await queue.setConcurrencyLimit(1);
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let running = 0;
    let most = 0;
    const held = task({ name: "tq.cap-held" }, async (n: number) => {
      most = Math.max(most, ++running);
      if (n === 1) await released;
      running--;
      return n;
    });
    await queue.add(held(1));
    await queue.schedule(held(2), 1);
    const all = queue.processAll();
    await clock.advance(2);
    // The cap is taken by the first task: the due one waits, pending, for processAll.
    expect(await queue.processScheduled()).toEqual([]);
    release();
    expect((await all).map((r) => r.result)).toEqual([1, 2]);
    expect(most).toBe(1);
  });

  test("TQ-10 the cutoff may be a Date", async () => {
    const queue = new TestQueue();
    const t = add(1, 1);
    await queue.schedule(t, new Date(Date.now() + 2 * HOUR * 1000));
    expect(await queue.processScheduled(new Date(Date.now() + HOUR * 1000))).toEqual([]);
    const processed = await queue.processScheduled(new Date(Date.now() + 3 * HOUR * 1000));
    expect(processed.map((r) => r.id)).toEqual([t.id]);
  });

  test("TQ-11 tasks due at +1/+2/+3 h are processed one per cutoff", async () => {
    const queue = new TestQueue();
    const t1 = add(1, 0);
    const t2 = add(2, 0);
    const t3 = add(3, 0);
    await queue.schedule(t1, HOUR);
    await queue.schedule(t2, 2 * HOUR);
    await queue.schedule(t3, 3 * HOUR);
    expect((await queue.processScheduled(HOUR)).map((r) => r.id)).toEqual([t1.id]);
    expect((await queue.processScheduled(2 * HOUR)).map((r) => r.id)).toEqual([t2.id]);
    expect((await queue.processScheduled(10 * HOUR)).map((r) => r.id)).toEqual([t3.id]);
    expect(await queue.getScheduled()).toEqual([]);
  });

  test("TQ-11 tasks scheduled out of order come back sorted by due time", async () => {
    const queue = new TestQueue();
    const late = add(3, 0);
    const early = add(1, 0);
    const middle = add(2, 0);
    await queue.schedule(late, 3 * HOUR);
    await queue.schedule(early, HOUR);
    await queue.schedule(middle, 2 * HOUR);
    const processed = await queue.processScheduled(10 * HOUR);
    expect(processed.map((r) => r.result)).toEqual([1, 2, 3]);
  });

  test("TQ-12 a due time that has passed is processed by a cutoff of now", async () => {
    const { clock, advance } = manualClock();
    const queue = new TestQueue({ clock });
    const t = add(4, 4);
    await queue.schedule(t, 60);
    advance(120);
    const [done] = await queue.processScheduled();
    expect(done?.id).toBe(t.id);
    expect(done?.result).toBe(8);
    expect(done?.scheduledAt?.getTime()).toBe(clock.now() - 60_000);
  });

  test("TQ-12 a failing scheduled task comes back failed and lands in failedTasks", async () => {
    const queue = new TestQueue();
    const t = boom("scheduled failure");
    await queue.schedule(t, 0);
    const [done] = await queue.processScheduled();
    expect(done?.status).toBe("failed");
    expect(queue.failedTasks.map((f) => f.id)).toEqual([t.id]);
  });

  test("S-8 (decided per SPEC) a date in the past is a clear error", async () => {
    const queue = new TestQueue();
    await expect(queue.schedule(add(1, 1), new Date(Date.now() - 60_000))).rejects.toThrow(
      InvalidOptionError,
    );
    await expect(queue.schedule(add(1, 1), new Date(Date.now() - 60_000))).rejects.toThrow(
      "is in the past",
    );
    await expect(queue.schedule(add(1, 1), new Date(Number.NaN))).rejects.toThrow("invalid Date");
    await expect(queue.schedule(add(1, 1), -1)).rejects.toThrow("expected a Date or a delay");
  });

  test("an invalid cutoff is an InvalidOptionError", async () => {
    const queue = new TestQueue();
    await expect(queue.processScheduled(Number.NaN)).rejects.toThrow(InvalidOptionError);
    await expect(queue.processScheduled(new Date(Number.NaN))).rejects.toThrow(
      "processScheduled(): invalid Date",
    );
  });
});

describe("TQ-13 / TQ-14 manual retry", () => {
  test("R-9 an unknown task → false", async () => {
    expect(await new TestQueue().retry(add(1, 2))).toBe(false);
  });

  test("R-11 a task that has not finished cannot be retried", async () => {
    const queue = new TestQueue();
    const t = add(1, 2);
    await queue.add(t);
    await expect(queue.retry(t)).rejects.toThrow(TaskStateError);
    await expect(queue.retry(t)).rejects.toThrow(`Cannot retry task ${t.id} with status 'pending'`);
  });

  test("TQ-13 a completed task without force throws, also with at; nothing is enqueued", async () => {
    const queue = new TestQueue();
    const t = add(1, 2);
    await queue.add(t);
    await queue.processNext();
    await expect(queue.retry(t)).rejects.toThrow(TaskStateError);
    await expect(queue.retry(t)).rejects.toThrow("already completed successfully");
    await expect(queue.retry(t, { at: HOUR })).rejects.toThrow("already completed successfully");
    expect(await queue.size()).toBe(0);
    expect(await queue.getScheduled()).toEqual([]);
  });

  test("TQ-13 force re-queues a completed task, which runs again", async () => {
    const { clock, advance } = manualClock();
    const queue = new TestQueue({ clock });
    const t = add(1, 2);
    await queue.add(t);
    const first = await queue.processNext();
    advance(5);
    expect(await queue.retry(t, { force: true })).toBe(true);
    expect(await queue.size()).toBe(1);
    const pending = await queue.getTask(t);
    expect(pending?.status).toBe("pending");
    expect(pending?.finishedAt).toBeNull();
    expect(pending?.result).toBeNull();
    expect(pending?.lastRetryAt?.getTime()).toBe(clock.now());
    advance(5);
    const again = await queue.processNext();
    expect(again?.id).toBe(t.id);
    expect(again?.status).toBe("completed");
    expect(again?.result).toBe(3);
    expect(again?.finishedAt?.getTime()).toBeGreaterThan(first!.finishedAt!.getTime());
  });

  test("TQ-13 at (10 h) schedules the retry: processed only by a cutoff of +10 h", async () => {
    const { clock } = manualClock();
    const queue = new TestQueue({ clock });
    const t = boom("fails every time");
    await queue.add(t);
    await queue.processNext();
    expect(await queue.retry(t, { at: 10 * HOUR })).toBe(true);
    const scheduled = await queue.getTask(t);
    const due = clock.now() + 10 * HOUR * 1000;
    expect(scheduled?.status).toBe("scheduled");
    expect(scheduled?.scheduledAt?.getTime()).toBe(due);
    expect(scheduled?.nextRetryAt?.getTime()).toBe(due);
    expect(await queue.size()).toBe(0);
    expect(await queue.processNext()).toBeNull();
    expect(await queue.processScheduled()).toEqual([]);
    expect(await queue.processScheduled(5 * HOUR)).toEqual([]);
    const [rerun] = await queue.processScheduled(10 * HOUR);
    expect(rerun?.id).toBe(t.id);
    expect(rerun?.status).toBe("failed");
    expect(await queue.getScheduled()).toEqual([]);
  });

  test("R-18 force and at together schedule a completed task", async () => {
    const queue = new TestQueue();
    const t = add(1, 2);
    await queue.add(t);
    await queue.processNext();
    expect(await queue.retry(t, { force: true, at: HOUR })).toBe(true);
    expect(await queue.size()).toBe(0);
    expect((await queue.getScheduled()).map((s) => s.id)).toEqual([t.id]);
  });

  test("TQ-14 after a manual retry of a failed task, processNext returns a new failed record", async () => {
    const { clock, advance } = manualClock();
    const queue = new TestQueue({ clock });
    const t = boom("still broken");
    await queue.add(t);
    const first = await queue.processNext();
    expect(first?.status).toBe("failed");
    const processedBefore = queue.processedTasks.length;
    const failedBefore = queue.failedTasks.length;
    advance(1);
    expect(await queue.retry(t)).toBe(true);
    expect(await queue.size()).toBe(1);
    const second = await queue.processNext();
    expect(second?.id).toBe(t.id);
    expect(second?.status).toBe("failed");
    expect(second?.finishedAt?.getTime()).not.toBe(first?.finishedAt?.getTime());
    // R-13 manual retries do not touch retryCount.
    expect(second?.retryCount).toBe(0);
    expect(queue.processedTasks).toHaveLength(processedBefore + 1);
    expect(queue.failedTasks).toHaveLength(failedBefore + 1);
  });
});

describe("TQ-16 middleware and chaining", () => {
  const noop: Middleware = async (_ctx, next) => {
    await next();
  };
  const firstArgTo5: Middleware = async (ctx, next) => {
    ctx.args = [5, ...ctx.args.slice(1)];
    await next();
  };
  const plus =
    (n: number): Middleware =>
    async (ctx, next) => {
      await next();
      ctx.result = (ctx.result as number) + n;
    };

  test("MW-13 task-level middleware applies (3 / 7 / 105003 / 105007)", async () => {
    const sum = (x: number, y: number) => x + y;
    const factories = [
      task({ name: "tq-mw-noop", middleware: [noop] }, sum),
      task({ name: "tq-mw-arg", middleware: [firstArgTo5] }, sum),
      task({ name: "tq-mw-result", middleware: [plus(100000), plus(5000)] }, sum),
      task({ name: "tq-mw-all", middleware: [noop, firstArgTo5, plus(100000), plus(5000)] }, sum),
    ];
    const queue = new TestQueue();
    await queue.add(factories.map((f) => f(1, 2)));
    expect((await queue.processAll()).map((t) => t.result)).toEqual([3, 7, 105003, 105007]);
  });

  test("CH-9 a chained child is added pending, not run; processAll then runs it", async () => {
    const triple = task(function tqTriple(x: number) {
      return x * 3;
    });
    const parent = task(function tqParent(x: number) {
      return triple(x);
    });
    const queue = new TestQueue();
    const p = parent(5);
    await queue.add(p);
    const done = await queue.processNext();
    expect(done?.status).toBe("completed");
    const child = done?.result as Task<number>;
    expect(child).toBeInstanceOf(Task);
    expect(child.status).toBe("new");
    expect(child.args).toEqual([5]);
    expect(await queue.size()).toBe(1);
    expect((await queue.getTask(child))?.status).toBe("pending");
    const [ran] = await queue.processAll();
    expect(ran?.id).toBe(child.id);
    expect(ran?.result).toBe(15);
  });

  test("CH-2 / CH-9 a list of children is added in order", async () => {
    const square = task(function tqSquare(x: number) {
      return x * x;
    });
    const fanOut = task(async function tqFanOut(xs: number[]) {
      return xs.map((x) => square(x));
    });
    const queue = new TestQueue();
    await queue.add(fanOut([2, 3, 4]));
    const parentDone = await queue.processNext();
    const children = parentDone?.result as Task[];
    expect(children).toHaveLength(3);
    expect(children.every((c) => c instanceof Task)).toBe(true);
    expect(await queue.size()).toBe(3);
    const processed = await queue.processAll();
    expect(processed.map((t) => t.id)).toEqual(children.map((c) => c.id));
    expect(processed.map((t) => t.result)).toEqual([4, 9, 16]);
  });
});

describe("TQ-17 current task", () => {
  test("the result carries the task's own id", async () => {
    const ownId = task({ name: "tq-own-id" }, () => currentTask().id);
    const queue = new TestQueue();
    const t = ownId();
    await queue.add(t);
    const done = await queue.processNext();
    expect(done?.result).toBe(t.id);
    expect((await queue.getTask(t))?.result).toBe(t.id);
  });
});

describe("issue #4 item 6 / RL-11 rate limits hold, driven by the queue's clock", () => {
  const limited = task(
    { name: "tq-limited", rateLimit: { maxRate: 2, ratePeriod: 5 } },
    (label: string) => label,
  );

  test("maxRate 2 per 5 s: processAll runs two; the third is scheduled for its slot and runs after 5 s", async () => {
    const start = Date.parse("2030-01-01T00:00:00.000Z");
    const clock = new TestClock(start);
    const queue = new TestQueue({ clock });
    const [a, b, c] = [limited("a"), limited("b"), limited("c")];
    await queue.add([a, b, c]);

    const first = await queue.processAll();
    expect(first.map((t) => t.result)).toEqual(["a", "b"]);
    const deferred = await queue.getTask(c);
    expect(deferred?.status).toBe("scheduled");
    expect(deferred?.startedAt).toBeNull();
    expect(deferred?.scheduledAt?.getTime()).toBe(start + 5000);
    expect(queue.processedTasks).toHaveLength(2);
    expect(await queue.processScheduled()).toEqual([]);

    await clock.advance(4.9);
    expect(await queue.processScheduled()).toEqual([]);
    await clock.advance(0.1);
    const [third, ...rest] = await queue.processScheduled();
    expect(rest).toEqual([]);
    expect([third?.id, third?.status, third?.result]).toEqual([c.id, "completed", "c"]);
  });

  test("processNext skips a task put off by its limit and runs the next one", async () => {
    const free = task({ name: "tq-unlimited" }, () => "free");
    const queue = new TestQueue({ clock: new TestClock(Date.parse("2030-01-01T00:00:00Z")) });
    await queue.add([limited("a"), limited("b"), limited("c"), free()]);
    expect((await queue.processNext())?.result).toBe("a");
    expect((await queue.processNext())?.result).toBe("b");
    expect((await queue.processNext())?.result).toBe("free");
    expect(await queue.processNext()).toBeNull();
    expect((await queue.getScheduled()).map((t) => t.args)).toEqual([["c"]]);
  });
});

describe("arguments an attempt changes", () => {
  const grows = task(
    { name: "unit.tq.growsItsArguments", retry: 1, retryDelay: 0 },
    (given: { items: number[] }) => {
      given.items.push(given.items.length + 1);
      if (given.items.length < 4) throw new Error(`saw ${given.items.length} items`);
      return given.items;
    },
  );

  test("a task may change what it was given, as it may on every backend: each attempt gets the stored arguments, which stay as added", async () => {
    const queue = new TestQueue();
    const t = grows({ items: [1, 2] });
    await queue.add(t);
    const first = await queue.processNext();
    expect([first?.status, first?.error?.message]).toEqual(["retrying", "saw 3 items"]);
    const second = await queue.processNext();
    expect([second?.status, second?.error?.message]).toEqual(["failed", "saw 3 items"]);
    expect(second?.args).toEqual([{ items: [1, 2] }]);
  });
});
