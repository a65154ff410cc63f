/** The worker's task log lines (`logTasks` and `sheppy work`): attempt numbers count from 1 and name the attempt that ran. */
import { pino } from "pino";
import { MemoryBackend, Queue, step, task, Worker, workflow } from "sheppy";
import { describe, expect, it } from "vitest";
import { logTaskEvents } from "../../src/cli/commands/work-log.js";
import { logFailed } from "../../src/worker/task-log.js";
import { collectLines } from "../support/log-lines.js";

let runs = 0;
const flaky = task({ name: "work-log.flaky", retry: 2, retryDelay: 0 }, () => {
  runs++;
  if (runs < 3) throw new Error(`run ${runs} fails`);
  return "ok";
});

const failing = task({ name: "work-log.failing" }, () => {
  throw new Error("fails");
});

const alwaysFails = task({ name: "work-log.always-fails", retry: 2, retryDelay: 0 }, () => {
  throw new Error("fails");
});

const explodes = workflow({ name: "work-log.explodes" }, function* () {
  yield* step(failing());
  throw new Error("gave up");
});

const thrown: { value: unknown } = { value: null };
const throwsAnything = task({ name: "work-log.throws-anything" }, () => {
  throw thrown.value;
});

describe("worker log lines", () => {
  it("err is an object with a type and a message whatever was thrown (null, text, a plain object, an Error)", async () => {
    for (const value of [
      null,
      undefined,
      "text",
      42,
      { code: "E_OBJ", detail: [1, 2] },
      new RangeError("out"),
    ]) {
      thrown.value = value;
      const { lines, sink } = collectLines();
      const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
        name: "work-log-thrown",
      });
      await queue.add(throwsAnything());
      const logger = pino({ level: "info" }, sink);
      const worker = new Worker(queue, { scheduler: false, logTasks: true, logger });
      await worker.work({ oneshot: true });
      await queue.close();
      const failed = lines.find((line) => line.msg === "task failed") as
        | { err?: { type?: unknown; message?: unknown }; error?: string }
        | undefined;
      expect(typeof failed?.err?.type, String(value)).toBe("string");
      expect(typeof failed?.err?.message, String(value)).toBe("string");
      expect(failed?.error).toBe(`${failed?.err?.type}: ${failed?.err?.message}`);
      if (value instanceof Error) expect(failed?.err?.type).toBe("RangeError");
      else expect(failed?.err?.type).toBe("NonError");
    }
  });

  it("a workflow's resumes log what happened to the workflow; its steps carry its id", async () => {
    const { lines, sink } = collectLines();
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "work-log-wf",
    });
    const wf = await queue.addWorkflow(explodes());
    const logger = pino({ level: "info" }, sink);
    const worker = new Worker(queue, { scheduler: false, logTasks: true, logger });
    logTaskEvents(worker, logger);
    await worker.work({ oneshot: true });
    await queue.close();
    expect(lines.map((line) => [line.msg, line.workflowId])).toEqual([
      ["task started", wf.id],
      ["task failed", wf.id],
      [
        `workflow failed (sheppy workflow info -q work-log-wf ${wf.id} shows why; sheppy workflow retry -q work-log-wf ${wf.id} runs it again)`,
        wf.id,
      ],
    ]);
    // The line says why, as a task's failure line does.
    expect(lines.at(-1)?.err).toMatchObject({ type: "Error", message: "gave up" });
    expect(lines.at(-1)?.error).toBe("Error: gave up");
  });

  it("a failed resume is said as its workflow's, naming the workflow, not as a task of the operator's", () => {
    const { lines, sink } = collectLines();
    const logger = pino({ level: "info" }, sink);
    const resume = {
      id: "r-1",
      name: "workflow:orders.fulfil",
      workflowId: "wf-9",
      retryCount: 0,
      manualRetryCount: 0,
      nextRetryAt: null,
      error: { type: "UnknownTaskError", message: "no workflow named 'orders.fulfil'" },
    };
    logFailed(logger, "q", { ...resume, finishedAt: "2030-01-01T00:00:00.000Z" } as never, null, 3);
    logFailed(
      logger,
      "q",
      {
        ...resume,
        finishedAt: null,
        retryCount: 1,
        nextRetryAt: "2030-01-01T00:00:01.000Z",
      } as never,
      null,
      3,
    );
    expect(lines.map((line) => [line.msg, line.workflow, line.workflowId])).toEqual([
      [
        "a workflow's resume failed (sheppy workflow info -q q wf-9 shows the workflow)",
        "orders.fulfil",
        "wf-9",
      ],
      ["a workflow's resume failed; it will be retried", "orders.fulfil", "wf-9"],
    ]);
  });

  it("a manual retry is the next attempt, not attempt 1 again", async () => {
    const { lines, sink } = collectLines();
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "work-log-manual",
    });
    const t = failing();
    await queue.add(t);
    const logger = pino({ level: "info" }, sink);
    const worker = new Worker(queue, { scheduler: false, logTasks: true, logger });
    logTaskEvents(worker, logger);
    await worker.work({ oneshot: true });
    await queue.retry(t);
    await worker.work({ oneshot: true });
    await queue.close();
    expect(lines.map((line) => [line.msg, line.attempt])).toEqual([
      ["task started", 1],
      ["task failed", 1],
      ["task started", 2],
      ["task failed", 2],
    ]);
  });

  it("a Worker made in code with logTasks ends every started line: completed, retried or failed", async () => {
    const { lines, sink } = collectLines();
    const logger = pino({ level: "info" }, sink);
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "wl-code" });
    await queue.add(failing());
    const worker = new Worker(queue, { scheduler: false, logTasks: true, logger });
    await worker.work({ oneshot: true });
    await queue.close();
    expect(lines.map((line) => [line.msg, line.attempt, line.error])).toEqual([
      ["task started", 1, undefined],
      ["task failed", 1, "Error: fails"],
    ]);
    expect(lines[1]).toMatchObject({ level: 50, task: "work-log.failing" });
    expect(typeof lines[1]!.durationMs).toBe("number");
  });

  it("a Worker made in code logs its failures and retries by default, and nothing with logTasks: false", async () => {
    for (const [logTasks, expected] of [
      [
        undefined,
        [
          ["task failed; it will be retried", 1, 40],
          ["task failed; it will be retried", 2, 40],
          ["task failed", 3, 50],
        ],
      ],
      [
        "failures",
        [
          ["task failed; it will be retried", 1, 40],
          ["task failed; it will be retried", 2, 40],
          ["task failed", 3, 50],
        ],
      ],
      [false, []],
    ] as const) {
      const { lines, sink } = collectLines();
      const logger = pino({ level: "info" }, sink);
      const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
        name: "wl-default",
      });
      await queue.add(alwaysFails());
      const worker = new Worker(queue, {
        scheduler: false,
        logger,
        ...(logTasks === undefined ? {} : { logTasks }),
      });
      // What sheppy work adds on top of the worker's lines changes none of them.
      logTaskEvents(worker, logger);
      await worker.work({ oneshot: true });
      await queue.close();
      expect(
        lines.map((line) => [line.msg, line.attempt, line.level]),
        String(logTasks),
      ).toEqual(expected);
    }
    expect(() => new Worker(new Queue("memory://"), { logTasks: "all" as never })).toThrow(
      'Worker option logTasks must be true, false or "failures" (got "all")',
    );
  });

  it("the first failure is attempt 1, its retry attempt 2, and so on", async () => {
    const { lines, sink } = collectLines();
    const logger = pino({ level: "info" }, sink);
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "work-log" });
    await queue.add(flaky());
    const worker = new Worker(queue, { scheduler: false, logTasks: true, logger });
    logTaskEvents(worker, logger);
    await worker.work({ oneshot: true });
    await queue.close();
    const seen = lines.map((line) => [line.msg, line.attempt]);
    expect(seen).toEqual([
      ["task started", 1],
      ["task failed; it will be retried", 1],
      ["task started", 2],
      ["task failed; it will be retried", 2],
      ["task started", 3],
      ["task completed", 3],
    ]);
  });
});

const limited = task(
  { name: "work-log.limited", rateLimit: { maxRate: 1, ratePeriod: 60 } },
  () => "ran",
);

describe("rate-limit deferrals in the log", () => {
  it("each task put off to its slot is a debug line naming when it is due", async () => {
    const { lines, sink } = collectLines();
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "work-log-rl",
    });
    const [first, second] = [limited(), limited()];
    await queue.add([first!, second!]);
    const worker = new Worker(queue, { scheduler: false, logger: pino({ level: "debug" }, sink) });
    await worker.work({ oneshot: true });
    await queue.close();
    const putOff = lines.filter((line) => line.msg === "task put off to its rate-limit slot");
    expect(putOff).toHaveLength(1);
    expect(putOff[0]).toMatchObject({ taskId: second!.id, task: "work-log.limited" });
    expect(String(putOff[0]!.until)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
