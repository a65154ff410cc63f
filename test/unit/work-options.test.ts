/**
 * `worker.work(options)` checks its options as the constructor does: a
 * misspelt key (`maxtasks`) is refused naming the valid ones instead of
 * leaving the worker running for ever, `oneshot` must be a boolean, and every
 * refusal is an InvalidOptionError — before anything connects or runs.
 */
import { InvalidOptionError, Queue, task, Worker } from "sheppy";
import { describe, expect, test } from "vitest";

const job = task({ name: "work-options.job" }, (n: number) => n);

function worker(): Worker {
  return new Worker(new Queue("memory://?instantProcessing=false", { name: "work-options" }), {
    claimWait: 0.05,
  });
}

describe("worker.work() options", () => {
  test("an unknown key is refused, naming it and the valid ones", async () => {
    const attempt = worker().work({ maxtasks: 1 } as never);
    await expect(attempt).rejects.toThrow(InvalidOptionError);
    await expect(attempt).rejects.toThrow(
      "worker.work(): unknown option 'maxtasks'; did you mean 'maxTasks'? (valid options: maxTasks, oneshot)",
    );
  });

  test("oneshot must be true or false", async () => {
    for (const [given, shown] of [
      ["yes", '"yes"'],
      [1, "1"],
      [null, "null"],
    ] as const) {
      const attempt = worker().work({ oneshot: given } as never);
      await expect(attempt).rejects.toThrow(InvalidOptionError);
      await expect(attempt).rejects.toThrow(
        `worker.work(): oneshot must be true or false (got ${shown})`,
      );
    }
  });

  test("a bad maxTasks is an InvalidOptionError, like every other option", async () => {
    for (const [given, shown] of [
      [0, "0"],
      [1.5, "1.5"],
      ["3", '"3"'],
      [null, "null"],
    ] as const) {
      const attempt = worker().work({ maxTasks: given } as never);
      await expect(attempt).rejects.toThrow(InvalidOptionError);
      await expect(attempt).rejects.toThrow(
        `worker.work(): maxTasks must be an integer ≥ 1 (got ${shown})`,
      );
    }
  });

  test("options that are not an object are refused", async () => {
    await expect(worker().work("oneshot" as never)).rejects.toThrow(
      "worker.work(): options must be an object (got string)",
    );
  });

  test("a refused call leaves the worker free to work with good options", async () => {
    const w = worker();
    const queue = w.queues[0]!;
    await queue.add([job(1), job(2)]);
    await expect(w.work({ oneShot: true } as never)).rejects.toThrow(InvalidOptionError);
    const summary = await w.work({ oneshot: true, maxTasks: 5 });
    expect(summary.processed).toBe(2);
  });
});
