/**
 * Bad data placed in Redis by hand fails that task with a clear error; the
 * worker keeps going and nothing else is affected. (Issue #3)
 */
import { Redis } from "ioredis";
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const double = task({ name: "malformed.double" }, (n: number) => n * 2);

describe.skipIf(!available)("redis: malformed records", () => {
  afterAll(async () => {
    await deleteRedisPrefix(prefix);
  });

  it("a record that is not JSON, or not a task record, fails with a clear error and the worker goes on", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "bad" });
    const before = double(1);
    await queue.add(before);
    const raw = new Redis(REDIS_URL);
    const tag = `{${prefix}:bad}`;
    const good = double(2).toJSON();
    const handWritten = {
      "not-json": "{this is not json",
      "no-name": JSON.stringify({ ...good, id: "no-name", name: undefined }),
      "bad-status": JSON.stringify({ ...good, id: "bad-status", status: "sleeping" }),
    };
    for (const [id, d] of Object.entries(handWritten)) {
      await raw.hset(`${tag}:t:${id}`, "d", d);
      await raw.sadd(`${tag}:all`, id);
      await raw.rpush(`${tag}:pending`, id);
    }
    const after = double(3);
    await queue.add(after);

    const worker = new Worker(queue, { claimWait: 0.1 });
    const summary = await worker.work({ oneshot: true });
    expect(summary.processed).toBe(2);

    const [first, last] = await queue.waitFor([before, after], { timeout: 5 });
    expect([first.result, last.result]).toEqual([2, 6]);

    const notJson = await queue.getTask("not-json");
    expect(notJson?.status).toBe("failed");
    expect(notJson?.error?.type).toBe("SerializationError");
    expect(notJson?.error?.message).toMatch(/malformed task record not-json in Redis: not JSON/);
    const noName = await queue.getTask("no-name");
    expect(noName?.error?.message).toMatch(/field 'name' must be a non-empty string/);
    const badStatus = await queue.getTask("bad-status");
    expect(badStatus?.error?.message).toMatch(/field 'status' must be a task status/);
    expect((await queue.stats()).failed).toBe(3);
    expect(await queue.size()).toBe(0);

    raw.disconnect();
    await queue.close();
  });
});
