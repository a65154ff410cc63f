/**
 * An idle worker's claim is sent behind its wait and stamped by Redis's
 * clock, less the worker's measured offset from it. The stamp must read as
 * the worker's own `toISOString()` would, for every instant, and a task
 * claimed that way starts no earlier than it was added.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { Redis } from "ioredis";
import { Queue, RedisBackend, task, Worker } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const lib = (name: string) =>
  readFileSync(
    new URL(`../../../src/backends/redis/scripts/lib/${name}.lua`, import.meta.url),
    "utf8",
  );

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)(
  "redis: a claim behind a wait is stamped like the worker's clock",
  () => {
    const client = new Redis(REDIS_URL);
    const format = `${lib("iso-time")}\nreturn isoAt(tonumber(ARGV[1]))`;
    const offsetStamp = `${lib("iso-time")}\nreturn serverMs(tonumber(ARGV[1]))`;

    afterAll(async () => {
      client.disconnect();
      await deleteRedisPrefix(prefix);
    });

    it("formats every instant from 1970 to 9999 as toISOString() does", async () => {
      const edges = [0, 951_782_400_000, 4_107_542_399_999, 253_402_300_799_999, Date.now()];
      for (const ms of edges) {
        expect(await client.eval(format, 0, ms)).toBe(new Date(ms).toISOString());
      }
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 253_402_300_799_999 }), async (ms) => {
          expect(await client.eval(format, 0, ms)).toBe(new Date(ms).toISOString());
        }),
        { numRuns: 300 },
      );
    });

    it("moves the server's clock by the offset given", async () => {
      const before = Date.now();
      const shifted = Number(await client.eval(offsetStamp, 0, 3_600_000));
      expect(shifted).toBeGreaterThan(before - 3_600_000 - 1_000);
      expect(shifted).toBeLessThan(Date.now() - 3_600_000 + 1_000);
    });

    it("a task added to an idle queue starts after it was added, stamped in the record", async () => {
      const backend = new RedisBackend({ url: REDIS_URL, prefix });
      const queue = new Queue(backend, { name: "stamp" });
      const job = task({ name: "stamp.job" }, (n: number) => n);
      const worker = new Worker(queue, { concurrency: 2, scheduler: false });
      const working = worker.work();
      try {
        // The worker is idle and waiting before each add: every claim here is sent behind a wait.
        for (let i = 0; i < 5; i++) {
          await new Promise((resolve) => setTimeout(resolve, 30));
          const added = job(i);
          await queue.add(added);
          const finished = await queue.waitFor(added, { timeout: 5 });
          expect(finished.status).toBe("completed");
          const started = finished.startedAt?.getTime() ?? Number.NaN;
          // Within the offset measurement's error (half a round trip, well under 50 ms here).
          expect(started).toBeGreaterThanOrEqual(finished.createdAt.getTime() - 50);
          expect(started).toBeLessThanOrEqual((finished.finishedAt?.getTime() ?? 0) + 50);
        }
      } finally {
        await worker.close();
        await working;
        await queue.close();
      }
    });
  },
);
