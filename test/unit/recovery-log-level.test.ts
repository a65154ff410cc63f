/**
 * A worker's recovery lines ("… works again") are written at the level of
 * the warning they end, so a log that keeps warnings only (the default
 * logger's level) shows a worker that recovered, not one that looks broken.
 */
import { pino } from "pino";
import { BackendUnavailableError, MemoryBackend, Queue, task, Worker } from "sheppy";
import { describe, expect, it } from "vitest";
import { collectLines } from "../support/log-lines.js";
import { until } from "../support/until.js";

const echo = task({ name: "recovery-log-level.echo" }, (n: number) => n);

describe("recovery lines at warn level", () => {
  it("claiming tasks: the warning, then 'works again', both kept by a warn-level logger", async () => {
    const backend = new MemoryBackend({ instantProcessing: false });
    const queue = new Queue(backend, { name: "recovery-log-level" });
    await queue.connect();
    const claim = backend.claim.bind(backend);
    let failures = 2;
    backend.claim = async (...args) => {
      if (failures > 0) {
        failures--;
        throw new BackendUnavailableError("claim: the backend cannot be reached");
      }
      return claim(...args);
    };
    const { lines, sink } = collectLines();
    const worker = new Worker(queue, { logger: pino({ level: "warn" }, sink), claimWait: 0.05 });
    const working = worker.work();
    const t = echo(1);
    await queue.add(t);
    await until(async () => (await queue.getTask(t))?.status === "completed", {
      what: "the task run once claims work again",
    });
    await worker.close();
    await working;
    await queue.close();
    const said = lines.map((line) => [line.level, line.msg]);
    expect(said).toContainEqual([40, "cannot claim tasks; retrying with backoff"]);
    expect(said).toContainEqual([40, "claiming tasks works again"]);
  });
});
