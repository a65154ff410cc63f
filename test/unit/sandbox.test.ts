/**
 * `sandbox: true` runs a task in a worker thread: CPU-bound synchronous work
 * does not block the worker's other tasks, and a task that ignores its signal
 * is stopped for real when its timeout fires (SPEC §Tasks, BEHAVIOURS TO-7, DI-13).
 */

import { availableParallelism } from "node:os";
import { MemoryBackend, Queue, SandboxError, type Task, task, Worker } from "sheppy";
import { describe, expect, it } from "vitest";
import {
  aggregateInline,
  aggregateSandboxed,
  chains,
  codedInline,
  codedSandboxed,
  exitsThread,
  failsSandboxed,
  type followUp,
  handsBackSandboxed,
  logsObjectInThread,
  reportsInThread,
  returnsFunction,
  returnsFunctionInline,
  returnsFunctionToSchema,
  returnsInstance,
  returnsInstanceInline,
  savesOnStopSandboxed,
  slowMiddlewareSandboxed,
  spinFor,
  spinForever,
  spinTimed,
  textInline,
  textSandboxed,
  unrecoverableSandboxed,
  whoAmI,
} from "../fixtures/sandbox-tasks.js";

const nap = task({ name: "sandbox-test.nap" }, async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return "rested";
});

/**
 * Runs `t` on a worker with a long shutdown timeout and closes the worker
 * once `t` runs (a task that heard of the stop only at the timeout would hold
 * the test for a minute); the run's summary, once it has ended.
 */
async function closedWhileRunning<T extends Task>(t: T) {
  const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "sandbox" });
  const worker = new Worker(queue, { claimWait: 0.05, shutdownTimeout: 60 });
  await queue.add(t);
  const working = worker.work();
  await expect
    .poll(async () => (await queue.getTask(t))?.status, { timeout: 15_000 })
    .toBe("processing");
  // The thread may still be loading the module: the stop is told to it once it runs the task.
  await worker.close();
  return { summary: await working, queue, t };
}

function setup() {
  const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "sandbox" });
  const worker = new Worker(queue, { concurrency: 4, claimWait: 0.05, schedulerInterval: 0.05 });
  return { queue, worker };
}

