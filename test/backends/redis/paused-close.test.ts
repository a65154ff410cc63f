/**
 * `close()` while the Redis server is paused (SIGSTOP: it keeps its
 * connections but answers nothing), on a private server: it ends within
 * `shutdownTimeout` plus the 5 s stop grace, as documented — an unanswered
 * claim does not hold the shutdown until the call times out — whether the
 * worker was idle or a task that ignores its signal was running. The
 * backend's own disconnect waits 1 s for a polite QUIT, then drops.
 */
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterEach, describe, expect, it } from "vitest";
import { PrivateRedis } from "../../support/private-redis.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const stubborn = task({ name: "paused-close.stubborn" }, async () => {
  // Ignores its signal: only the end of the shutdown timeout stops the worker waiting for it.
  await sleep(60_000);
});

const SHUTDOWN_TIMEOUT_S = 2;
/** What README and docs/reliability.md promise: shutdownTimeout plus at most 5 s. */
const BOUND_MS = (SHUTDOWN_TIMEOUT_S + 5) * 1000;
/** Timers firing late on a busy machine; far below the claim's time-out, which the bound must not wait for. */
const SLACK_MS = 1500;

describe.skipIf(!available)("redis: close() while the server is paused", () => {
  let server: PrivateRedis | undefined;
  const closing: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    server?.resume();
    for (const close of closing.splice(0)) await close().catch(() => undefined);
    await server?.destroy();
    server = undefined;
  });

  async function pausedWorker(withTask: boolean) {
    server = await PrivateRedis.start();
    const queue = new Queue(new RedisBackend({ url: server.url }), { name: "paused-close" });
    closing.push(() => queue.close());
    const worker = new Worker(queue, { shutdownTimeout: SHUTDOWN_TIMEOUT_S });
    worker.on("worker:error", () => undefined);
    const working = worker.work();
    if (withTask) {
      const started = new Promise((resolve) => worker.once("task:started", resolve));
      await queue.add(stubborn());
      await started;
    } else {
      await sleep(2000);
    }
    server.pause();
    // Long enough for the claim loop to be waiting on the paused server.
    await sleep(1000);
    return { worker, working };
  }

  async function timedClose(worker: Worker): Promise<number> {
    const t0 = Date.now();
    await worker.close();
    return Date.now() - t0;
  }

  it("a worker whose first connect hangs on the paused server closes at once, having claimed nothing", async () => {
    server = await PrivateRedis.start();
    server.pause();
    const queue = new Queue(new RedisBackend({ url: server.url }), { name: "paused-close" });
    closing.push(() => queue.close());
    const worker = new Worker(queue, { shutdownTimeout: SHUTDOWN_TIMEOUT_S });
    const working = worker.work();
    await sleep(1000);
    const took = await timedClose(worker);
    // It waited out the connect's whole bound (21 s) before.
    expect(took, `close() took ${took / 1000} s`).toBeLessThan(SLACK_MS);
    expect((await working).processed).toBe(0);
  }, 60_000);

  it("a queue closed while its first connect hangs on the paused server closes at once; the connect fails", async () => {
    server = await PrivateRedis.start();
    server.pause();
    const queue = new Queue(new RedisBackend({ url: server.url }), { name: "paused-close" });
    const connecting = queue.connect().then(
      () => "connected",
      (error: unknown) => error,
    );
    await sleep(500);
    const t0 = Date.now();
    await queue.close();
    const took = Date.now() - t0;
    // It waited out the handshake's bound (10 s; 20 s before that had one bound) before.
    expect(took, `close() took ${took / 1000} s`).toBeLessThan(SLACK_MS);
    expect(await connecting).not.toBe("connected");
  }, 60_000);

  it("an idle worker (its claim unanswered) closes within shutdownTimeout + 5 s", async () => {
    const { worker, working } = await pausedWorker(false);
    const took = await timedClose(worker);
    expect(
      took,
      `close() took ${took / 1000} s; the documented bound is ${BOUND_MS / 1000} s`,
    ).toBeLessThan(BOUND_MS + SLACK_MS);
    expect((await working).processed).toBe(0);
  }, 60_000);

  it("with a running task that ignores its signal, it closes within shutdownTimeout + 5 s and interrupts the task", async () => {
    const { worker, working } = await pausedWorker(true);
    const took = await timedClose(worker);
    expect(
      took,
      `close() took ${took / 1000} s; the documented bound is ${BOUND_MS / 1000} s`,
    ).toBeLessThan(BOUND_MS + SLACK_MS);
    // The task had its shutdown timeout first.
    expect(took).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_S * 1000 - 100);
    expect((await working).interrupted).toBe(1);
  }, 60_000);

  it("disconnecting the backend drops its connections once their polite QUIT has waited 1 s", async () => {
    server = await PrivateRedis.start();
    const backend = new RedisBackend({ url: server.url });
    const queue = new Queue(backend, { name: "paused-disconnect" });
    closing.push(() => queue.close());
    await queue.add(stubborn());
    await queue.getTask("none");
    server.pause();
    const t0 = Date.now();
    await backend.disconnect();
    // Not the seconds ioredis takes to settle an unanswered QUIT after the drop.
    expect(Date.now() - t0).toBeLessThan(1000 + SLACK_MS);
  }, 30_000);
});
