/**
 * `sheppy db status | migrate` on PostgreSQL: where a schema stands (status
 * exits 1 unless it is up to date), migrating it once, and one-line refusals.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { expectOneLineError, json, runCli } from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { requireService } from "../support/services.js";

const available = await requireService("PostgreSQL", POSTGRES_URL);
const schema = schemaFor(fileKey(import.meta.url));
/** A schema a newer Sheppy migrated. */
const newer = `${schema}_newer`;
const urlOf = (name: string) => {
  const parsed = new URL(POSTGRES_URL);
  parsed.searchParams.set("schema", name);
  return parsed.toString();
};
const url = urlOf(schema);

interface StatusRow {
  version: number;
  name: string;
  state: string;
}

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("sheppy db on PostgreSQL", () => {
  afterAll(async () => {
    await dropSchema(schema);
    await dropSchema(newer);
  });

  it("shows a new schema's migrations as pending (exit 1), applies them once, then shows them applied (exit 0)", async () => {
    const pending = await runCli(["db", "status", "-u", url, "--format", "json"]);
    // The status is printed all the same; the exit code and one line on stderr say it is not ready.
    expect(pending.code).toBe(1);
    const before = JSON.parse(pending.stdout) as StatusRow[];
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((row) => row.state === "pending")).toBe(true);
    const versions = before.map((row) => String(row.version).padStart(3, "0")).join(", ");
    expect(pending.stderr).toBe(
      `error: schema ${schema} holds no Sheppy tables (it does not exist yet, or its name is mistyped: ?schema=): sheppy db migrate creates it, applying all ${before.length} migrations (${versions})\n`,
    );
    const pendingTable = await runCli(["db", "status", "-u", url]);
    expect(pendingTable.code).toBe(1);
    expect(pendingTable.stdout).toMatch(
      /^VERSION\s+NAME\s+STATE\s+APPLIED \(UTC\)\n001\s+\S+\s+pending\s+-/,
    );
    // Several deploy steps at once: the migrations run once, under the schema's lock.
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => runCli(["db", "migrate", "-u", url, "--format", "json"])),
    );
    const applied = runs.map((run) => json<{ applied: number[] }>(run).applied);
    expect(applied.flat().sort((a, b) => a - b)).toEqual(before.map((row) => row.version));
    expect(applied.filter((versions) => versions.length > 0)).toHaveLength(1);
    const after = json<StatusRow[]>(await runCli(["db", "status", "-u", url, "--format", "json"]));
    expect(after.map((row) => row.state)).toEqual(before.map(() => "applied"));
    expect((await runCli(["db", "migrate", "-u", url])).stdout).toMatch(
      new RegExp(`^schema ${schema} is up to date \\(version \\d+\\)\\n$`),
    );
    const upToDate = await runCli(["db", "status", "-u", url]);
    expect([upToDate.code, upToDate.stderr]).toEqual([0, ""]);
    expect(upToDate.stdout).toMatch(
      /^VERSION\s+NAME\s+STATE\s+APPLIED \(UTC\)\n001\s+\S+\s+applied\s+\d{4}-/,
    );
  });

  it("a schema an earlier sheppy migrated says how many migrations it lacks", async () => {
    const older = `${schema}_older`;
    try {
      expect((await runCli(["db", "migrate", "-u", urlOf(older)])).code).toBe(0);
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      let last: number;
      try {
        // As an earlier sheppy left it, as far as the record says: without its newest migration.
        const { rows } = await client.query<{ version: number }>(
          `DELETE FROM ${client.escapeIdentifier(older)}.migrations WHERE version = (SELECT max(version) FROM ${client.escapeIdentifier(older)}.migrations) RETURNING version`,
        );
        last = rows[0]!.version;
      } finally {
        await client.end();
      }
      const status = await runCli(["db", "status", "-u", urlOf(older)]);
      expect(status.code).toBe(1);
      expect(status.stderr).toBe(
        `error: schema ${older} has 1 migration not applied (${String(last).padStart(3, "0")}): run sheppy db migrate\n`,
      );
    } finally {
      await dropSchema(older);
    }
  });

  it("a schema newer than this sheppy is shown, and exits 1 saying to upgrade", async () => {
    expect((await runCli(["db", "migrate", "-u", urlOf(newer)])).code).toBe(0);
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO ${client.escapeIdentifier(newer)}.migrations (version, name) VALUES (999, 'future')`,
      );
    } finally {
      await client.end();
    }
    const status = await runCli(["db", "status", "-u", urlOf(newer), "--format", "json"]);
    expect(status.code).toBe(1);
    const rows = JSON.parse(status.stdout) as StatusRow[];
    expect(rows.at(-1)).toMatchObject({
      version: 999,
      name: "future",
      state: "newer than this sheppy",
    });
    const known = rows.length - 1;
    expect(status.stderr).toBe(
      `error: PostgreSQL schema "${newer}" is at version 999 (future), newer than this Sheppy knows (${known}): upgrade sheppy\n`,
    );
  });

  it("refuses another backend's URL and a Sheppy parameter in another case, and names an unreachable server without its password", async () => {
    expect(
      expectOneLineError(await runCli(["db", "status", "-u", "redis://127.0.0.1:6379"]), 2),
    ).toBe(
      "error: sheppy db works on PostgreSQL (postgres://…); 'redis://127.0.0.1:6379' names another backend, which has no migrations",
    );
    // A SQLite file has migrations, applied by the processes that open it.
    expect(expectOneLineError(await runCli(["db", "migrate", "-u", "sqlite:///tmp/x.db"]), 2)).toBe(
      "error: sheppy db works on PostgreSQL (postgres://…); a SQLite file is migrated by the first worker (sheppy work) or task add of a new version that opens it, in one transaction",
    );
    // A misspelt scheme is not called another backend.
    expect(
      expectOneLineError(await runCli(["db", "status", "-u", "postgrs://127.0.0.1/app"]), 2),
    ).toMatch(
      /^error: sheppy db works on PostgreSQL \(postgres:\/\/…\); 'postgrs:\/\/127\.0\.0\.1\/app' is not a backend URL \(supported: .*postgres:\/\/.*\)$/,
    );
    // A Sheppy parameter in another case would leave the default schema in use: refused, by name.
    const miscased = expectOneLineError(
      await runCli([
        "db",
        "migrate",
        "-u",
        "postgres://app:hunter2secret@127.0.0.1:1/app?Schema=x",
      ]),
      2,
    );
    expect(miscased).toBe(
      "error: Invalid --backend-url 'postgres://app:****@127.0.0.1:1/app?Schema=x': unknown parameter 'Schema'; did you mean 'schema'? (Sheppy's parameters are case-sensitive)",
    );
    const line = expectOneLineError(
      await runCli(["db", "migrate", "-u", "postgres://app:hunter2secret@127.0.0.1:1/app"]),
      1,
    );
    expect(line).toContain("cannot reach PostgreSQL at postgres://app:****@127.0.0.1:1/app");
    expect(line).not.toContain("hunter2secret");
  });
});
