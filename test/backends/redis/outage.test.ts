/**
 * Redis goes away mid-run — restarted, or paused — on a private server. The
 * worker and the queue reconnect by themselves and finish every task; every
 * acknowledged add (including adds made during the outage) is kept. (Issue #3)
 */

import { Queue, task, Worker } from "sheppy";
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
});
