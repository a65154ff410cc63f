/**
 * Leases through outages and pauses, on a private Redis: a server that is
 * down, or stops answering, for longer than the lease must not let one live
 * worker take over another live worker's tasks; a holder whose claim was
 * taken over can never write; and while the server cannot be reached, calls
 * fail with a typed error in bounded time and a worker still closes.
 */
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { BackendUnavailableError, Queue, type TaskData, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterEach, describe, expect, it } from "vitest";
import { executionsKey, recordedWork } from "../../fixtures/crash-tasks.js";
import { PrivateRedis } from "../../support/private-redis.js";
import { exited, spawnTs, waitForOutput } from "../../support/processes.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const PREFIX = "outage-leases";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const job = task({ name: "outage-leases.job" }, (n: number) => n);
const stubborn = task({ name: "outage-leases.stubborn" }, async () => {
  // Ignores its signal: only the shutdown grace can end the worker's wait for it.
  await sleep(60_000);
  return "done";
});

describe.skipIf(!available)("redis: leases through outages and pauses", () => {
  let server: PrivateRedis | undefined;
  const children: ChildProcess[] = [];
  const closing: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
    for (const close of closing.splice(0)) await close().catch(() => undefined);
    await server?.destroy();
    server = undefined;
  });

  /** Two worker processes on `queue` of the private server; each task's execution is recorded there. */
  async function twoWorkers(redis: PrivateRedis, queue: string, tasks: number, workMs: number) {
    const env = {
      TEST_REDIS_URL: redis.url,
      TEST_PREFIX: PREFIX,
      TEST_QUEUE: queue,
      TEST_CONCURRENCY: String(tasks),
      TEST_LEASE: "1",
      TEST_HEARTBEAT: "0.2",
      TEST_RECLAIM: "0.2",
    };
    const workers = [0, 1].map(() => spawnTs("test/fixtures/crash-worker.ts", env));
    children.push(...workers);
    const output = workers.map((child) => {
      let text = "";
      child.stdout?.on("data", (chunk: string) => {
        text += chunk;
      });
      return () => text;
    });
    await Promise.all(workers.map((child) => waitForOutput(child, "ready")));
    const producer = new Queue(new RedisBackend({ url: redis.url, prefix: PREFIX }), {
      name: queue,
    });
    closing.push(() => producer.close());
    const added = Array.from({ length: tasks }, (_, i) =>
      recordedWork(redis.url, PREFIX, i, workMs),
    );
    await producer.add(added);
    const recorder = new Redis(redis.url);
    recorder.on("error", () => undefined);
    closing.push(async () => recorder.disconnect());
    // Every task has started (each worker runs its share) before the fault.
    while ((await recorder.llen(executionsKey(PREFIX))) < tasks) await sleep(20);
    return { workers, output, producer, added, recorder };
  }

  /** After a fault: every task completed once, never reclaimed, never retried. */
  async function expectEachRanOnce(run: Awaited<ReturnType<typeof twoWorkers>>) {
    const finished = await run.producer.waitFor(run.added, { timeout: 60 });
    expect(finished.map((t) => [t.status, t.retryCount])).toEqual(
      run.added.map(() => ["completed", 0]),
    );
    const executions = await run.recorder.lrange(executionsKey(PREFIX), 0, -1);
    expect(executions).toHaveLength(run.added.length);
    expect(run.output.map((text) => text()).join("")).not.toContain("reclaimed");
    for (const child of run.workers) child.kill("SIGTERM");
    expect(await Promise.all(run.workers.map(exited))).toEqual([0, 0]);
  }

  it("Redis down for 6 s (six leases): each live worker keeps its tasks; every task runs once", async () => {
    server = await PrivateRedis.start();
    const run = await twoWorkers(server, "restart", 16, 9000);
    await server.stop();
    await sleep(6000);
    await server.start();
    await expectEachRanOnce(run);
  }, 60_000);

  it("Redis paused three times for 2 s (DEBUG SLEEP) with a 1 s lease: nothing is taken over", async () => {
    server = await PrivateRedis.start(["--enable-debug-command", "yes"]);
    const run = await twoWorkers(server, "pause", 16, 7000);
    const admin = new Redis(server.url);
    admin.on("error", () => undefined);
    closing.push(async () => admin.disconnect());
    for (let i = 0; i < 3; i++) {
      await admin.call("DEBUG", "SLEEP", "2");
      await sleep(300);
    }
    await expectEachRanOnce(run);
  }, 60_000);

  it("a holder whose claim was taken over cannot write: its late outcome and renewals are refused", async () => {
    server = await PrivateRedis.start();
    const holder = new RedisBackend({ url: server.url, prefix: PREFIX });
    const taker = new RedisBackend({ url: server.url, prefix: PREFIX });
    closing.push(
      () => holder.disconnect(),
      () => taker.disconnect(),
    );
    await Promise.all([holder.connect(), taker.connect()]);
    const record: TaskData = { ...job(1).toJSON(), status: "pending" };
    await holder.add("repro", [record]);
    const [claim] = await holder.claim("repro", 1);
    await sleep(50);
    const [taken] = await taker.reclaimExpired("repro", { leaseMs: 10, confirmMs: 0 });
    const crashed: TaskData = {
      ...taken!.record,
      status: "crashed",
      finishedAt: new Date().toISOString(),
    };
    const now = Date.now();
    const settle = (backend: RedisBackend, fence: number, end: TaskData) =>
      backend.settle("repro", [{ fence, record: end, children: [], expiresAt: null }], now);
    expect(await settle(taker, taken!.fence, crashed)).toEqual(["settled"]);
    const completed: TaskData = {
      ...claim!.record,
      status: "completed",
      result: 1,
      finishedAt: new Date().toISOString(),
    };
    expect(await settle(holder, claim!.fence, completed)).toEqual(["lost"]);
    expect(await holder.renew("repro", [{ id: record.id, fence: claim!.fence }])).toEqual([
      record.id,
    ]);
    expect((await holder.getTasks("repro", [record.id])).get(record.id)?.status).toBe("crashed");
  });

  it("while Redis is down, add and stats fail with BackendUnavailableError after unavailableAfter; nothing is half-added", async () => {
    server = await PrivateRedis.start();
    const queue = new Queue(
      new RedisBackend({ url: server.url, prefix: PREFIX, unavailableAfter: 1 }),
      { name: "down" },
    );
    closing.push(() => queue.close());
    await queue.add(job(0));
    await server.stop();
    const t = job(1);
    const started = Date.now();
    const error = await queue.add(t).catch((e: unknown) => e);
    const took = Date.now() - started;
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/could not be reached within 1 s/);
    expect((error as Error).cause).toBeDefined();
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(4000);
    await expect(queue.stats()).rejects.toThrow(BackendUnavailableError);
    await server.start();
    // The refused add never reached Redis: adding it now stores it, once.
    expect(await queue.add(t)).toBe(true);
    expect(await queue.add(t)).toBe(false);
    expect((await queue.stats()).pending).toBe(2);
  }, 30_000);

  it("while Redis is paused, a call fails saying the server is connected but did not answer, not that it cannot be reached", async () => {
    server = await PrivateRedis.start();
    const queue = new Queue(
      new RedisBackend({ url: server.url, prefix: PREFIX, unavailableAfter: 1 }),
      { name: "paused" },
    );
    closing.push(() => queue.close());
    await queue.add(job(0));
    server.pause();
    try {
      const error = await queue.stats().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BackendUnavailableError);
      expect((error as Error).message).toMatch(
        /^\w+: Redis at redis:\/\/127\.0\.0\.1:\d+ is connected but did not answer within 1 s \(paused, or busy with a long command or script\); a write may or may not have been applied, and may still be when the server answers$/,
      );
      // An add sent and not answered is stored once the server resumes: the error says it may be.
      const unanswered = await queue.add(job(1)).catch((e: unknown) => e);
      expect(unanswered).toBeInstanceOf(BackendUnavailableError);
      expect((unanswered as Error).message).toContain("may or may not have been applied");
    } finally {
      server.resume();
    }
    await expect.poll(async () => (await queue.stats()).pending, { timeout: 10_000 }).toBe(2);
  }, 30_000);

  it("close() ends within shutdownTimeout and the grace while Redis is down, a task still running", async () => {
    server = await PrivateRedis.start();
    const queue = new Queue(
      new RedisBackend({ url: server.url, prefix: PREFIX, unavailableAfter: 2 }),
      { name: "close-down" },
    );
    closing.push(() => queue.close());
    const worker = new Worker(queue, { shutdownTimeout: 0.5, claimWait: 0.2 });
    const running = worker.work();
    const started = new Promise((resolve) => worker.once("task:started", resolve));
    await queue.add(stubborn());
    await started;
    await server.stop();
    const t0 = Date.now();
    await worker.close();
    const summary = await running;
    // shutdownTimeout (0.5 s) + the stop grace (5 s) at most, and time for the loops on a busy
    // machine — far sooner than the task's minute.
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(summary.interrupted).toBe(1);
  }, 30_000);
});
