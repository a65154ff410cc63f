/**
 * Retention on Redis, looked at in the keys themselves: a finished record's
 * expiry is its hash field `x` and its score in `{p:q}:expires` when it
 * completed, `{p:q}:expires:errors` otherwise (set by settle.lua and
 * cancel.lua — no native key EXPIRE, so the `ids` index,
 * the `done` hash and the counts never drift); a retry clears it; the worker's
 * sweep deletes expired records and leaves every index exact. (TTL-10…TTL-12)
 */
import { Redis } from "ioredis";
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { TestClock } from "sheppy/testing";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const START = Date.parse("2030-01-01T00:00:00Z");

const done = task({ name: "retention.done" }, (label: string) => label);
const kept = task({ name: "retention.kept", ttl: null }, (label: string) => label);
const longErrors = task({ name: "retention.long-errors", errorTtl: 50 }, (label: string) => label);
const keptErrors = task({ name: "retention.kept-errors", ttl: null }, (label: string) => label);
const boom = task({ name: "retention.boom" }, (label: string): string => {
  throw new Error(label);
});

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: retention in the keys", () => {
  const raw = new Redis(REDIS_URL, { lazyConnect: true });
  const queues: Queue[] = [];
  let counter = 0;

  const setup = (clock: TestClock) => {
    const name = `retention-${++counter}`;
    const backend = new RedisBackend({ url: REDIS_URL, prefix, clock, ttl: 10, errorTtl: 5 });
    const queue = new Queue(backend, { name, clock });
    queues.push(queue);
    const tag = `{${prefix}:${name}}`;
    return {
      queue,
      backend,
      expiry: async (id: string) => {
        const [field, completed, errors] = await Promise.all([
          raw.hget(`${tag}:t:${id}`, "x"),
          raw.zscore(`${tag}:expires`, id),
          raw.zscore(`${tag}:expires:errors`, id),
        ]);
        const score = completed ?? errors;
        return {
          field: field === null ? null : Number(field),
          score: score === null ? null : Number(score),
          // Which expiry set holds it: each kind is bounded on its own.
          set: completed !== null ? "completed" : errors !== null ? "errors" : null,
        };
      },
      indices: async () => ({
        ids: await raw.zcard(`${tag}:ids`),
        done: await raw.hlen(`${tag}:done`),
        counts: await raw.hgetall(`${tag}:counts`),
        expires: await raw.zcard(`${tag}:expires`),
        errorExpires: await raw.zcard(`${tag}:expires:errors`),
        hashes: (await raw.keys(`${tag}:t:*`)).length,
      }),
    };
  };

  afterEach(async () => {
    await Promise.all(queues.splice(0).map((q) => q.close()));
  });
  afterAll(async () => {
    raw.disconnect();
    await deleteRedisPrefix(prefix);
  });

  it("TTL-11 the expiry is the store time plus the resolved TTL; null TTLs leave no entry", async () => {
    const clock = new TestClock(START);
    const { queue, expiry } = setup(clock);
    const tasks = [done("d"), boom("f"), kept("k")];
    await queue.add(tasks);
    await new Worker(queue, { clock, claimWait: 0.05 }).work({ maxTasks: 3 });
    const [d, f, k] = tasks.map((t) => t.id) as [string, string, string];
    expect(await expiry(d)).toEqual({
      field: START + 10_000,
      score: START + 10_000,
      set: "completed",
    });
    expect(await expiry(f)).toEqual({ field: START + 5000, score: START + 5000, set: "errors" });
    expect(await expiry(k)).toEqual({ field: null, score: null, set: null });

    // cancel.lua resolves the error chain from the stored config itself.
    await clock.advance(1);
    const [long, forever, plain] = [longErrors("l"), keptErrors("n"), done("c")];
    await queue.add([long, forever, plain]);
    for (const t of [long, forever, plain]) await queue.cancel(t);
    expect(await expiry(long.id)).toEqual({
      field: START + 51_000,
      score: START + 51_000,
      set: "errors",
    });
    expect(await expiry(forever.id)).toEqual({ field: null, score: null, set: null });
    expect(await expiry(plain.id)).toEqual({
      field: START + 6000,
      score: START + 6000,
      set: "errors",
    });
  });

  it("TTL-12 a retry clears the expiry (append and schedule paths)", async () => {
    const clock = new TestClock(START);
    const { queue, expiry } = setup(clock);
    const [failed, completed] = [boom("again"), done("again")];
    await queue.add([failed, completed]);
    await new Worker(queue, { clock, claimWait: 0.05 }).work({ maxTasks: 2 });
    expect((await expiry(failed.id)).score).not.toBeNull();
    await queue.retry(failed);
    await queue.retry(completed, { force: true, at: 60 });
    expect(await expiry(failed.id)).toEqual({ field: null, score: null, set: null });
    expect(await expiry(completed.id)).toEqual({ field: null, score: null, set: null });
  });

  it("the worker's sweep deletes expired records; ids, done, counts and expires stay exact", async () => {
    const clock = new TestClock(START);
    const { queue, indices } = setup(clock);
    await queue.add([done("a"), done("b"), boom("c"), kept("d")]);
    await new Worker(queue, { clock, claimWait: 0.05 }).work({ maxTasks: 4 });
    expect(await indices()).toEqual({
      ids: 4,
      done: 4,
      counts: { completed: "3", failed: "1" },
      expires: 2,
      errorExpires: 1,
      hashes: 4,
    });
    await clock.advance(10);
    // An idle oneshot worker: its sweep runs once, then it returns.
    await new Worker(queue, { clock, claimWait: 0.05 }).work({ oneshot: true });
    expect(await indices()).toEqual({
      ids: 1,
      done: 1,
      counts: { completed: "1", failed: "0" },
      expires: 0,
      errorExpires: 0,
      hashes: 1,
    });
    expect((await queue.getAllTasks()).map((t) => t.result)).toEqual(["d"]);
  });

  it("new RedisBackend({ ttl, errorTtl }) without a url uses SHEPPY_BACKEND_URL, its prefix included", async () => {
    const url = new URL(REDIS_URL);
    url.searchParams.set("prefix", prefix);
    vi.stubEnv("SHEPPY_BACKEND_URL", url.toString());
    try {
      const queue = new Queue(new RedisBackend({ ttl: 10, errorTtl: 5 }), { name: "from-env" });
      queues.push(queue);
      const stored = done("env");
      await queue.add(stored);
      expect(await raw.exists(`{${prefix}:from-env}:t:${stored.id}`)).toBe(1);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
