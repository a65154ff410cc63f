/**
 * A single worker never warns that it lost tasks it did not lose: a renewal
 * racing with the settle of the same attempt reports nothing, because the
 * backend knows that claim was settled by its own holder.
 */
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const quick = task({ name: "lease-warnings.quick" }, async (n: number) => {
  await new Promise((resolve) => setTimeout(resolve, n % 3));
  return n;
});

describe.skipIf(!available)("redis: lease warnings", () => {
  afterAll(() => deleteRedisPrefix(prefix));

  it("3,000 short tasks with a renewal every 50 ms: no warning of a lost claim, none reclaimed", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "warnings" });
    const warnings: string[] = [];
    const logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (objOrMsg: object | string, msg?: string) => {
        warnings.push(typeof objOrMsg === "string" ? objOrMsg : (msg ?? ""));
      },
      error: (objOrMsg: object | string, msg?: string) => {
        warnings.push(typeof objOrMsg === "string" ? objOrMsg : (msg ?? ""));
      },
    };
    const tasks = Array.from({ length: 3000 }, (_, i) => quick(i));
    for (let i = 0; i < tasks.length; i += 500) await queue.add(tasks.slice(i, i + 500));
    const summary = await new Worker(queue, {
      concurrency: 50,
      heartbeatInterval: 0.05,
      leaseTimeout: 1,
      reclaimInterval: 0.05,
      claimWait: 0.1,
      logger,
    }).work({ oneshot: true });
    expect(summary).toMatchObject({ processed: 3000, reclaimed: 0 });
    expect(warnings).toEqual([]);
    await queue.close();
  }, 60_000);
});
