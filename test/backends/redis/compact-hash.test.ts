/**
 * A small task's hash stays in Redis's compact encoding (listpack) while it
 * waits and once it has finished: its JSON leaves out what the hash keeps
 * beside it, so no value passes the 64 bytes past which Redis turns the hash
 * into a table of about twice the memory. Read back, the record is whole.
 * Records an earlier version stored whole still run, and are written back in
 * the keyed form (their hashes stay tables: Redis never converts back).
 */
import { Redis } from "ioredis";
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { encodeCompactTaskData } from "../../../src/task/task-codec.js";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const noop = task({ name: "compact-hash.noop" }, () => null);
const failsOnce = task({ name: "compact-hash.failsOnce", retry: 1, retryDelay: 600 }, () => {
  throw new Error("fails");
});

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

  it("runs the records an earlier version stored whole, and writes them back keyed", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "earlier" });
    const tasks = [noop(), noop(), noop()];
    await queue.add(tasks);
    // As an earlier version left them: the whole compact record, id and status included.
    for (const t of tasks) {
      const record = (await queue.getTask(t))!.toJSON();
      await client.hset(`{${prefix}:earlier}:t:${t.id}`, "d", encodeCompactTaskData(record));
    }
    const before = JSON.parse((await client.hget(`{${prefix}:earlier}:t:${tasks[0]!.id}`, "d"))!);
    expect(before).toMatchObject({ v: 3, id: tasks[0]!.id, status: "pending" });
    expect((await queue.getTask(tasks[1]!))?.status).toBe("pending");

    await new Worker(queue, { claimWait: 0.1 }).work({ maxTasks: 3 });
    for (const t of tasks) {
      const key = `{${prefix}:earlier}:t:${t.id}`;
      expect(JSON.parse((await client.hget(key, "d"))!)).toEqual({
        v: 4,
        name: "compact-hash.noop",
        createdAt: Date.parse(t.createdAt.toISOString()),
      });
      // Redis never turns a table back into a listpack: only tasks added since get the small form.
      expect(await client.object("ENCODING", key)).toBe("hashtable");
      expect((await queue.getTask(t))?.status).toBe("completed");
    }
    await queue.close();
  });

  it("retry() re-runs an earlier version's record waiting for its retry (its status only in the JSON)", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), {
      name: "earlier-retry",
    });
    const t = failsOnce();
    await queue.add(t);
    await new Worker(queue, { claimWait: 0.1 }).work({ maxTasks: 1 });
    const waiting = (await queue.getTask(t))!.toJSON();
    expect(waiting.status).toBe("retrying");
    const key = `{${prefix}:earlier-retry}:t:${t.id}`;
    // As an earlier version left it: the whole record as JSON, no status field beside it.
    await client.hdel(key, "status");
    await client.hset(key, "d", encodeCompactTaskData(waiting));
    expect(await queue.retry(t)).toBe(true);
    const stored = (await queue.getTask(t))!;
    expect([stored.status, stored.manualRetryCount]).toEqual(["pending", 1]);
    await queue.close();
  });
});
