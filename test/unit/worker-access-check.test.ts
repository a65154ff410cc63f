/**
 * A backend's check of a worker's rights (`checkWorkerAccess`, PostgreSQL's
 * role check): a refusal stops the worker's start with that error; a check
 * that could not be made (the server unreachable just then) does not — the
 * worker starts, says so, and its claims retry as through any outage.
 */
import { BackendError, BackendUnavailableError, MemoryBackend, Queue, task, Worker } from "sheppy";
import { describe, expect, test } from "vitest";
import { warningLogger } from "../support/warning-logger.js";

const double = task({ name: "unit-access.double" }, (n: number) => n * 2);

function queueChecking(check: () => Promise<void>): Queue {
  const backend = new MemoryBackend({ instantProcessing: false });
  Object.assign(backend, { checkWorkerAccess: check });
  return new Queue(backend, { name: "access" });
}

describe("a worker's start and the backend's access check", () => {
  test("a refusal rejects work() with it, and nothing is claimed", async () => {
    const refusal = new BackendError("role app may not do a worker's work");
    const queue = queueChecking(() => Promise.reject(refusal));
    await queue.add(double(2));
    const worker = new Worker(queue, { logger: warningLogger() });
    await expect(worker.work({ oneshot: true })).rejects.toBe(refusal);
    expect(await queue.size()).toBe(1);
  });

  test("a check the backend could not answer is logged, and the worker runs", async () => {
    const queue = queueChecking(() =>
      Promise.reject(new BackendUnavailableError("server unreachable")),
    );
    await queue.add(double(2));
    const logger = warningLogger();
    const summary = await new Worker(queue, { logger }).work({ oneshot: true });
    expect(summary.processed).toBe(1);
    expect(logger.warnings).toEqual([
      "could not check this worker's rights on the backend; starting all the same",
    ]);
  });
});
