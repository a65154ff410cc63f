/**
 * Redis goes away mid-run — restarted, or paused — on a private server. The
 * worker and the queue reconnect by themselves and finish every task; every
 * acknowledged add (including adds made during the outage) is kept. (Issue #3)
 */

import { BackendUnavailableError, Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterEach, describe, expect, it } from "vitest";
import { PrivateRedis } from "../../support/private-redis.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const slowEcho = task({ name: "outage.slow-echo" }, async (n: number) => {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return n;
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!available)("redis: server outage", () => {
  let server: PrivateRedis | undefined;

  afterEach(async () => {
    await server?.destroy();
  });

  async function runThroughOutage(outage: (server: PrivateRedis) => Promise<void>) {
    server = await PrivateRedis.start();
    const queue = new Queue(new RedisBackend({ url: server.url }), { name: "outage" });
    const workerQueue = new Queue(new RedisBackend({ url: server.url }), { name: "outage" });
    const worker = new Worker(workerQueue, {
      concurrency: 5,
      claimWait: 0.2,
      schedulerInterval: 0.1,
    });
    const before = Array.from({ length: 300 }, (_, i) => slowEcho(i));
    await queue.add(before);
    const working = worker.work();
    while ((await queue.size()) > 200) await sleep(20);

    const during = Array.from({ length: 50 }, (_, i) => slowEcho(1000 + i));
    const addedDuring = outage(server).then(() => undefined);
    await sleep(50);
    const acknowledged = await queue.add(during);
    await addedDuring;

    expect(acknowledged.every(Boolean)).toBe(true);
    const all = [...before, ...during];
    const finished = await queue.waitFor(all, { timeout: 60 });
    const notCompleted = finished.filter((t) => t.status !== "completed");
    expect(notCompleted.map((t) => `${t.status}: ${t.error?.toString()}`)).toEqual([]);
    expect(finished.map((t) => t.result)).toEqual([
      ...before.map((_, i) => i),
      ...during.map((_, i) => 1000 + i),
    ]);
    await worker.close();
    expect((await working).processed).toBe(all.length);
    await queue.close();
    await workerQueue.close();
  }

  it("a restart mid-run: the worker reconnects and finishes every task", async () => {
    await runThroughOutage(async (redis) => {
      await redis.stop();
      await sleep(1000);
      await redis.start();
    });
  });

  it("a pause (SIGSTOP) mid-run: the worker carries on once the server answers again", async () => {
    await runThroughOutage(async (redis) => {
      redis.pause();
      await sleep(1500);
      redis.resume();
    });
  });

  it("a waitFor rides out an outage longer than the backend's bound until its own timeout, then fails with the outage", async () => {
    server = await PrivateRedis.start();
    const redis = server;
    const producer = new Queue(new RedisBackend({ url: redis.url, unavailableAfter: 1 }), {
      name: "outage-wait",
    });
    const t = slowEcho(7);
    const u = slowEcho(8);
    await producer.add([t, u]);
    const waiting = producer.waitFor(t, { timeout: 60 });
    redis.pause();
    // Reads fail after a second each, and within about one while known down: several fail here.
    await sleep(3500);
    const short = await producer.waitFor(u, { timeout: 1.5 }).catch((error: unknown) => error);
    expect(short).toBeInstanceOf(BackendUnavailableError);
    redis.resume();
    const workerQueue = new Queue(new RedisBackend({ url: redis.url }), { name: "outage-wait" });
    const worker = new Worker(workerQueue, { concurrency: 2, claimWait: 0.2 });
    const working = worker.work();
    try {
      const done = await waiting;
      expect(done.status).toBe("completed");
      expect(done.result).toBe(7);
    } finally {
      await worker.close();
      await working;
      await workerQueue.close();
      await producer.close();
    }
  });
});
