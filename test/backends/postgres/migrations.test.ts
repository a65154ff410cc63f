/**
 * The PostgreSQL backend's schema on a real server: migrations run at
 * connect, once however many backends connect at once; their status; a
 * database migrated by a newer Sheppy is refused; an application's own pool
 * is used and left open; a server that cannot be reached is a one-line
 * `BackendUnavailableError` with the password masked.
 */
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";
import {
  BackendError,
  BackendUnavailableError,
  PostgresBackend,
  Queue,
  SchemaVersionError,
  task,
  Worker,
} from "sheppy";
import { migrate, migrationStatus } from "sheppy/backends/postgres";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../../support/postgres.js";
import { recordingLogger } from "../../support/recording-logger.js";
import { requireService } from "../../support/services.js";

const available = await requireService("PostgreSQL", POSTGRES_URL);
const base = schemaFor(fileKey(import.meta.url)).slice(0, 55);
const schemas: string[] = [];
let counter = 0;

/** A schema of its own for one test, dropped after the file. */
function freshSchema(): string {
  const schema = `${base}_${++counter}`;
  schemas.push(schema);
  return schema;
}

afterAll(async () => {
  if (!available) return;
  for (const schema of schemas) await dropSchema(schema);
});

const migrationsDir = new URL("../../../src/backends/postgres/migrations/", import.meta.url);