describe("sandboxed tasks", () => {
  it("DI-13 a CPU-bound task in a thread does not block the worker's other tasks", async () => {
    const { queue, worker } = setup();
    const heavy = spinFor(800);
    const light = nap(20);
    await queue.add([heavy, light]);
    const working = worker.work({ maxTasks: 2 });
    const [heavyDone, lightDone] = await queue.waitFor([heavy, light], { timeout: 30 });
    await working;
    expect(heavyDone.result).toBe("spun 800 ms");
    expect(lightDone.result).toBe("rested");
    // The light task's timer fired while the thread was spinning.
    expect(lightDone.finishedAt!.getTime()).toBeLessThan(heavyDone.finishedAt!.getTime());
  });

  it("a sandboxed task hears its worker begin to stop in its thread (currentTask().stopping) and may finish within the shutdown timeout", async () => {
    const { summary, queue, t } = await closedWhileRunning(savesOnStopSandboxed());
    expect(summary).toMatchObject({ processed: 1, interrupted: 0 });
    const done = await queue.getTask(t);
    expect([done?.status, done?.result]).toEqual(["completed", "saved in the thread"]);
  });

  it("a sandboxed task that throws its stopping signal's reason in its thread is put back in the queue at once, no attempt spent", async () => {
    const { summary, queue, t } = await closedWhileRunning(handsBackSandboxed());
    expect(summary).toMatchObject({ processed: 0, interrupted: 0, handedBack: 1 });
    const stored = await queue.getTask(t);
    expect([stored?.status, stored?.retryCount, stored?.error]).toEqual(["pending", 0, null]);
  });

  it("TO-7 a sandboxed task that ignores its signal is stopped at its timeout; the worker goes on", async () => {
    const { queue, worker } = setup();
    const stuck = spinForever();
    const after = spinFor(1);
    await queue.add([stuck, after]);
    const working = worker.work({ maxTasks: 2 });
    const [stuckDone, afterDone] = await queue.waitFor([stuck, after], { timeout: 30 });
    await working;
    expect(stuckDone.status).toBe("failed");
    expect(stuckDone.error?.type).toBe("TaskTimeoutError");
    expect(afterDone.status).toBe("completed");
  });

  it("a timeout counts from the function's start in its thread: waiting for a free thread, the thread's start and the import do not count", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "sandbox" });
    // Six rounds of tasks per thread: the last ones wait about a second for a thread.
    const count = availableParallelism() * 6;
    const worker = new Worker(queue, { concurrency: count, claimWait: 0.05 });
    const tasks = Array.from({ length: count }, () => spinTimed(200));
    await queue.add(tasks);
    const working = worker.work({ maxTasks: count });
    const done = await queue.waitFor(tasks, { timeout: 60 });
    await working;
    expect(done.map((t) => t.error?.type ?? t.status)).toEqual(tasks.map(() => "completed"));
  });

  it("progress() and log() work inside the thread: reports reach the record, a bad value is refused there", async () => {
    const { queue, worker } = setup();
    const t = reportsInThread();
    await queue.add(t);
    await worker.work({ maxTasks: 1 });
    const done = await queue.getTask(t);
    expect(done?.result).toBe("InvalidOptionError");
    expect(done?.progress).toEqual({ done: 1000, total: 1000 });
    expect(done?.logs).toEqual(["from the thread"]);
  });

  it("log() refuses anything but a string inside the thread too", async () => {
    const { queue, worker } = setup();
    const t = logsObjectInThread();
    await queue.add(t);
    await worker.work({ maxTasks: 1 });
    const done = await queue.getTask(t);
    expect(done?.result).toMatch(
      /^log\(\) in task 'sandbox\.logs-object': a log line must be a string, not an object/,
    );
    expect(done?.logs).toEqual([]);
  });

  it("currentTask() works inside the thread", async () => {
    const { queue, worker } = setup();
    const t = whoAmI();
    await queue.add(t);
    await worker.work({ maxTasks: 1 });
    expect((await queue.getTask(t))?.result).toEqual({
      id: t.id,
      attempt: 1,
      queueName: "sandbox",
    });
  });

  it("an error thrown in the thread is stored with its type, message and properties", async () => {
    const { queue, worker } = setup();
    const t = failsSandboxed();
    await queue.add(t);
    await worker.work({ maxTasks: 1 });
    const done = await queue.getTask(t);
    expect(done?.status).toBe("failed");
    expect(done?.error?.toString()).toBe("LedgerError: overdrawn");
    expect(done?.error?.props).toMatchObject({ account: "acc-1" });
  });

  it("a failure in the thread is stored as the same failure outside it: type, message, stack of the task's code, properties", async () => {
    const { queue, worker } = setup();
    const pairs = [
      [codedInline(), codedSandboxed()],
      [textInline(), textSandboxed()],
      [aggregateInline(), aggregateSandboxed()],
    ] as const;
    await queue.add(pairs.flat());
    await worker.work({ maxTasks: 6 });
    for (const [inline, sandboxed] of pairs) {
      const [plain, threaded] = await queue.getTask([inline, sandboxed]);
      expect(threaded?.status).toBe("failed");
      const { stack, ...rest } = threaded!.error!.toJSON();
      const { stack: plainStack, ...plainRest } = plain!.error!.toJSON();
      expect(rest).toEqual(plainRest);
      if (plainStack === null) expect(stack).toBeNull();
      else
        expect(stack?.split("\n").slice(0, 2).join("\n")).toMatch(
          /^(Error: declined|AggregateError: many)\n.*throw(Coded|Aggregate).*sandbox-tasks\.ts/,
        );
    }
    const coded = await queue.getTask(pairs[0][1]);
    expect([coded?.error?.type, coded?.error?.props]).toEqual(["CodedError", { code: "E42" }]);
    // An aggregate's gathered errors cross the thread as errors, and come back from toError() so.
    const aggregate = await queue.getTask(pairs[2][1]);
    expect(aggregate?.error?.props?.errors).toEqual([
      { type: "TypeError", message: "t1" },
      { type: "RangeError", message: "r2" },
      "str-item",
      "null",
    ]);
    const rebuilt = aggregate!.error!.toError() as AggregateError;
    expect(rebuilt.errors.slice(0, 2).map((e: Error) => `${e.name}: ${e.message}`)).toEqual([
      "TypeError: t1",
      "RangeError: r2",
    ]);
  });

  it("a sandboxed task's timeout bounds its middleware too", async () => {
    const { queue, worker } = setup();
    const t = slowMiddlewareSandboxed();
    await queue.add(t);
    const started = Date.now();
    const working = worker.work({ maxTasks: 1 });
    const done = await queue.waitFor(t, { timeout: 30 });
    expect(Date.now() - started).toBeLessThan(3000);
    await working;
    expect([done.status, done.error?.type]).toEqual(["failed", "TaskTimeoutError"]);
  });

  it("a thread that exits under its task fails the task with a SandboxError, rebuilt as one; the worker goes on", async () => {
    const { queue, worker } = setup();
    const [exits, after] = [exitsThread(), nap(1)];
    await queue.add([exits, after]);
    expect(await worker.work({ oneshot: true })).toMatchObject({ processed: 1, failed: 1 });
    const done = await queue.getTask(exits);
    expect(done?.status).toBe("failed");
    expect(done?.error?.type).toBe("SandboxError");
    expect(done?.error?.message).toMatch(/exited with code 3/);
    expect(done?.error?.toError()).toBeInstanceOf(SandboxError);
    expect((await queue.getTask(after))?.result).toBe("rested");
  });

  it("an UnrecoverableError thrown in the thread fails the task at once, its retries unspent", async () => {
    const { queue, worker } = setup();
    const t = unrecoverableSandboxed();
    await queue.add(t);
    expect(await worker.work({ oneshot: true })).toMatchObject({ failed: 1, retried: 0 });
    const done = await queue.getTask(t);
    expect([done?.status, done?.retryCount]).toEqual(["failed", 0]);
    expect(done?.error?.toString()).toBe("UnrecoverableError: account closed");
  });

  it("a task returned from the thread is chained; a value that cannot cross fails the task", async () => {
    const { queue, worker } = setup();
    const parent = chains(41);
    const bad = returnsFunction();
    await queue.add([parent, bad]);
    await worker.work({ maxTasks: 3 });
    const done = await queue.getTask(parent);
    const child = done?.result as ReturnType<typeof followUp> | null;
    expect(child?.name).toBe("sandbox.follow-up");
    expect((await queue.getTask(child!.id))?.result).toBe(42);
    const failed = await queue.getTask(bad);
    expect(failed?.status).toBe("failed");
    expect(failed?.error?.message).toBe(
      "task 'sandbox.returns-function' returned a value JSON cannot store: result is a function, which JSON cannot store; not retried: the function ran to its end, and another attempt would repeat what it did",
    );
  });

  it("a result JSON cannot store fails the task with the same error in a sandbox as inline, without a retry", async () => {
    const { queue, worker } = setup();
    const pairs = [
      [returnsInstance(), returnsInstanceInline()],
      [returnsFunction(), returnsFunctionInline()],
    ] as const;
    await queue.add(pairs.flat());
    await worker.work({ maxTasks: 4 });
    for (const [sandboxed, inline] of pairs) {
      const [inThread, here] = await Promise.all([queue.getTask(sandboxed), queue.getTask(inline)]);
      expect(inThread?.status).toBe("failed");
      expect(here?.status).toBe("failed");
      expect(inThread?.error?.type).toBe("SerializationError");
      expect(inThread?.error?.type).toBe(here?.error?.type);
      expect([inThread?.retryCount, here?.retryCount]).toEqual([0, 0]);
      expect(inThread?.error?.message).toBe(
        here?.error?.message.replace(inline.name, sandboxed.name),
      );
    }
  });

  it("a result left to its schema that cannot leave the thread fails the task, naming it", async () => {
    const { queue, worker } = setup();
    const bad = returnsFunctionToSchema();
    await queue.add(bad);
    await worker.work({ maxTasks: 1 });
    const failed = await queue.getTask(bad);
    expect(failed?.status).toBe("failed");
    expect(failed?.error?.type).toBe("SerializationError");
    expect(failed?.error?.message).toMatch(
      /^task 'sandbox\.returns-function-to-schema' returned a value that cannot leave its sandbox thread: .*could not be cloned/,
    );
  });
});
