/**
 * The registry of queue names (`listQueues`, the HTTP API's `/queues`,
 * metrics) after Redis lost its data — restarted without persistence, or
 * flushed: a process that goes on using a queue records it again within
 * half a minute, instead of never (it used to record each queue once per
 * backend instance). A private server, since the test flushes it.
 */
import { Redis } from "ioredis";
import { Queue, task } from "sheppy";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { PrivateRedis } from "../../support/private-redis.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const echo = task({ name: "queue-registry.echo" }, (n: number) => n);

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("Redis: the queue registry after data loss", () => {
  let server: PrivateRedis | undefined;
  afterEach(() => vi.useRealTimers());
  afterAll(async () => server?.destroy());

  it("a queue still in use is listed again within half a minute of a flush", async () => {
    server = await PrivateRedis.start();
    const queue = new Queue(`${server.url}?prefix=registry`, { name: "orders" });
    const admin = new Redis(server.url);
    try {
      await queue.add(echo(1));
      expect(await queue.backend.listQueues()).toEqual(new Map([["orders", 1]]));
      await admin.flushall();
      // Right after the loss it is not listed; the next add within the half minute does not record it again.
      await queue.add(echo(2));
      expect([...(await queue.backend.listQueues()).keys()]).toEqual([]);
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 31_000 });
      await queue.add(echo(3));
      await vi.waitFor(async () =>
        expect(await queue.backend.listQueues()).toEqual(new Map([["orders", 2]])),
      );
    } finally {
      vi.useRealTimers();
      admin.disconnect();
      await queue.close();
    }
  });
});
