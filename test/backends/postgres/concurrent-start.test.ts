/**
 * Ten worker processes start at once on a database whose schema does not
 * exist yet: one of them migrates it (the others wait on the schema's lock
 * and find nothing left to do), all of them start, and they share the work.
 */
import type { ChildProcess } from "node:child_process";
import pg from "pg";
import { Queue } from "sheppy";
import { migrationStatus, PostgresBackend } from "sheppy/backends/postgres";
import { afterAll, describe, expect, it } from "vitest";
import { recordedWork } from "../../fixtures/crash-tasks.js";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { exited, spawnTs, waitForOutput } from "../../support/processes.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const key = fileKey(import.meta.url);
const schema = schemaFor(key);
const available =
  (await requireService("PostgreSQL", POSTGRES_URL)) && (await requireService("Redis", REDIS_URL));

// Skipped only outside CI when PostgreSQL or Redis is unreachable; under CI=true requireService fails instead.
describe.skipIf(!available)("postgres: ten workers starting at once on an empty database", () => {
  const children: ChildProcess[] = [];

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await deleteRedisPrefix(key);
    await dropSchema(schema);
  });

  it("migrate the schema once and all start working", async () => {
    const url = new URL(POSTGRES_URL);
    url.searchParams.set("schema", schema);
    // Ten processes, each with its pool and its listening connection: small pools leave room for
    // the other test files using the server at the same time.
    url.searchParams.set("poolSize", "2");
    const env = {
      TEST_REDIS_URL: REDIS_URL,
      TEST_PREFIX: key,
      TEST_POSTGRES_URL: url.toString(),
      TEST_QUEUE: "start",
      TEST_CONCURRENCY: "2",
    };
    for (let i = 0; i < 10; i++) children.push(spawnTs("test/fixtures/crash-worker.ts", env));
    await Promise.all(children.map((child) => waitForOutput(child, "ready", 30_000)));

    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    const status = await migrationStatus(pool, schema);
    expect(status.pending).toEqual([]);
    expect(status.applied.map((m) => m.version)).toEqual(
      Array.from({ length: status.latest }, (_, i) => i + 1),
    );
    await pool.end();

    const queue = new Queue(new PostgresBackend({ url: POSTGRES_URL, schema }), { name: "start" });
    const tasks = Array.from({ length: 200 }, (_, i) => recordedWork(REDIS_URL, key, i, 5));
    await queue.add(tasks);
    const finished = await queue.waitFor(tasks, { timeout: 60 });
    expect(finished.every((t) => t.status === "completed")).toBe(true);
    for (const child of children) child.kill("SIGTERM");
    expect(await Promise.all(children.map(exited))).toEqual(children.map(() => 0));
    await queue.close();
  }, 90_000);
});
