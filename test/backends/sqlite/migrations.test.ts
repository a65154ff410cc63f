/**
 * The SQLite file's schema: created and recorded at the first connect, once
 * however many processes open a new file at the same moment, and refused
 * with a one-line error when a newer Sheppy migrated the file.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { BackendError, Queue, SchemaVersionError, task, Worker } from "sheppy";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { exited, spawnTs } from "../../support/processes.js";
import { recordingLogger } from "../../support/recording-logger.js";
import { sqliteTestDir } from "../../support/sqlite.js";

const files = sqliteTestDir(fileKey(import.meta.url));

afterAll(() => files.remove());

function appliedVersions(path: string): number[] {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db.prepare("SELECT version FROM migrations ORDER BY version").all() as { version: number }[]
    ).map((row) => row.version);
  } finally {
    db.close();
  }
}

const migrationsDir = new URL("../../../src/backends/sqlite/migrations/", import.meta.url);

/** A file as a Sheppy that knew only the first `upTo` migrations left it. */
function fileAtVersion(path: string, upTo: number): void {
  const db = new Database(path);
  db.exec(
    "CREATE TABLE migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
  );
  const files = readdirSync(migrationsDir)
    .filter((f) => /^\d{3}_.*\.sql$/.test(f))
    .sort()
    .slice(0, upTo);
  for (const [i, file] of files.entries()) {
    db.exec(readFileSync(new URL(file, migrationsDir), "utf8"));
    db.prepare("INSERT INTO migrations VALUES (?, ?, 'x')").run(i + 1, file.slice(4, -4));
  }
  db.close();
}

const upgraded = task({ name: "sqlite-migrations.upgraded" }, (n: number) => n);

