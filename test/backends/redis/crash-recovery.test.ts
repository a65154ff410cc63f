/**
 * Three worker processes share one queue of 3,000 tasks; one is SIGKILLed
 * mid-run. Every task must end completed, none may be missing, and only tasks
 * the killed worker held may have run twice. (Issue #3, BEHAVIOURS CR-3, CR-5, WK-25)
 */
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { Queue } from "sheppy";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, expect, it } from "vitest";
import { executionsKey, recordedWork } from "../../fixtures/crash-tasks.js";
import { fileKey } from "../../support/isolation.js";
import { exited, spawnTs, waitForOutput } from "../../support/processes.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const TASKS = 3000;

describe.skipIf(!available)("redis: a worker process killed mid-run", () => {
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await deleteRedisPrefix(prefix);
  });

  it("CR-3/CR-5: 3 workers, one SIGKILLed; every task completes, none is lost, only the victim's ran twice", async () => {
    const queue = new Queue(new RedisBackend({ url: REDIS_URL, prefix }), { name: "crash" });
    const tasks = Array.from({ length: TASKS }, (_, i) => recordedWork(REDIS_URL, prefix, i, 20));
    for (let i = 0; i < TASKS; i += 500) await queue.add(tasks.slice(i, i + 500));

    const env = {
      TEST_REDIS_URL: REDIS_URL,
      TEST_PREFIX: prefix,
      TEST_QUEUE: "crash",
      TEST_CONCURRENCY: "10",
    };
    for (let i = 0; i < 3; i++) children.push(spawnTs("test/fixtures/crash-worker.ts", env));
    await Promise.all(children.map((child) => waitForOutput(child, "ready")));

    const recorder = new Redis(REDIS_URL);
    // Kill one worker once it is well into the run, while it holds tasks.
    const victim = children[0]!;
    for (;;) {
      const runs = await recorder.lrange(executionsKey(prefix), 0, -1);
      if (runs.filter((r) => r.endsWith(`:${victim.pid}`)).length >= 30) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    victim.kill("SIGKILL");
    await exited(victim);
    // The kill must land mid-run, while the victim still had work to hold.
    expect(await queue.size()).toBeGreaterThan(300);

    const finished = await queue.waitFor(tasks, { timeout: 60 });
    expect(finished.every((t) => t.status === "completed")).toBe(true);
    expect(finished.map((t) => t.result)).toEqual(tasks.map((_, i) => i));

    const runs = await recorder.lrange(executionsKey(prefix), 0, -1);
    const byTask = new Map<string, string[]>();
    for (const run of runs) {
      const [id, pid] = run.split(":") as [string, string];
      byTask.set(id, [...(byTask.get(id) ?? []), pid]);
    }
    expect(byTask.size).toBe(TASKS);
    const twice = [...byTask.entries()].filter(([, pids]) => pids.length > 1);
    for (const [, pids] of twice) {
      expect(pids).toHaveLength(2);
      expect(pids[0]).toBe(String(victim.pid));
    }
    // Only what the victim held when it died ran twice: at most its 10 running tasks plus the
    // outcomes it had not stored yet (a slot is freed when a function returns, before its store).
    expect(twice.length).toBeLessThanOrEqual(20);
    // Reclaimed tasks were retried once (retryOnCrash): every task that ran twice is among them.
    const reclaimed = new Set(finished.filter((t) => t.retryCount === 1).map((t) => t.id));
    expect(reclaimed.size).toBeGreaterThan(0);
    for (const [id] of twice) expect(reclaimed.has(id)).toBe(true);

    for (const child of children.slice(1)) child.kill("SIGTERM");
    expect(await Promise.all(children.slice(1).map(exited))).toEqual([0, 0]);
    recorder.disconnect();
    await queue.close();
  });
});
