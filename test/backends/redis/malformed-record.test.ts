/**
 * Bad data placed in Redis by hand fails that task with a clear error; the
 * worker keeps going and nothing else is affected. A record a worker could
 * not act on — options it would compute a retry or a rate-limit request from,
 * a JSON id that is not the key's — is quarantined as failed once, never
 * retried, put off or reclaimed without end; a corrupted counter is recounted
 * instead of making a script fail halfway.
 */
import { Redis } from "ioredis";
import { Queue, type Task, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const double = task({ name: "malformed.double" }, (n: number) => n * 2);

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
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
      await raw.zadd(`${tag}:ids`, Date.now(), id);
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

  it("a hash whose status field holds no task status fails that task, as its reader shows it, instead of running it", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "bad-field" });
    const raw = new Redis(REDIS_URL);
    const tag = `{${prefix}:bad-field}`;
    const [damaged, fine] = [double(7), double(8)];
    await queue.add([damaged, fine]);
    await raw.hset(`${tag}:t:${damaged.id}`, "status", "sleeping");
    const shownBefore = await queue.getTask(damaged);
    expect([shownBefore?.status, shownBefore?.error?.type]).toEqual([
      "failed",
      "SerializationError",
    ]);

    const summary = await new Worker(queue, { claimWait: 0.1 }).work({ oneshot: true });
    expect(summary.processed).toBe(1);
    const [failed, completed] = await queue.waitFor([damaged, fine], { timeout: 5 });
    expect([completed.status, completed.result]).toEqual(["completed", 16]);
    expect([failed.status, failed.result, failed.error?.type]).toEqual([
      "failed",
      null,
      "SerializationError",
    ]);
    expect(failed.error?.message).toMatch(/field 'status' must be a task status/);
    expect(await raw.hget(`${tag}:t:${damaged.id}`, "status")).toBe("failed");
    const stats = await queue.stats();
    expect([stats.pending, stats.processing, stats.completed, stats.failed]).toEqual([0, 0, 1, 1]);
    raw.disconnect();
    await queue.close();
  });

  it("options a worker acts on that are not usable, and a JSON id that is not the key's: failed once, naming the field", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "untrusted" });
    const raw = new Redis(REDIS_URL);
    const tag = `{${prefix}:untrusted}`;
    const good = double(4).toJSON();
    const handWritten = {
      "bad-rate": JSON.stringify({
        ...good,
        id: "bad-rate",
        config: {
          ...good.config,
          rateLimit: { maxRate: "x", ratePeriod: 1, key: "k", strategy: "sliding_window" },
        },
      }),
      "bad-delay": JSON.stringify({
        ...good,
        id: "bad-delay",
        config: { ...good.config, retry: 2, retryDelay: "abc" },
      }),
      "other-id": JSON.stringify({ ...good, id: "not-this-key" }),
    };
    for (const [id, d] of Object.entries(handWritten)) {
      await raw.hset(`${tag}:t:${id}`, "d", d);
      await raw.zadd(`${tag}:ids`, Date.now(), id);
      await raw.rpush(`${tag}:pending`, id);
    }
    const reclaimed: string[] = [];
    const worker = new Worker(queue, {
      claimWait: 0.1,
      heartbeatInterval: 0.1,
      leaseTimeout: 0.3,
      reclaimInterval: 0.1,
    });
    worker.on("task:crashed", ({ task }) => reclaimed.push(task.id));
    const running = worker.work();
    const ids = Object.keys(handWritten);
    const failed = await queue.waitFor(ids, { timeout: 5 });
    // Long enough for any lease to expire and be reclaimed if a claim had been left behind.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await worker.close();
    await running;
    expect(failed.map((t) => [t.id, t.status, t.error?.type])).toEqual(
      ids.map((id) => [id, "failed", "SerializationError"]),
    );
    const [badRate, badDelay, otherId] = failed;
    expect(badRate?.error?.message).toMatch(/config\.rateLimit\.maxRate/);
    expect(badDelay?.error?.message).toMatch(/config\.retryDelay/);
    expect(otherId?.error?.message).toMatch(/field 'id' must be the id it is stored under/);
    expect(reclaimed).toEqual([]);
    expect((await queue.stats()).processing).toBe(0);
    expect((await queue.stats()).scheduled).toBe(0);
    raw.disconnect();
    await queue.close();
  });

  it("a status counter that is not a number is recounted, and the outcome that met it is stored whole", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "counter" });
    const raw = new Redis(REDIS_URL);
    const counts = `{${prefix}:counter}:counts`;
    const first = [double(1), double(2)];
    await queue.add(first);
    await new Worker(queue, { claimWait: 0.1 }).work({ oneshot: true });
    await raw.hset(counts, "completed", "abc");
    const next = [double(3), double(4), double(5)];
    await queue.add(next);
    const summary = await new Worker(queue, { claimWait: 0.1 }).work({ oneshot: true });
    expect(summary.processed).toBe(3);
    expect((await queue.waitFor(next, { timeout: 5 })).map((t) => t.result)).toEqual([6, 8, 10]);
    expect((await queue.stats()).completed).toBe(5);
    await raw.hset(counts, "completed", "1.5");
    expect(await queue.delete(first[0]!)).toBe(true);
    expect((await queue.stats()).completed).toBe(4);
    raw.disconnect();
    await queue.close();
  });

  it("data nested deeper than Sheppy stores (100 to 100,000 levels) fails that task alone, naming the field; tasks claimed with it complete", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "deep" });
    const raw = new Redis(REDIS_URL);
    const tag = `{${prefix}:deep}`;
    const nested = (levels: number) => `${"[".repeat(levels)}1${"]".repeat(levels)}`;
    const template = JSON.stringify({ ...double(1).toJSON(), id: "ID", args: [0] });
    const innocent: string[] = [];
    const deep = { "args-100": 100, "args-10000": 10_000, "args-100000": 100_000 };
    for (const [id, levels] of Object.entries(deep)) {
      const good = double(levels % 7);
      innocent.push(good.id);
      await queue.add(good);
      const d = template.replace('"ID"', JSON.stringify(id)).replace("[0]", `[${nested(levels)}]`);
      await raw.hset(`${tag}:t:${id}`, "d", d);
      await raw.zadd(`${tag}:ids`, Date.now(), id);
      await raw.rpush(`${tag}:pending`, id);
    }
    const resultDeep = JSON.stringify({
      ...double(1).toJSON(),
      id: "result-deep",
      status: "completed",
      finishedAt: new Date().toISOString(),
      result: JSON.parse(nested(500)),
    });
    await raw.hset(`${tag}:t:result-deep`, "d", resultDeep);
    await raw.zadd(`${tag}:ids`, Date.now(), "result-deep");
    const worker = new Worker(queue, {
      concurrency: 10,
      claimWait: 0.1,
      heartbeatInterval: 0.1,
      leaseTimeout: 0.3,
      reclaimInterval: 0.1,
    });
    const reclaimed: string[] = [];
    worker.on("task:crashed", ({ task }) => reclaimed.push(task.id));
    const running = worker.work();
    const failed = await queue.waitFor(Object.keys(deep), { timeout: 10 });
    const completed = await queue.waitFor(innocent, { timeout: 10 });
    // Long enough for any lease to expire and be reclaimed if a claim had been left behind.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await worker.close();
    await running;
    expect(completed.map((t) => t.status)).toEqual(["completed", "completed", "completed"]);
    for (const t of failed) {
      expect([t.status, t.error?.type]).toEqual(["failed", "SerializationError"]);
      expect(t.error?.message).toMatch(/field 'args' must be nested at most 64 levels deep/);
      expect(t.args).toEqual([]);
    }
    // Read back, a stored record nested too deep is shown as what it is: unusable, not a crash of the reader.
    const shown = await queue.getTask("result-deep");
    expect(shown?.error?.message).toMatch(/field 'result' must be nested at most 64 levels deep/);
    expect(reclaimed).toEqual([]);
    expect((await queue.stats()).processing).toBe(0);
    raw.disconnect();
    await queue.close();
  });

  it("a task key that holds no hash, or a hash without its record: the tasks claimed with it run, none is left processing, and both read as failed", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "bad-key" });
    const raw = new Redis(REDIS_URL);
    const tag = `{${prefix}:bad-key}`;
    const tasks = [double(1), double(2), double(3), double(4)];
    await queue.add(tasks);
    const [, notHash, noRecord] = tasks as [Task<number>, Task<number>, Task<number>, Task<number>];
    await raw.del(`${tag}:t:${notHash.id}`);
    await raw.set(`${tag}:t:${notHash.id}`, "garbage");
    await raw.hdel(`${tag}:t:${noRecord.id}`, "d");

    const worker = new Worker(queue, { claimWait: 0.1 });
    const summary = await worker.work({ oneshot: true });
    expect(summary.processed).toBe(2);
    const [first, , , last] = await queue.getTask(tasks);
    expect([first?.status, first?.result, last?.status, last?.result]).toEqual([
      "completed",
      2,
      "completed",
      8,
    ]);
    expect(await raw.zcard(`${tag}:processing`)).toBe(0);
    expect((await queue.stats()).processing).toBe(0);

    const shownNotHash = await queue.getTask(notHash);
    expect([shownNotHash?.status, shownNotHash?.error?.type]).toEqual([
      "failed",
      "SerializationError",
    ]);
    expect(shownNotHash?.error?.message).toMatch(/its key holds no hash/);
    const shownNoRecord = await queue.getTask(noRecord);
    expect(shownNoRecord?.error?.message).toMatch(/its hash has no field 'd'/);
    const listed = await queue.listTasks();
    expect(listed.tasks.map((t) => t.id).sort()).toEqual(tasks.map((t) => t.id).sort());
    expect((await queue.listTasks({ status: "failed" })).tasks.map((t) => t.id)).toContain(
      notHash.id,
    );
    raw.disconnect();
    await queue.close();
  });
});
