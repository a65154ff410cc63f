/**
 * `taskMixin`: the application's own pino logger, given the mixin, names the
 * running attempt on each line a task writes — the fields the worker's own
 * lines carry — and adds nothing outside a task.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { Queue, task, taskMixin, Worker } from "sheppy";
import { MemoryBackend } from "sheppy/backends/memory";
import { describe, expect, it } from "vitest";

function recordingPino() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: pino({ mixin: taskMixin }, stream) };
}

describe("taskMixin", () => {
  it("adds the queue, task id, task name and attempt to a line written inside a task, and nothing outside one", async () => {
    const { lines, logger } = recordingPino();
    let calls = 0;
    const flaky = task({ name: "mixin.flaky", retry: 1, retryDelay: 0 }, async (order: string) => {
      calls++;
      logger.info({ order }, "charging");
      if (calls === 1) throw new Error("declined");
      return order;
    });
    const queue = new Queue("memory://", { name: "billing" });
    const t = flaky("o-1");
    await queue.add(t);
    expect((await queue.waitFor(t, { timeout: 5 })).status).toBe("completed");
    logger.info("outside");
    await queue.close();

    const fields = (line: Record<string, unknown>) => ({
      queue: line.queue,
      taskId: line.taskId,
      task: line.task,
      attempt: line.attempt,
      msg: line.msg,
    });
    expect(lines.map(fields)).toEqual([
      { queue: "billing", taskId: t.id, task: "mixin.flaky", attempt: 1, msg: "charging" },
      { queue: "billing", taskId: t.id, task: "mixin.flaky", attempt: 2, msg: "charging" },
      { queue: undefined, taskId: undefined, task: undefined, attempt: undefined, msg: "outside" },
    ]);
    expect(lines[0]).toMatchObject({ order: "o-1" });
    expect(lines[0]).not.toHaveProperty("workflowId");
  });

  it("a worker's own lines and the task's share the logger: task started comes before what the task logs as it starts", async () => {
    const { lines, logger } = recordingPino();
    const greet = task({ name: "mixin.greet" }, (who: string) => {
      // Logged before any await: in the same turn the attempt starts in.
      logger.info({ who }, "greeting");
      return `hi ${who}`;
    });
    const queue = new Queue(new MemoryBackend({ instantProcessing: false }), { name: "mail" });
    const t = greet("ada");
    await queue.add(t);
    await new Worker(queue, { logger, logTasks: true, handleSignals: false }).work({
      maxTasks: 1,
    });
    await queue.close();
    const ofTask = lines.filter((line) => line.taskId === t.id).map((line) => line.msg);
    expect(ofTask).toEqual(["task started", "greeting", "task completed"]);
  });
});
