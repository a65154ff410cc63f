/**
 * Every key one queue uses hashes to one Redis Cluster slot (hash tag
 * `{prefix:queue}`), so the queue works on a cluster and its Lua scripts may
 * touch all its keys. Slots are computed by a private cluster-enabled server.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { Queue, task, Worker } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { askRedis, untilRedisAnswers } from "../../support/private-redis.js";
import { freeNodePort, spawnClusterNode } from "../../support/private-redis-cluster.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const flaky = task({ name: "layout.flaky", retry: 1, retryDelay: 60 }, () => {
  throw new Error("always");
});
const fine = task({ name: "layout.fine", rateLimit: { maxRate: 5, ratePeriod: 1 } }, () => "ok");

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: key layout", () => {
  const dir = mkdtempSync(join(tmpdir(), "sheppy-cluster-"));
  let port = 0;
  let cluster: ChildProcess | undefined;

  beforeAll(async () => {
    // Free now, and low enough for its cluster bus (port + 10000) to be a port too.
    port = await freeNodePort();
    cluster = spawnClusterNode(port, dir);
  });

  afterAll(async () => {
    cluster?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
    await deleteRedisPrefix(prefix);
  });

  it("all keys of a queue share one cluster slot", async () => {
    const backend = new RedisBackend({ url: REDIS_URL, prefix });
    const queue = new Queue(backend, { name: "layout" });
    await queue.add([fine(), flaky()]);
    await queue.schedule(fine(), 60);
    await backend.addCron("layout", "cron-1", { deterministicId: "cron-1" });
    await backend.acquireRateLimit("layout", {
      key: "k",
      maxRate: 1,
      periodMs: 1000,
      taskId: "t",
      strategy: "fixed_window",
      now: Date.now(),
    });
    await new Worker(queue, { claimWait: 0.1 }).work({ maxTasks: 2 });

    const shared = new Redis(REDIS_URL);
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, found] = await shared.scan(
        cursor,
        "MATCH",
        `{${prefix}:layout}*`,
        "COUNT",
        1000,
      );
      keys.push(...found);
      cursor = next;
    } while (cursor !== "0");
    for (const kind of [
      ":t:",
      ":ids",
      ":scheduled",
      ":crons",
      ":rl:",
      ":done",
      ":counts",
      ":expires",
    ]) {
      expect(
        keys.some((key) => key.includes(kind)),
        `a ${kind} key exists`,
      ).toBe(true);
    }

    await untilRedisAnswers(port);
    const slots = new Set(
      await Promise.all(keys.map((key) => askRedis(port, ["CLUSTER", "KEYSLOT", key]))),
    );
    expect(slots.size).toBe(1);
    expect(slots.has(null)).toBe(false);
    shared.disconnect();
    await queue.close();
  });
});
