/**
 * A worker event listener that throws (or a logger that does) is the
 * application's bug, not the task's: the task's outcome is stored as it was,
 * the error is logged, and the worker goes on — a oneshot run still ends, and
 * every other listener is still told.
 */
import { MemoryBackend, Queue, task, Worker } from "sheppy";
import { describe, expect, it } from "vitest";

const fails = task({ name: "throwing-listeners.fails", retry: 1, retryDelay: 0 }, () => {
  throw new Error("task fails");
});
const passes = task({ name: "throwing-listeners.passes" }, (n: number) => n);

function capture() {
  const lines: { level: string; msg: string }[] = [];
  const at =
    (level: string) =>
    (objOrMsg: object | string, msg?: string): void => {
      lines.push({ level, msg: typeof objOrMsg === "string" ? objOrMsg : (msg ?? "") });
    };
  const logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  return { lines, logger };
}

describe("listeners and loggers that throw", () => {
  it("a throwing task:failed, task:retrying and task:completed listener: every outcome is stored, the oneshot run ends", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "throwing-listeners",
    });
    const tasks = [fails(), passes(1), fails(), passes(2)];
    await queue.add(tasks);
    const { lines, logger } = capture();
    const worker = new Worker(queue, { concurrency: 2, logger, logTasks: false });
    const told: string[] = [];
    for (const event of ["task:failed", "task:retrying", "task:completed"] as const) {
      worker.on(event, () => {
        throw new Error(`${event} listener broke`);
      });
    }
    worker.on("task:started", ({ task: t }) => told.push(t.id));
    const summary = await worker.work({ oneshot: true });
    expect(summary).toMatchObject({ processed: 2, failed: 2, retried: 2 });
    const stored = await queue.getTask(tasks);
    expect(stored.map((t) => t?.status)).toEqual(["failed", "completed", "failed", "completed"]);
    // Each attempt started was told, retries included, though the listener before it threw.
    expect(told).toHaveLength(6);
    expect(
      lines.filter((l) => l.msg === "a worker event listener threw; the task was not affected"),
    ).toHaveLength(6);
    await queue.close();
  });

  it("a logger that throws on every line: the failures are stored and the run ends", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "throwing-logger",
    });
    const tasks = [fails(), passes(3)];
    await queue.add(tasks);
    const broken = () => {
      throw new Error("log sink is gone");
    };
    const logger = { debug: broken, info: broken, warn: broken, error: broken } as never;
    const summary = await new Worker(queue, { logger, logTasks: true }).work({ oneshot: true });
    expect(summary).toMatchObject({ processed: 1, failed: 1, retried: 1 });
    expect((await queue.getTask(tasks)).map((t) => t?.status)).toEqual(["failed", "completed"]);
    await queue.close();
  });

  it("an async listener whose promise rejects: logged, the run ends, nothing is left held, the process goes on", async () => {
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), {
      name: "rejecting-listeners",
    });
    const tasks = [fails(), passes(4), passes(5)];
    await queue.add(tasks);
    const { lines, logger } = capture();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const worker = new Worker(queue, { concurrency: 3, logger, logTasks: false });
      worker.on("task:failed", async () => {
        await Promise.resolve();
        throw new Error("the alert service is down");
      });
      worker.on("task:completed", async () => {
        throw new Error("the audit log is down");
      });
      const summary = await worker.work({ oneshot: true });
      expect(summary).toMatchObject({ processed: 2, failed: 1 });
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).toEqual([]);
      expect(
        lines.filter(
          (l) => l.msg === "a worker event listener's promise rejected; the task was not affected",
        ),
      ).toHaveLength(3);
      expect((await queue.getTask(tasks)).map((t) => t?.status)).toEqual([
        "failed",
        "completed",
        "completed",
      ]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      await queue.close();
    }
  });
});