/** Makes `schema` as an earlier Sheppy left it: the shipped migrations up to version `upTo`, recorded. */
async function schemaAtVersion(pool: pg.Pool, schema: string, upTo: number): Promise<void> {
  const q = `"${schema}"`;
  await pool.query(`CREATE SCHEMA ${q}`);
  await pool.query(
    `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
  );
  const files = readdirSync(migrationsDir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .slice(0, upTo);
  for (const [i, file] of files.entries()) {
    await pool.query(readFileSync(new URL(file, migrationsDir), "utf8").replaceAll("%SCHEMA%", q));
    await pool.query(`INSERT INTO ${q}.migrations (version, name) VALUES ($1, $2)`, [
      i + 1,
      file.slice(4, -4),
    ]);
  }
}

const echo = task({ name: "postgres-migrations.echo" }, (n: number) => n);

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("PostgreSQL schema and migrations", () => {
  it("many backends connecting at once to a new schema migrate it once", async () => {
    const schema = freshSchema();
    const backends = Array.from(
      { length: 8 },
      () => new PostgresBackend({ url: POSTGRES_URL, schema }),
    );
    try {
      await Promise.all(backends.map((b) => b.connect()));
      const pool = new pg.Pool({ connectionString: POSTGRES_URL });
      try {
        const status = await migrationStatus(pool, schema);
        expect(status.applied.map((m) => [m.version, m.name])).toEqual([
          [1, "initial"],
          [2, "expiring_count_per_statement"],
          [3, "paused_queues"],
          [4, "priorities"],
          [5, "concurrency_keys"],
          [6, "dedupe"],
          [7, "events"],
          [8, "event_batches"],
          [9, "compact_records"],
          [10, "rerun_of"],
          [11, "events_left_at_commit"],
          [12, "admit_rekeyed"],
          [13, "admit_at_commit"],
          [14, "expiring_by_kind"],
          [15, "fence_sequence"],
          [16, "commit_flush_once"],
          [17, "claim_lease"],
          [18, "workers"],
        ]);
        expect(status.pending).toEqual([]);
        expect(status.unknown).toEqual([]);
        expect(await migrate(pool, schema)).toEqual([]);
      } finally {
        await pool.end();
      }
      // And the schema works: a task added through one is seen by another.
      const queue = new Queue(backends[0]!, { name: "q" });
      await queue.add(echo(1));
      expect(await backends[1]!.size("q")).toBe(1);
    } finally {
      await Promise.all(backends.map((b) => b.disconnect()));
    }
  });

  it("migrationStatus of a schema that does not exist lists every migration as pending; migrate applies them", async () => {
    const schema = freshSchema();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      const before = await migrationStatus(client, schema);
      expect(before.applied).toEqual([]);
      expect(before.pending.map((m) => m.version)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
      ]);
      expect(before.latest).toBe(18);
      expect(await migrate(client, schema)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
      ]);
      expect((await migrationStatus(client, schema)).pending).toEqual([]);
    } finally {
      await client.end();
    }
  });

  it("migrate with a client inside the caller's transaction joins it: the caller's ROLLBACK undoes it, COMMIT keeps both", async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    const schemaExists = async (schema: string) =>
      (await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema])).rowCount ===
      1;
    try {
      const undone = freshSchema();
      await client.query("BEGIN");
      await client.query("CREATE TEMP TABLE caller_work (n int) ON COMMIT DROP");
      expect(await migrate(client, undone)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
      ]);
      // Still inside the caller's transaction: its own work is there, and it can roll everything back.
      expect((await client.query("SELECT count(*)::int AS n FROM caller_work")).rows[0].n).toBe(0);
      await client.query("ROLLBACK");
      expect(await schemaExists(undone)).toBe(false);

      const kept = freshSchema();
      await client.query("BEGIN");
      await migrate(client, kept);
      await client.query("COMMIT");
      expect((await migrationStatus(client, kept)).pending).toEqual([]);

      // A transaction that has failed is refused, and left for the caller to roll back.
      await client.query("BEGIN");
      await client.query("SELECT 1/0").catch(() => undefined);
      await expect(migrate(client, freshSchema())).rejects.toThrow(
        "migrate: the client's transaction has failed; roll it back before migrating",
      );
      // The same when the client has not yet read the server's "failed" status
      // (node-postgres settles a failed query before it reads that message).
      const lagging = {
        query: (text: string, values?: unknown[]) => client.query(text, values),
        getTransactionStatus: () => "T",
      } as unknown as pg.Client;
      await expect(migrate(lagging, freshSchema())).rejects.toThrow(
        "migrate: the client's transaction has failed; roll it back before migrating",
      );
      await client.query("ROLLBACK");
    } finally {
      await client.end();
    }
  });

  it("a schema holding another tool's migrations table is named as such, by the CLI's functions and at connect", async () => {
    const schema = freshSchema();
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    const expected = `schema "${schema}" holds a table "migrations" that is not Sheppy's (another tool's?): give Sheppy a schema of its own (the schema option, or ?schema= in the URL)`;
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(
        `CREATE TABLE "${schema}".migrations (id serial PRIMARY KEY, migration varchar(255) NOT NULL, batch int NOT NULL)`,
      );
      await expect(migrationStatus(client, schema)).rejects.toThrow(expected);
      await expect(migrate(client, schema)).rejects.toThrow(expected);
      const queue = new Queue(new PostgresBackend({ url: POSTGRES_URL, schema }), {
        name: "clash",
      });
      await expect(queue.add(echo(1))).rejects.toThrow(expected);
      await queue.close();
      // Nothing of Sheppy's was created beside it.
      const tables = await client.query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
        [schema],
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(["migrations"]);
    } finally {
      await client.end();
    }
  });

  it("a schema at version 1 is brought to the latest at connect, and the count of expiring rows stays exact across the upgrade", async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    const q = `"${schema}"`;
    const counted = async () => {
      const { rows } = await pool.query(
        `SELECT (SELECT coalesce(sum(n), 0)::int FROM ${q}.expiring WHERE queue = 'q') AS kept,
                (SELECT count(*)::int FROM ${q}.tasks WHERE queue = 'q' AND expires_at IS NOT NULL) AS rows`,
      );
      return rows[0] as { kept: number; rows: number };
    };
    try {
      // A database an earlier Sheppy made: version 1 only, with finished rows it counted.
      const v1 = readFileSync(
        new URL("../../../src/backends/postgres/migrations/001_initial.sql", import.meta.url),
        "utf8",
      ).replaceAll("%SCHEMA%", q);
      await pool.query(`CREATE SCHEMA ${q}`);
      await pool.query(
        `CREATE TABLE ${q}.migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      await pool.query(v1);
      await pool.query(`INSERT INTO ${q}.migrations (version, name) VALUES (1, 'initial')`);
      await pool.query(
        `INSERT INTO ${q}.tasks (queue, id, data, status, state, created_at)
         SELECT 'q', 'old-' || i, '{}', 'pending', 0, 0 FROM generate_series(1, 3) i`,
      );
      await pool.query(
        `UPDATE ${q}.tasks SET state = 3, status = 'completed', expires_at = 4102444800000 WHERE id IN ('old-1', 'old-2')`,
      );
      expect(await counted()).toEqual({ kept: 2, rows: 2 });

      const backend = new PostgresBackend({ url: POSTGRES_URL, schema, ttl: 3600 });
      await backend.connect();
      try {
        const status = await migrationStatus(pool, schema);
        expect(status.applied.map((m) => m.version)).toEqual(
          Array.from({ length: status.latest }, (_, i) => i + 1),
        );
        expect(status.latest).toBeGreaterThanOrEqual(2);
        expect(status.pending).toEqual([]);
        // Updates after the upgrade keep the count: one row loses its expiry, one gains it.
        await pool.query(`UPDATE ${q}.tasks SET expires_at = NULL WHERE id = 'old-1'`);
        await pool.query(
          `UPDATE ${q}.tasks SET expires_at = 4102444800000 WHERE id IN ('old-2', 'old-3')`,
        );
        expect(await counted()).toEqual({ kept: 2, rows: 2 });
        // And settles of tasks run by a worker are counted, in one statement each.
        const queue = new Queue(backend, { name: "q" });
        const tasks = Array.from({ length: 5 }, (_, i) => echo(i));
        await queue.add(tasks);
        const worker = new Worker(queue, { concurrency: 5, scheduler: false });
        const summary = await worker.work({ maxTasks: 5 });
        expect(summary.processed).toBe(5);
        expect(await counted()).toEqual({ kept: 7, rows: 7 });
        await pool.query(`DELETE FROM ${q}.tasks WHERE id = 'old-3'`);
        expect(await counted()).toEqual({ kept: 6, rows: 6 });
        // Counted by kind (the bound trims each on its own): a row whose status changes while it
        // keeps its expiry moves from the completed ones to the others.
        await pool.query(`UPDATE ${q}.tasks SET status = 'failed' WHERE id = 'old-2'`);
        const { rows: kinds } = await pool.query(
          `SELECT errors, sum(n)::int AS n FROM ${q}.expiring WHERE queue = 'q' GROUP BY errors ORDER BY errors`,
        );
        expect(kinds).toEqual([
          { errors: false, n: 5 },
          { errors: true, n: 1 },
        ]);
      } finally {
        await backend.disconnect();
      }
    } finally {
      await pool.end();
    }
  });

  it("a schema at version 8 is brought to 9: rows in the whole record form read and run as before, and new rows are written compact", async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    const q = `"${schema}"`;
    try {
      await schemaAtVersion(pool, schema, 8);
      const earlier = { ...echo(21).toJSON(), status: "pending" as const };
      await pool.query(
        `INSERT INTO ${q}.tasks (queue, id, data, status, state, seq, created_at)
         VALUES ('q', $1, $2, 'pending', 0, 1, 0)`,
        [earlier.id, JSON.stringify(earlier)],
      );
      const queue = new Queue(new PostgresBackend({ url: POSTGRES_URL, schema }), { name: "q" });
      try {
        expect((await queue.getTask(earlier.id))?.toJSON()).toEqual(earlier);
        const later = echo(22);
        await queue.add(later);
        await new Worker(queue, { claimWait: 0.1 }).work({ oneshot: true });
        const done = await queue.waitFor([earlier.id, later.id], { timeout: 5 });
        expect(done.map((t) => [t.status, t.result])).toEqual([
          ["completed", 21],
          ["completed", 22],
        ]);
        const rows = await pool.query<{ id: string; data: string }>(
          `SELECT id, data FROM ${q}.tasks WHERE queue = 'q' ORDER BY id`,
        );
        for (const row of rows.rows) {
          const stored = JSON.parse(row.data) as Record<string, unknown>;
          // Written (settled) by this version: the compact form, without the fields at their defaults.
          expect(stored.v).toBe(3);
          expect(stored).not.toHaveProperty("config");
          expect(row.data.length).toBeLessThan(JSON.stringify(done[0]).length / 2);
        }
      } finally {
        await queue.close();
      }
    } finally {
      await pool.end();
    }
  });

  it("a schema at version 6 is brought to 7 at connect: its tasks kept, and the queue's event log starts empty and works", async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    const q = `"${schema}"`;
    try {
      // A database the previous Sheppy made: versions 1 to 6, with a pending task.
      await schemaAtVersion(pool, schema, 6);
      await pool.query(
        `INSERT INTO ${q}.tasks (queue, id, data, status, state, seq, created_at)
         VALUES ('q', 'old', $1, 'pending', 0, 1, 0)`,
        [JSON.stringify({ id: "old", name: echo.name, status: "pending" })],
      );
      expect((await migrationStatus(pool, schema)).pending.map((m) => m.version)).toEqual([
        7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
      ]);

      const { lines, logger } = recordingLogger();
      const backend = new PostgresBackend({ url: POSTGRES_URL, schema, logger });
      await backend.connect();
      try {
        expect((await migrationStatus(pool, schema)).pending).toEqual([]);
        // The upgrade of a schema every process of the app shares is said, by the process that made it.
        expect(lines.filter((line) => /upgraded/.test(line.msg))).toEqual([
          {
            level: "info",
            fields: { schema, from: 6, to: 18 },
            msg: `postgres: upgraded schema "${schema}" from version 6 to 18`,
          },
        ]);
        expect(await backend.size("q")).toBe(1);
        expect(await backend.lastEventId("q")).toBeNull();
        await backend.appendEvents("q", ['{"type":"added"}']);
        const [entry] = await backend.readEvents("q", { after: null, limit: 10 });
        expect(entry?.body).toBe('{"type":"added"}');
        expect(await backend.lastEventId("q")).toBe(entry?.id);
      } finally {
        await backend.disconnect();
      }
    } finally {
      await pool.end();
    }
  });

  it("a schema at version 7 is brought to 8 at connect: its events keep their ids, later ones follow them, and the cap trims across old and new rows", async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    const q = `"${schema}"`;
    try {
      // A database the previous Sheppy made: versions 1 to 7, with events in two queues' logs.
      await schemaAtVersion(pool, schema, 7);
      const append = (queue: string, bodies: string[], cap: number) =>
        pool.query(`SELECT ${q}.append_events($1, $2::text[], $3, 'events')`, [queue, bodies, cap]);
      await append("q", ["a", "b"], 3);
      await append("other", ["o"], 3);
      await append("q", ["c", "d", "e"], 3);
      const before = await pool.query(
        `SELECT id::text AS id, body FROM ${q}.events WHERE queue = 'q' ORDER BY id`,
      );
      expect(before.rows.map((r) => r.body)).toEqual(["c", "d", "e"]);
      const oldIds: string[] = before.rows.map((r) => r.id);

      const backend = new PostgresBackend({ url: POSTGRES_URL, schema, eventCap: 4 });
      await backend.connect();
      const read = async (queue: string, after: string | null = null) =>
        (await backend.readEvents(queue, { after, limit: 100 })).map((e) => [e.id, e.body]);
      try {
        expect((await migrationStatus(pool, schema)).pending).toEqual([]);
        expect(await read("q")).toEqual(before.rows.map((r) => [r.id, r.body]));
        expect(await backend.lastEventId("q")).toBe(oldIds[2]);
        expect((await read("other")).map(([, body]) => body)).toEqual(["o"]);

        // Over the cap of 4: c and d go (whole old rows), then e and the new f–g row.
        await backend.appendEvents("q", ["f", "g"]);
        await backend.appendEvents("q", ["h"]);
        const afterOld = await read("q", oldIds[2]!);
        expect(afterOld.map(([, body]) => body)).toEqual(["f", "g", "h"]);
        const newIds = afterOld.map(([id]) => BigInt(id!));
        expect(newIds[0]! > BigInt(oldIds[2]!)).toBe(true);
        expect(newIds).toEqual([newIds[0]!, newIds[0]! + 1n, newIds[0]! + 2n]);
        expect((await read("q")).map(([, body]) => body)).toEqual(["e", "f", "g", "h"]);
        await backend.appendEvents("q", ["i", "j", "k"]);
        await backend.appendEvents("q", ["l", "m"]);
        // Of the i–k row only j and k are still read (the floor falls inside it), from the start or from an id before it.
        const window = await read("q");
        expect(window.map(([, body]) => body)).toEqual(["j", "k", "l", "m"]);
        expect(await read("q", String(newIds[2]))).toEqual(window);
        expect(await read("q", window[0]![0]!)).toEqual(window.slice(1));
        expect(await backend.lastEventId("q")).toBe(window[3]![0]);

        // Ids keep growing across a clear, and a queue's first log starts above every older id.
        await backend.clear("q");
        expect(await read("q")).toEqual([]);
        expect(await backend.lastEventId("q")).toBeNull();
        await backend.appendEvents("q", ["n"]);
        const [cleared] = await read("q", window[3]![0]!);
        expect(cleared?.[1]).toBe("n");
        await backend.appendEvents("fresh", ["z"]);
        const [fresh] = await read("fresh");
        const [other] = await read("other");
        expect(BigInt(fresh![0]!) > BigInt(other![0]!)).toBe(true);
        expect(BigInt(fresh![0]!) > BigInt(oldIds[2]!)).toBe(true);
      } finally {
        await backend.disconnect();
      }
    } finally {
      await pool.end();
    }
  });

  it("a database migrated by a newer Sheppy is refused with SchemaVersionError saying to upgrade", async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    try {
      await migrate(pool, schema);
      await pool.query(`INSERT INTO "${schema}".migrations (version, name) VALUES (999, 'future')`);
      const backend = new PostgresBackend({ url: POSTGRES_URL, schema });
      const error = await backend.connect().then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(SchemaVersionError);
      expect(error?.message).toMatch(/version 999 \(future\).*upgrade sheppy/);
      expect(backend.isConnected).toBe(false);
      await expect(migrate(pool, schema)).rejects.toThrow(SchemaVersionError);
    } finally {
      await pool.end();
    }
  });

  it("createSchema false: a schema an earlier Sheppy left is refused, not migrated (its workers would refuse it); sheppy's migrate brings it up", async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    try {
      await schemaAtVersion(pool, schema, 8);
      const error = await new PostgresBackend({ url: POSTGRES_URL, schema, createSchema: false })
        .connect()
        .then(
          () => null,
          (e: unknown) => e as Error,
        );
      expect(error).toBeInstanceOf(SchemaVersionError);
      expect(error?.message).toMatch(
        new RegExp(`^PostgreSQL schema "${schema}" is at version 8, older than this Sheppy`),
      );
      expect(error?.message).toContain("run sheppy db migrate");
      expect(error?.message).not.toContain("\n");
      const newest = async () =>
        (await pool.query(`SELECT max(version) AS v FROM "${schema}".migrations`)).rows[0].v;
      expect(await newest()).toBe(8);
      expect((await migrate(pool, schema)).length).toBeGreaterThan(0);
      const backend = new PostgresBackend({ url: POSTGRES_URL, schema, createSchema: false });
      await backend.connect();
      await backend.disconnect();
    } finally {
      await pool.end();
    }
  });

  it("createSchema false: a schema holding no Sheppy tables is a one-line BackendError naming it, and is not created; one Sheppy made connects", async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    const exists = async () =>
      (
        await pool.query("SELECT 1 FROM information_schema.schemata WHERE schema_name = $1", [
          schema,
        ])
      ).rowCount === 1;
    try {
      const error = await new PostgresBackend({ url: POSTGRES_URL, schema, createSchema: false })
        .connect()
        .then(
          () => null,
          (e: unknown) => e as Error,
        );
      expect(error).toBeInstanceOf(BackendError);
      expect(error?.message).toContain(`schema "${schema}" holds no Sheppy tables`);
      expect(error?.message).toContain("it was not created");
      expect(error?.message).not.toContain("\n");
      expect(await exists()).toBe(false);
      // An empty schema of the application's own is not Sheppy's either.
      await pool.query(`CREATE SCHEMA "${schema}"`);
      await expect(
        new PostgresBackend({ url: POSTGRES_URL, schema, createSchema: false }).connect(),
      ).rejects.toThrow(/holds no Sheppy tables/);
      expect(
        (
          await pool.query("SELECT 1 FROM information_schema.tables WHERE table_schema = $1", [
            schema,
          ])
        ).rowCount,
      ).toBe(0);
      await migrate(pool, schema);
      const backend = new PostgresBackend({ url: POSTGRES_URL, schema, createSchema: false });
      await backend.connect();
      expect(backend.isConnected).toBe(true);
      await backend.disconnect();
      expect(() => new PostgresBackend({ url: POSTGRES_URL, createSchema: "no" as never })).toThrow(
        /createSchema must be true or false \(got "no"\)/,
      );
      // The URL says it too, for a worker started from one (migrations run as a deploy step).
      const url = (name: string, value: string) => {
        const parsed = new URL(POSTGRES_URL);
        parsed.searchParams.set("schema", name);
        parsed.searchParams.set("createSchema", value);
        return parsed.toString();
      };
      const fromUrl = new Queue(url(schema, "false"), { name: "q" });
      await fromUrl.connect();
      await fromUrl.close();
      const missing = freshSchema();
      const refused = new Queue(url(missing, "false"), { name: "q" });
      await expect(refused.connect()).rejects.toThrow(
        `PostgreSQL schema "${missing}" holds no Sheppy tables: nothing has used it yet, or its name is mistyped (?schema=); it was not created (run sheppy db migrate to create it, or start a worker without createSchema=false)`,
      );
      await refused.close();
      expect(() => new Queue(url(missing, "no"), { name: "q" })).toThrow(
        "backend URL parameter createSchema must be true or false (got 'no')",
      );
    } finally {
      await pool.end();
    }
  });

  it("an application's pool is used and left open on disconnect", async () => {
    const schema = freshSchema();
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 3 });
    try {
      const backend = new PostgresBackend({ pool, schema });
      await backend.connect();
      const queue = new Queue(backend, { name: "q" });
      await queue.add(echo(2));
      expect(await queue.size()).toBe(1);
      await backend.disconnect();
      const { rows } = await pool.query(`SELECT count(*)::int AS n FROM "${schema}".tasks`);
      expect(rows[0].n).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it("a role that may connect but not create the schema gets a BackendError naming the schema and the right, not an outage", async () => {
    const role = `${base}_role`.slice(0, 60);
    const admin = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
    try {
      await admin.query(`DROP ROLE IF EXISTS "${role}"`);
      await admin.query(`CREATE ROLE "${role}" LOGIN`);
      const url = new URL(POSTGRES_URL);
      url.username = role;
      url.password = "";
      const schema = freshSchema();
      const backend = new PostgresBackend({ url: url.toString(), schema });
      const error = await backend.connect().then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(BackendError);
      expect(error).not.toBeInstanceOf(BackendUnavailableError);
      expect(error?.message).toMatch(
        new RegExp(`^cannot create or migrate PostgreSQL schema "${schema}": permission denied`),
      );
      expect(error?.message).toContain("needs CREATE on the database");
      expect(error?.message).not.toContain("\n");
      expect(backend.isConnected).toBe(false);
    } finally {
      await admin.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
      await admin.end();
    }
  });

  it("a server that cannot be reached fails connect at once: BackendUnavailableError, one line, password masked", async () => {
    const url = "postgres://someone:s3cret-word@127.0.0.1:1/nothing";
    const backend = new PostgresBackend({ url, schema: "never_made" });
    const started = Date.now();
    const error = await backend.connect().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error?.message).toContain("postgres://someone:****@127.0.0.1:1/nothing");
    expect(error?.message).toMatch(/connection refused/);
    expect(error?.message).not.toContain("s3cret-word");
    expect(error?.message).not.toContain("\n");
    expect(backend.isConnected).toBe(false);
  });
});
