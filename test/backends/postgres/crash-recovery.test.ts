/**
 * PostgreSQL: three worker processes share one queue of 3,000 tasks; one is
 * SIGKILLed mid-run. Every task must end completed, none may be missing, and
 * only tasks the killed worker held may have run twice.
 */
import type { ChildProcess } from "node:child_process";
import { Queue } from "sheppy";
import { PostgresBackend } from "sheppy/backends/postgres";
import { afterAll, describe, it } from "vitest";
import { recordedWork } from "../../fixtures/crash-tasks.js";
import { killOneWorkerMidRun } from "../../support/crash-run.js";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
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
    await killOneWorkerMidRun({
      queue,
      tasks,
      recorderUrl: REDIS_URL,
      prefix: key,
      env: {
        TEST_REDIS_URL: REDIS_URL,
        TEST_PREFIX: key,
        TEST_POSTGRES_URL: url.toString(),
        TEST_QUEUE: "crash",
        TEST_CONCURRENCY: "10",
      },
      children,
    });
    await queue.close();
  });
});
