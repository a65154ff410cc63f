/**
 * A worker finds a task's code by its name in the registry of its copy of
 * Sheppy. Started with no task defined there (the modules not imported, or
 * imported through another copy) it would put back every task it claims,
 * unexplained, for the whole unknown-task grace: its start says so once.
 * (A file of its own: the registry here holds only what this file defines.)
 */
import { Queue, task, Worker } from "sheppy";
import { describe, expect, it } from "vitest";
import { warningLogger } from "../support/warning-logger.js";

async function startWarnings(): Promise<string[]> {
  const logger = warningLogger();
  const queue = new Queue("memory://");
  const worker = new Worker(queue, { logger, unknownTaskGrace: 120 });
  const working = worker.work();
  await worker.close();
  await working;
  await queue.close();
  return logger.warnings;
}

describe("a worker that knows no tasks", () => {
  it("says so at its start, with what to change and when its tasks will fail", async () => {
    const warnings = (await startWarnings()).filter((line) => line.includes("knows no tasks"));
    expect(warnings).toEqual([
      "this worker knows no tasks: import the modules that define them before work() — every task it claims is put back for another worker, and fails after 120 s",
    ]);
  });

  it("says nothing of it once a task is defined", async () => {
    task({ name: "worker-without-tasks.defined" }, () => 1);
    expect((await startWarnings()).filter((line) => line.includes("knows no tasks"))).toEqual([]);
  });
});