describe("sqlite: migrations", () => {
  it("a file at version 4 is upgraded with its tasks kept: pending, claimed and finished rows, their places and expiry counts", async () => {
    const path = files.path("version-4.db");
    fileAtVersion(path, 4);
    const db = new Database(path);
    const insert = db.prepare(
      "INSERT INTO tasks (queue, id, data, status, state, seq, created_at, expires_at, priority) VALUES ('q', ?, ?, ?, ?, ?, 0, ?, ?)",
    );
    const records = [1, 2, 3].map((n) => upgraded(n).toJSON());
    insert.run(
      records[0]!.id,
      JSON.stringify({ ...records[0], status: "pending" }),
      "pending",
      0,
      2,
      null,
      0,
    );
    insert.run(
      records[1]!.id,
      JSON.stringify({ ...records[1], status: "pending" }),
      "pending",
      0,
      1,
      null,
      5,
    );
    insert.run(
      records[2]!.id,
      JSON.stringify({ ...records[2], status: "completed", finishedAt: new Date().toISOString() }),
      "completed",
      3,
      null,
      Date.now() + 3_600_000,
      0,
    );
    expect(db.prepare("SELECT n FROM expiring WHERE queue = 'q'").get()).toEqual({ n: 1 });
    db.close();
    const backend = new SqliteBackend({ path });
    const queue = new Queue(backend, { name: "q" });
    try {
      await backend.connect();
      expect(appliedVersions(path)).toEqual(appliedVersions(path).map((_, i) => i + 1));
      expect(appliedVersions(path).length).toBeGreaterThanOrEqual(5);
      expect((await queue.stats()).pending).toBe(2);
      expect((await queue.stats()).completed).toBe(1);
      const claimed = await backend.claim("q", 5);
      expect(claimed.map((c) => c.record.id)).toEqual([records[1]!.id, records[0]!.id]);
      // The expiring count survived the rebuild and its triggers were made again.
      expect(await backend.deleteTask("q", records[2]!.id)).toBe(true);
      const check = new Database(path, { readonly: true });
      expect(check.prepare("SELECT n FROM expiring WHERE queue = 'q'").get()).toEqual({ n: 0 });
      check.close();
      const keyed = upgraded(4);
      await queue.add([keyed, upgraded(5)], { concurrency: { key: "k" } });
      expect((await backend.claim("q", 5)).map((c) => c.record.id)).toEqual([keyed.id]);
    } finally {
      await backend.disconnect();
    }
  });

  it("a file at version 7 is upgraded to 8: rows in the whole record form read and run as before, and new rows are written compact", async () => {
    const path = files.path("version-7.db");
    fileAtVersion(path, 7);
    const earlier = { ...upgraded(31).toJSON(), status: "pending" as const };
    const db = new Database(path);
    db.prepare(
      "INSERT INTO tasks (queue, id, data, status, state, seq, created_at, priority) VALUES ('q', ?, ?, 'pending', 0, 1, 0, 0)",
    ).run(earlier.id, JSON.stringify(earlier));
    db.close();
    const queue = new Queue(new SqliteBackend({ path }), { name: "q" });
    try {
      expect((await queue.getTask(earlier.id))?.toJSON()).toEqual(earlier);
      expect(appliedVersions(path)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      const later = upgraded(32);
      await queue.add(later);
      await new Worker(queue, { claimWait: 0.1 }).work({ oneshot: true });
      const done = await queue.waitFor([earlier.id, later.id], { timeout: 5 });
      expect(done.map((t) => [t.status, t.result])).toEqual([
        ["completed", 31],
        ["completed", 32],
      ]);
      const check = new Database(path, { readonly: true });
      const rows = check.prepare("SELECT data FROM tasks WHERE queue = 'q'").all() as {
        data: string;
      }[];
      check.close();
      expect(rows).toHaveLength(2);
      for (const { data } of rows) {
        const stored = JSON.parse(data) as Record<string, unknown>;
        // Written (settled) by this version: the compact form, without the fields at their defaults.
        expect(stored.v).toBe(3);
        expect(stored).not.toHaveProperty("config");
        expect(data.length).toBeLessThan(JSON.stringify(done[0]).length / 2);
      }
    } finally {
      await queue.close();
    }
  });

  it("a file at version 6 is upgraded to 7 with its tasks kept: the event log starts empty, appends and reads, and ids are not given again after a clear", async () => {
    const path = files.path("version-6.db");
    fileAtVersion(path, 6);
    const db = new Database(path);
    const record = upgraded(1).toJSON();
    db.prepare(
      "INSERT INTO tasks (queue, id, data, status, state, seq, created_at, priority) VALUES ('q', ?, ?, 'pending', 0, 1, 0, 0)",
    ).run(record.id, JSON.stringify(record));
    db.close();
    const { lines, logger } = recordingLogger();
    const backend = new SqliteBackend({ path, logger });
    await backend.connect();
    try {
      expect(appliedVersions(path)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
      // The upgrade of a file every process of the app shares is said, by the process that made it.
      expect(lines).toEqual([
        {
          level: "info",
          fields: { path, from: 6, to: 14 },
          msg: "sqlite: upgraded the file's schema from version 6 to 14",
        },
      ]);
      expect(await backend.size("q")).toBe(1);
      expect(await backend.lastEventId("q")).toBeNull();
      await backend.appendEvents("q", ["a", "b"]);
      expect(await backend.readEvents("q", { after: null, limit: 10 })).toEqual([
        { id: "1", body: "a" },
        { id: "2", body: "b" },
      ]);
      await backend.clear("q");
      expect(await backend.lastEventId("q")).toBeNull();
      await backend.appendEvents("q", ["c"]);
      expect(await backend.readEvents("q", { after: "2", limit: 10 })).toEqual([
        { id: "3", body: "c" },
      ]);
    } finally {
      await backend.disconnect();
    }
  });

  it("a new file gets every migration at connect, recorded once, without a word; connecting again changes nothing", async () => {
    const path = files.path("fresh.db");
    const { lines, logger } = recordingLogger();
    const first = new SqliteBackend({ path, logger });
    await first.connect();
    // The tables stand in the main file, not only in its write-ahead log (still open here): a
    // log lost after a crash would lose tasks, not the schema.
    copyFileSync(path, files.path("fresh-main-only.db"));
    const mainOnly = new Database(files.path("fresh-main-only.db"), { readonly: true });
    const tables = mainOnly
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'tasks'")
      .all();
    mainOnly.close();
    expect(tables).toHaveLength(1);
    await first.disconnect();
    expect(lines).toEqual([]);
    const versions = appliedVersions(path);
    expect(versions.length).toBeGreaterThan(0);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    const again = new SqliteBackend({ path });
    await again.connect();
    await again.disconnect();
    expect(appliedVersions(path)).toEqual(versions);
  });

  it("a file migrated by a newer Sheppy is refused with a one-line SchemaVersionError, and left as it was", async () => {
    const path = files.path("newer.db");
    const backend = new SqliteBackend({ path });
    await backend.connect();
    await backend.disconnect();
    const db = new Database(path);
    db.prepare(
      "INSERT INTO migrations (version, name, applied_at) VALUES (999, 'from_the_future', 'x')",
    ).run();
    db.close();
    const error = await new SqliteBackend({ path }).connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect((error as Error).message).toMatch(
      /^SQLite file .*newer\.db is at schema version 999 \(from_the_future\), newer than this Sheppy knows \(\d+\): upgrade sheppy$/,
    );
    expect((error as Error).message).not.toContain("\n");
    expect(appliedVersions(path)).toContain(999);
  });

  it("create false: a missing file, or one without Sheppy's tables, is a one-line BackendError and is left as it was; a Sheppy file connects", async () => {
    const missing = files.path("never-made.db");
    const gone = await new SqliteBackend({ path: missing, create: false })
      .connect()
      .catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(BackendError);
    expect((gone as Error).message).toMatch(
      /never-made\.db is not a Sheppy database \(there is no such file\)/,
    );
    expect((gone as Error).message).not.toContain("\n");
    expect(existsSync(missing)).toBe(false);
    const foreign = files.path("foreign.db");
    const db = new Database(foreign);
    db.exec("CREATE TABLE notes (body TEXT)");
    db.close();
    const refused = await new SqliteBackend({ path: foreign, create: false })
      .connect()
      .catch((e: unknown) => e);
    expect((refused as Error).message).toMatch(
      /foreign\.db is not a Sheppy database \(it holds no Sheppy tables\)/,
    );
    const untouched = new Database(foreign, { readonly: true });
    const tables = untouched.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    const journal = untouched.pragma("journal_mode", { simple: true });
    untouched.close();
    expect(tables).toEqual([{ name: "notes" }]);
    expect(journal).toBe("delete");
    const made = files.path("made.db");
    const creator = new SqliteBackend({ path: made });
    await creator.connect();
    await creator.disconnect();
    const reader = new SqliteBackend({ path: made, create: false });
    await reader.connect();
    expect(reader.isConnected).toBe(true);
    await reader.disconnect();
  });

  it("create false: a file an earlier Sheppy left is refused, not migrated (its workers would refuse it); a worker's connect migrates it", async () => {
    const path = files.path("looked-at.db");
    fileAtVersion(path, 7);
    const error = await new SqliteBackend({ path, create: false }).connect().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(SchemaVersionError);
    expect(error?.message).toMatch(
      /^SQLite file .*looked-at\.db is at schema version 7, older than this Sheppy \(\d+\); a command that only looks does not migrate it/,
    );
    expect(error?.message).not.toContain("\n");
    expect(appliedVersions(path)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const backend = new SqliteBackend({ path });
    await backend.connect();
    await backend.disconnect();
    expect(appliedVersions(path).length).toBeGreaterThan(7);
  });

  it("ten processes opening a new file at once migrate it once, and all of them work on it", async () => {
    const path = files.path("together.db");
    const children = Array.from({ length: 10 }, (_, i) =>
      spawnTs("test/fixtures/sqlite-opener.ts", {
        TEST_SQLITE_URL: files.url("together.db"),
        TEST_INDEX: String(i),
      }),
    );
    const output = children.map((child) => {
      let text = "";
      child.stdout?.on("data", (chunk: string) => (text += chunk));
      child.stderr?.on("data", (chunk: string) => (text += chunk));
      return () => text;
    });
    const codes = await Promise.all(children.map(exited));
    expect(codes, output.map((read) => read()).join("\n")).toEqual(children.map(() => 0));
    const versions = appliedVersions(path);
    expect(versions).toEqual(versions.map((_, i) => i + 1));
    const backend = new SqliteBackend({ path });
    await backend.connect();
    expect(await backend.size("start")).toBe(10);
    await backend.disconnect();
  });
});
