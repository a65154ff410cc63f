/**
 * A claim's start is read from the caller's clock before its statement runs;
 * by the time it runs, another worker (whose clock reads later) may have
 * made a scheduled task due. The claim then stamps the time the task waited
 * for instead, so no record shows a task started before it was due. The
 * statement writes that time as `toISOString()` would, for every instant.
 */
import fc from "fast-check";
import pg from "pg";
import { PostgresBackend, Queue, task } from "sheppy";
import { TestClock } from "sheppy/testing";
import { afterAll, describe, expect, it } from "vitest";
import { ISO_OF_DUE } from "../../../src/backends/postgres/claims.js";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { requireService } from "../../support/services.js";

const available = await requireService("PostgreSQL", POSTGRES_URL);
const schema = schemaFor(fileKey(import.meta.url));
const job = task({ name: "claim-stamp.job" }, (n: number) => n);

afterAll(async () => {
  if (available) await dropSchema(schema);
});

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("PostgreSQL: a claim's start and the time a task was due", () => {
  it("a task made due by a worker whose clock reads later starts, for a claimer whose clock reads earlier, when it was due", async () => {
    const start = Date.UTC(2030, 0, 1, 12);
    const clock = new TestClock(start);
    const backend = new PostgresBackend({ url: POSTGRES_URL, schema, clock });
    const queue = new Queue(backend, { name: "stamp" });
    await backend.connect();
    try {
      const later = job(1);
      const now = job(2);
      await queue.schedule(later, new Date(start + 1234));
      await queue.add(now);
      // Another worker, its clock 2 s ahead, makes the task due.
      expect(await backend.promoteDue("stamp", start + 2000)).toEqual([later.id]);
      const claimed = await backend.claim("stamp", 2, 0);
      const startOf = new Map(claimed.map((c) => [c.record.id, c.record.startedAt]));
      expect(startOf.get(now.id)).toBe(new Date(start).toISOString());
      expect(startOf.get(later.id)).toBe(new Date(start + 1234).toISOString());
      const stored = await queue.getTask(later);
      expect(stored?.startedAt?.getTime()).toBe(start + 1234);
      expect(stored!.startedAt!.getTime()).toBeGreaterThanOrEqual(stored!.scheduledAt!.getTime());
    } finally {
      await backend.disconnect();
    }
  });

  it("the statement's text for a due time is toISOString()'s, for instants from 1970 to 9999", async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.integer({ min: 0, max: 253_402_300_799_999 }), {
            minLength: 1,
            maxLength: 500,
          }),
          async (instants) => {
            const { rows } = await client.query<{ iso: string }>(
              `SELECT ${ISO_OF_DUE} AS iso
               FROM unnest($1::bigint[]) WITH ORDINALITY AS t(due_at, n) ORDER BY n`,
              [instants],
            );
            expect(rows.map((r) => r.iso)).toEqual(instants.map((d) => new Date(d).toISOString()));
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      await client.end();
    }
  });
});
