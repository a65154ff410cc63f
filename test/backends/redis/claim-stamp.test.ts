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
          // The stamp errs late, never early (the offset is a lower bound), and never past
          // the claim's answer: the start lies between the add and the end, by this clock.
          expect(started).toBeGreaterThanOrEqual(finished.createdAt.getTime());
          expect(started).toBeLessThanOrEqual(finished.finishedAt?.getTime() ?? 0);
        }
      } finally {
        await worker.close();
        await working;
        await queue.close();
      }
    });

    it("a task due at a time is stamped as started no earlier than that time", async () => {
      const backend = new RedisBackend({ url: REDIS_URL, prefix });
      const queue = new Queue(backend, { name: "due" });
      const job = task({ name: "stamp.due" }, (n: number) => n);
      const worker = new Worker(queue, { concurrency: 4 });
      const working = worker.work();
      try {
        // Each task is due a few ms after the idle worker's wait began: its claim, sent behind
        // the wait, is stamped from Redis's clock the moment the task is made claimable.
        for (let round = 0; round < 3; round++) {
          const due = Array.from({ length: 8 }, (_, i) => ({
            added: job(i),
            at: new Date(Date.now() + 40 + i * 7),
          }));
          await Promise.all(due.map(({ added, at }) => queue.schedule(added, at)));
          for (const { added, at } of due) {
            const finished = await queue.waitFor(added, { timeout: 5 });
            expect(finished.startedAt!.getTime()).toBeGreaterThanOrEqual(at.getTime());
            expect(finished.startedAt!.getTime()).toBeLessThanOrEqual(
              finished.finishedAt!.getTime(),
            );
          }
        }
      } finally {
        await worker.close();
        await working;
        await queue.close();
      }
    });
  },
);
