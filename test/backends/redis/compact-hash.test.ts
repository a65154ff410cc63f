/**
 * A small task's hash stays in Redis's compact encoding (listpack) while it
 * waits and once it has finished: its JSON leaves out what the hash keeps
 * beside it, so no value passes the 64 bytes past which Redis turns the hash
 * into a table of about twice the memory. Read back, the record is whole.
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
const noop = task({ name: "compact-hash.noop" }, () => null);

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: a small task's hash", () => {
  const client = new Redis(REDIS_URL, { lazyConnect: true });

  afterAll(async () => {
    client.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it("is listpack-encoded pending and completed, and reads back whole", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "small" });
    const t = noop();
    await queue.add(t);
    const [key] = await client.keys(`{${prefix}:small}:t:*`);
    expect(key).toBeDefined();
    const [, limit] = (await client.config("GET", "hash-max-listpack-value")) as string[];
    expect(Number(limit)).toBeGreaterThanOrEqual(64);
    expect(await client.object("ENCODING", key!)).toBe("listpack");
    const pending = (await queue.getTask(t))!;
    expect(pending.toJSON()).toMatchObject({
      id: t.id,
      name: "compact-hash.noop",
      status: "pending",
    });

    await new Worker(queue, { claimWait: 0.1 }).work({ maxTasks: 1 });
    expect(await client.object("ENCODING", key!)).toBe("listpack");
    const done = (await queue.getTask(t))!;
    expect(done.status).toBe("completed");
    expect(done.startedAt).toBeInstanceOf(Date);
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
    expect(done.toJSON()).toMatchObject({ id: t.id, name: "compact-hash.noop", result: null });
    await queue.close();
  });
});
