/**
 * The maxFinished bound on PostgreSQL under concurrent settles: three
 * workers on three backend instances finish tasks into a queue kept at 20
 * finished records. Settles over the bound delete rows of their own (they
 * skip rows another settle is deleting) instead of queueing behind each other
 * for the same soonest rows (one trims at a time; the others skip it), so
 * the queue drains without stalls or errors, every task runs once, no record
 * is deleted twice over, and after a sweep exactly maxFinished are kept.
 */
import pg from "pg";
import { PostgresBackend, Queue, task, Worker } from "sheppy";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { requireService } from "../../support/services.js";

const available = await requireService("PostgreSQL", POSTGRES_URL);
const schema = schemaFor(fileKey(import.meta.url));
const runs = new Map<number, number>();
const count = task({ name: "postgres-retention.count" }, (n: number) => {
  runs.set(n, (runs.get(n) ?? 0) + 1);
  return n;
});

afterAll(async () => {
  if (available) await dropSchema(schema);
});

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("maxFinished with concurrent settles", () => {
  it("three workers over the bound: every task runs once, no errors, at most maxFinished kept", async () => {
    const backends = [0, 1, 2].map(
      () => new PostgresBackend({ url: POSTGRES_URL, schema, ttl: 3600, maxFinished: 20 }),
    );
    const queues = backends.map((b) => new Queue(b, { name: "bounded" }));
    const errors: unknown[] = [];
    const tasks = Array.from({ length: 300 }, (_, i) => count(i));
    await queues[0]!.add(tasks);
    const workers = queues.map((q) => new Worker(q, { concurrency: 20, claimWait: 0.2 }));
    for (const w of workers) w.on("worker:error", ({ error }) => errors.push(error));
    try {
      const started = Date.now();
      const working = workers.map((w) => w.work());
      const pool = new pg.Pool({ connectionString: POSTGRES_URL });
      try {
        for (;;) {
          const stats = await queues[0]!.stats();
          if (runs.size === 300 && stats.pending + stats.processing === 0) break;
          expect(Date.now() - started, "drained within 20 s").toBeLessThan(20_000);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await Promise.all(workers.map((w) => w.close()));
        await Promise.all(working);
        const kept = async () =>
          (
            await pool.query(
              `SELECT count(*)::int AS n FROM "${schema}".tasks WHERE queue = 'bounded' AND expires_at IS NOT NULL`,
            )
          ).rows[0].n as number;
        // Settles that found another trimming left theirs for later: a sweep trims the rest,
        // and none was deleted twice over.
        expect(await kept()).toBeGreaterThanOrEqual(20);
        await backends[0]!.pruneExpired("bounded", Date.now());
        expect(await kept()).toBe(20);
      } finally {
        await pool.end();
      }
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await Promise.all(workers.map((w) => w.close({ force: true })));
      await Promise.all(backends.map((b) => b.disconnect()));
    }
  });
});
