/**
 * A queue's concurrency cap across worker processes, on Redis, PostgreSQL and
 * SQLite: with the cap at 3, three worker processes of concurrency 5 each
 * share a queue of 60 tasks. Every run counts itself in a "running now"
 * counter on Redis (outside the workers, so all three processes count against
 * one number) and records the most seen at once: it must never pass 3, and
 * must reach at least 2 (the runs did overlap).
 */
import type { ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { type Backend, Queue } from "sheppy";
import { PostgresBackend } from "sheppy/backends/postgres";
import { RedisBackend } from "sheppy/backends/redis";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { capCounterKeys, cappedWork } from "../fixtures/queue-cap-tasks.js";
import { fileKey } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { exited, startWorkerProcesses } from "../support/processes.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";
import { sqliteTestDir } from "../support/sqlite.js";

const key = fileKey(import.meta.url);
const schema = schemaFor(key);
const files = sqliteTestDir(key);
// The counter lives on Redis for every backend: each variant needs it.
const redisUp = await requireService("Redis", REDIS_URL);
const postgresUp = redisUp && (await requireService("PostgreSQL", POSTGRES_URL));

const CAP = 3;
const TASKS = 60;
const PROCESSES = 3;
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  await Promise.all(children.map((child) => exited(child)));
  if (redisUp) await deleteRedisPrefix(key);
  if (postgresUp) await dropSchema(schema);
  files.remove();
});

interface Target {
  readonly name: string;
  readonly up: boolean;
  readonly make: () => Backend;
  /** What a worker process needs to open the same queue's backend. */
  readonly env: () => Record<string, string>;
}

const targets: Target[] = [
  {
    name: "redis",
    up: redisUp,
    make: () => new RedisBackend({ url: REDIS_URL, prefix: key }),
    env: () => ({ TEST_BACKEND: "redis", TEST_REDIS_URL: REDIS_URL, TEST_PREFIX: key }),
  },
  {
    name: "postgres",
    up: postgresUp,
    make: () => new PostgresBackend({ url: POSTGRES_URL, schema }),
    env: () => ({ TEST_BACKEND: "postgres", TEST_POSTGRES_URL: POSTGRES_URL, TEST_SCHEMA: schema }),
  },
  {
    name: "sqlite",
    up: redisUp,
    make: () => new SqliteBackend({ path: files.path("cap.db") }),
    env: () => ({ TEST_BACKEND: "sqlite", TEST_SQLITE_PATH: files.path("cap.db") }),
  },
];

describe("a queue's concurrency cap across worker processes", () => {
  for (const target of targets) {
    // Skipped only outside CI when a service is unreachable; under CI=true requireService fails instead.
    it.skipIf(!target.up)(
      `${target.name}: cap ${CAP}, ${PROCESSES} worker processes of concurrency 5, ${TASKS} tasks: never more than ${CAP} run at once`,
      async () => {
        const queueName = `cap-${target.name}`;
        const counter = `${key}:test:${target.name}`;
        const keys = capCounterKeys(counter);
        const queue = new Queue(target.make(), { name: queueName });
        const redis = new Redis(REDIS_URL);
        const mine: ChildProcess[] = [];
        try {
          await queue.setConcurrencyLimit(CAP);
          expect(await queue.getConcurrencyLimit()).toBe(CAP);
          // Held until every worker is up, so a slow start does not leave one process the whole queue.
          await queue.pause();
          const tasks = Array.from({ length: TASKS }, (_, i) =>
            cappedWork(REDIS_URL, counter, i, 30 + ((i * 7) % 31)),
          );
          await queue.add(tasks);

          const env = { ...target.env(), TEST_QUEUE: queueName, TEST_CONCURRENCY: "5" };
          const started = await startWorkerProcesses(
            "test/fixtures/queue-cap-worker.ts",
            env,
            PROCESSES,
            children,
          );
          mine.push(...started.children);
          await queue.resume();

          const done = await queue.waitFor(tasks, { timeout: 60 });
          const notCompleted = done.filter((t) => t.status !== "completed");
          expect(
            notCompleted.map((t) => `${t.id} ${t.status}: ${t.error?.message}`),
            started.output(),
          ).toEqual([]);
          expect(done.map((t) => t.result)).toEqual(tasks.map((_, i) => i));

          for (const child of mine) child.kill("SIGTERM");
          const codes = await Promise.all(mine.map((child) => exited(child)));
          expect(codes, started.output()).toEqual(mine.map(() => 0));

          const max = Number(await redis.get(keys.max));
          const runs = await redis.lrange(keys.runs, 0, -1);
          const byPid = new Map<string, number>();
          for (const entry of runs) {
            const pid = entry.split(":")[1]!;
            byPid.set(pid, (byPid.get(pid) ?? 0) + 1);
          }
          const context = `${target.name}: max running ${max}; runs per pid ${JSON.stringify(
            Object.fromEntries(byPid),
          )}; over the cap: ${JSON.stringify(runs.filter((r) => Number(r.split(":")[2]) > CAP))}`;
          console.log(context);
          expect(runs, context).toHaveLength(TASKS);
          expect(Number(await redis.get(keys.running)), context).toBe(0);
          expect(max, context).toBeLessThanOrEqual(CAP);
          expect(max, context).toBeGreaterThanOrEqual(2);
          expect(await queue.getConcurrencyLimit()).toBe(CAP);
        } finally {
          redis.disconnect();
          await queue.close();
        }
      },
    );
  }
});
