/**
 * The SQLite file's schema: created and recorded at the first connect, once
 * however many processes open a new file at the same moment, and refused
 * with a one-line error when a newer Sheppy migrated the file.
 */
import Database from "better-sqlite3";
import { SchemaVersionError } from "sheppy";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../../support/isolation.js";
import { exited, spawnTs } from "../../support/processes.js";
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

describe("sqlite: migrations", () => {
  it("a new file gets every migration at connect, recorded once; connecting again changes nothing", async () => {
    const path = files.path("fresh.db");
    const first = new SqliteBackend({ path });
    await first.connect();
    await first.disconnect();
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
      /schema version 999, newer than this Sheppy knows .*upgrade sheppy/,
    );
    expect((error as Error).message).not.toContain("\n");
    expect(appliedVersions(path)).toContain(999);
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
