/**
 * The scripts run by their SHA, and a server that does not have one (a new
 * server, a restart, `SCRIPT FLUSH`) is sent its source once: every call
 * still answers, runs once, and leaves the server holding the script. On a
 * private server, whose script cache the test empties between calls.
 */
import { Redis } from "ioredis";
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterEach, describe, expect, it } from "vitest";
import { PrivateRedis } from "../../support/private-redis.js";
import { REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const available = await requireService("Redis", REDIS_URL);
const double = task({ name: "script-cache.double" }, (n: number) => n * 2);

/** Counts of EVAL and EVALSHA calls the server has answered, from `INFO commandstats`. */
async function evalCalls(client: Redis): Promise<{ eval: number; evalsha: number }> {
  const stats = await client.info("commandstats");
  const calls = (name: string) =>
    Number(new RegExp(`^cmdstat_${name}:calls=(\\d+)`, "m").exec(stats)?.[1] ?? 0);
  return { eval: calls("eval"), evalsha: calls("evalsha") };
}

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: the script cache", () => {
  let server: PrivateRedis | undefined;
  const closing: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const close of closing.splice(0)) await close().catch(() => undefined);
    await server?.destroy();
    server = undefined;
  });

  it("a script the server lost is sent again whole, once, and every add, claim and settle still runs once", async () => {
    server = await PrivateRedis.start();
    const admin = new Redis(server.url);
    closing.push(async () => admin.disconnect());
    const queue = new Queue(new RedisBackend({ url: server.url, prefix: "cache" }), {
      name: "q",
    });
    closing.push(() => queue.close());
    const worker = new Worker(queue, { concurrency: 4, scheduler: false });

    for (let round = 0; round < 3; round++) {
      await admin.script("FLUSH");
      await admin.config("RESETSTAT");
      const tasks = [double(round), double(round + 10)];
      expect(await queue.add(tasks)).toEqual([true, true]);
      const single = double(round + 100);
      expect(await queue.add(single)).toBe(true);
      expect((await worker.work({ maxTasks: 3 })).processed).toBe(3);
      const results = await Promise.all([...tasks, single].map((t) => queue.getTask(t)));
      expect(results.map((t) => [t?.status, t?.result])).toEqual([
        ["completed", round * 2],
        ["completed", (round + 10) * 2],
        ["completed", (round + 100) * 2],
      ]);
      // Each script used is sent whole once after the flush (add, claim, settle…), then by SHA.
      const calls = await evalCalls(admin);
      expect(calls.eval).toBeGreaterThan(0);
      expect(calls.eval).toBeLessThanOrEqual(calls.evalsha);
      const again = double(round + 1000);
      const before = await evalCalls(admin);
      expect(await queue.add(again)).toBe(true);
      const after = await evalCalls(admin);
      expect([after.eval - before.eval, after.evalsha - before.evalsha]).toEqual([0, 1]);
      expect((await worker.work({ maxTasks: 1 })).processed).toBe(1);
    }
    // Nothing ran twice: three rounds of four tasks, each added and finished once.
    expect(await queue.stats()).toMatchObject({ completed: 12, pending: 0, processing: 0 });
  });
});
