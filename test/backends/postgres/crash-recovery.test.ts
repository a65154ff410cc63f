/**
 * PostgreSQL: three worker processes share one queue of 3,000 tasks; one is
 * SIGKILLed mid-run. Every task must end completed, none may be missing, and
 * only tasks the killed worker held may have run twice. (Executions are
 * recorded on the shared Redis, outside the database under test.)
 */
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { Queue } from "sheppy";
import { PostgresBackend } from "sheppy/backends/postgres";
import { afterAll, describe, expect, it } from "vitest";
import { executionsKey, recordedWork } from "../../fixtures/crash-tasks.js";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { exited, spawnTs, waitForOutput } from "../../support/processes.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const key = fileKey(import.meta.url);
const schema = schemaFor(key);
const available =
  (await requireService("PostgreSQL", POSTGRES_URL)) && (await requireService("Redis", REDIS_URL));
const TASKS = 3000;

// Skipped only outside CI when PostgreSQL or Redis is unreachable; under CI=true requireService fails instead.
describe.skipIf(!available)("postgres: a worker process killed mid-run", () => {
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await deleteRedisPrefix(key);
    await dropSchema(schema);
  });

  it("3 workers, one SIGKILLed; every task completes, none is lost, only the victim's ran twice", async () => {
    const queue = new Queue(new PostgresBackend({ url: POSTGRES_URL, schema }), { name: "crash" });
    const tasks = Array.from({ length: TASKS }, (_, i) => recordedWork(REDIS_URL, key, i, 20));
    for (let i = 0; i < TASKS; i += 500) await queue.add(tasks.slice(i, i + 500));

    const url = new URL(POSTGRES_URL);
    url.searchParams.set("schema", schema);
    const env = {
      TEST_REDIS_URL: REDIS_URL,
      TEST_PREFIX: key,
      TEST_POSTGRES_URL: url.toString(),
      TEST_QUEUE: "crash",
      TEST_CONCURRENCY: "10",
    };
    for (let i = 0; i < 3; i++) children.push(spawnTs("test/fixtures/crash-worker.ts", env));
    await Promise.all(children.map((child) => waitForOutput(child, "ready")));

    const recorder = new Redis(REDIS_URL);
    const victim = children[0]!;
    for (;;) {
      const runs = await recorder.lrange(executionsKey(key), 0, -1);
      if (runs.filter((r) => r.endsWith(`:${victim.pid}`)).length >= 30) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    victim.kill("SIGKILL");
    await exited(victim);
    // The kill must land mid-run, while the victim still had work to hold.
    expect(await queue.size()).toBeGreaterThan(300);

    const finished = await queue.waitFor(tasks, { timeout: 90 });
    expect(finished.every((t) => t.status === "completed")).toBe(true);
    expect(finished.map((t) => t.result)).toEqual(tasks.map((_, i) => i));

    const runs = await recorder.lrange(executionsKey(key), 0, -1);
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
    // Only what the victim held when it died ran twice: its 10 running tasks plus outcomes it had not stored yet.
    expect(twice.length).toBeLessThanOrEqual(20);
    const reclaimed = new Set(finished.filter((t) => t.retryCount === 1).map((t) => t.id));
    expect(reclaimed.size).toBeGreaterThan(0);
    for (const [id] of twice) expect(reclaimed.has(id)).toBe(true);

    for (const child of children.slice(1)) child.kill("SIGTERM");
    expect(await Promise.all(children.slice(1).map(exited))).toEqual([0, 0]);
    recorder.disconnect();
    await queue.close();
  });
});
