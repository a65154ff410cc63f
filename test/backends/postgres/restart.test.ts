/**
 * PostgreSQL restarted mid-run, on a private server: three worker processes
 * ride the restart (a clean stop, then a crash stop with recovery) and finish
 * every task; every acknowledged add is kept, and a task runs twice only when
 * its attempt was cut off by the restart. Executions are recorded on the
 * shared Redis, outside the database under test.
 */
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { Queue } from "sheppy";
import { PostgresBackend } from "sheppy/backends/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionsKey, recordedWork } from "../../fixtures/crash-tasks.js";
import { fileKey } from "../../support/isolation.js";
import { PrivatePostgres, postgresBinaries } from "../../support/private-postgres.js";
import { exited, startWorkerProcesses } from "../../support/processes.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { missingService, requireService } from "../../support/services.js";

const key = fileKey(import.meta.url);
const available =
  (await requireService("Redis", REDIS_URL)) &&
  (postgresBinaries() !== null ||
    missingService("PostgreSQL server binaries", "no initdb under /usr/lib/postgresql"));
const TASKS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Skipped only outside CI when Redis or the PostgreSQL binaries are missing; under CI=true that fails instead.
describe.skipIf(!available)("postgres: the server restarted mid-run", () => {
  let server: PrivatePostgres;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    server = await PrivatePostgres.start();
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await deleteRedisPrefix(key);
    server?.destroy();
  });

  for (const mode of ["fast", "immediate"] as const) {
    const how = mode === "fast" ? "a clean stop" : "a crash stop (recovery at start)";
    it(`${how} and start: workers resume unaided, nothing acknowledged is lost`, async () => {
      const queueName = `restart-${mode}`;
      const url = `${server.url}?schema=restart_${mode}`;
      const queue = new Queue(new PostgresBackend({ url, unavailableAfter: 30 }), {
        name: queueName,
      });
      const prefix = `${key}-${mode}`;
      const tasks = Array.from({ length: TASKS }, (_, i) => recordedWork(REDIS_URL, prefix, i, 10));
      for (let i = 0; i < TASKS; i += 500) await queue.add(tasks.slice(i, i + 500));

      const env = {
        TEST_REDIS_URL: REDIS_URL,
        TEST_PREFIX: prefix,
        TEST_POSTGRES_URL: url,
        TEST_QUEUE: queueName,
        TEST_CONCURRENCY: "10",
        TEST_UNAVAILABLE_AFTER: "30",
        // Leases long enough that the restart itself does not expire them.
        TEST_LEASE: "10",
      };
      const started = await startWorkerProcesses("test/fixtures/crash-worker.ts", env, 3, children);
      const workers = started.children;
      const recorder = new Redis(REDIS_URL);
      while ((await recorder.llen(executionsKey(prefix))) < TASKS / 5) await sleep(20);

      // Adds sent while the server is down are acknowledged once it is back, and kept.
      server.stop(mode);
      const during = Array.from({ length: 50 }, (_, i) =>
        recordedWork(REDIS_URL, prefix, TASKS + i, 10),
      );
      const acknowledged = queue.add(during);
      await sleep(500);
      server.begin();
      expect((await acknowledged).every(Boolean)).toBe(true);

      const all = [...tasks, ...during];
      const finished = await queue.waitFor(all, { timeout: 90 });
      const notCompleted = finished.filter((t) => t.status !== "completed");
      expect(notCompleted.map((t) => `${t.id} ${t.status}: ${t.error?.message}`)).toEqual([]);
      expect(finished.map((t) => t.result)).toEqual(all.map((_, i) => i));

      const runs = await recorder.lrange(executionsKey(prefix), 0, -1);
      const counts = new Map<string, number>();
      for (const run of runs) {
        const id = run.split(":")[0]!;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      expect(counts.size).toBe(all.length);
      // At most the attempts in flight when the server went away (3 workers × 10), each once more.
      const twice = [...counts.values()].filter((n) => n > 1);
      expect(twice.every((n) => n === 2)).toBe(true);
      expect(twice.length).toBeLessThanOrEqual(30);

      for (const child of workers) child.kill("SIGTERM");
      const codes = await Promise.all(workers.map(exited));
      expect(codes, `worker output:\n${started.output()}`).toEqual([0, 0, 0]);
      recorder.disconnect();
      await queue.close();
    }, 180_000);
  }
});
