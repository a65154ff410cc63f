/**
 * Closing while a claim goes unanswered (a backend that stopped answering):
 * the claim loop stops waiting for it at once, so `close()` ends within the
 * shutdown timeout and its grace instead of when the claim gives up; and
 * what the claim takes when it does answer is put back in the queue, not run.
 */
import { type Logger, Queue, task, Worker } from "sheppy";
import type { ClaimedTask } from "sheppy/backend";
import { MemoryBackend } from "sheppy/backends/memory";
import { describe, expect, test } from "vitest";

const ran: number[] = [];
const job = task({ name: "close-unanswered-claim.job" }, (n: number) => {
  ran.push(n);
  return n;
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A memory backend whose claims do not answer while its gate is shut. */
class GatedBackend extends MemoryBackend {
  claims = 0;
  #gate: Promise<void> = Promise.resolve();
  open: () => void = () => undefined;

  shut(): void {
    this.#gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  override async claim(queue: string, limit: number, waitMs?: number): Promise<ClaimedTask[]> {
    this.claims++;
    await this.#gate;
    return super.claim(queue, limit, waitMs);
  }
}

function capture(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const nothing = () => undefined;
  const warn = (objOrMsg: object | string, msg?: string) =>
    warnings.push(typeof objOrMsg === "string" ? objOrMsg : (msg ?? ""));
  return { logger: { debug: nothing, info: nothing, warn, error: warn }, warnings };
}

describe("close() while a claim is unanswered", () => {
  test("ends within shutdownTimeout and the 5 s grace; the claim's task goes back to the queue, unrun", async () => {
    const backend = new GatedBackend({ instantProcessing: false });
    const queue = new Queue(backend, { name: "close-unanswered-claim" });
    const { logger, warnings } = capture();
    const worker = new Worker(queue, { shutdownTimeout: 0, logger });
    backend.shut();
    const working = worker.work();
    await expect.poll(() => backend.claims).toBe(1);
    const t = job(1);
    await queue.add(t);

    const started = Date.now();
    const tooLong = sleep(12_000).then(() => {
      throw new Error("close() was still waiting for the unanswered claim after 12 s");
    });
    await Promise.race([worker.close(), tooLong]);
    const took = Date.now() - started;
    // shutdownTimeout (0) + the stop grace (5 s), with room for a busy machine.
    expect(took).toBeLessThan(6500);
    expect((await working).processed).toBe(0);
    expect(warnings).toContainEqual(
      expect.stringContaining("stopped waiting for the backend to answer a claim"),
    );

    backend.open();
    await expect.poll(async () => (await queue.getTask(t))?.status).toBe("pending");
    await sleep(100);
    expect(ran).toEqual([]);
    expect((await queue.getTask(t))?.status).toBe("pending");
  }, 20_000);

  test("a claim answered within the grace hands its tasks back before close() returns", async () => {
    const backend = new GatedBackend({ instantProcessing: false });
    const queue = new Queue(backend, { name: "close-answered-claim" });
    const worker = new Worker(queue, { shutdownTimeout: 0 });
    backend.shut();
    const working = worker.work();
    await expect.poll(() => backend.claims).toBe(1);
    const t = job(2);
    await queue.add(t);
    const closed = worker.close();
    await sleep(200);
    backend.open();
    await closed;
    expect((await working).processed).toBe(0);
    expect((await queue.getTask(t))?.status).toBe("pending");
    expect(ran).not.toContain(2);
  });
});
