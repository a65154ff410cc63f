/**
 * Commands that only list, inspect or manage what a backend holds never
 * create its storage: a PostgreSQL schema or SQLite file that nothing has
 * made (most often a mistyped `?schema=` or path) is a one-line error that
 * names it, and is left uncreated; commands that add work create it, as a
 * worker does.
 */
import { existsSync } from "node:fs";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { expectOneLineError, runCli, TASKS } from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { requireService } from "../support/services.js";
import { sqliteTestDir } from "../support/sqlite.js";

const key = fileKey(import.meta.url);
const files = sqliteTestDir(key);
const available = await requireService("PostgreSQL", POSTGRES_URL);
const schema = schemaFor(key);
const pgUrl = (() => {
  const parsed = new URL(POSTGRES_URL);
  parsed.searchParams.set("schema", schema);
  return parsed.toString();
})();

/** The read-only and managing commands, each with the arguments it needs. */
const looking: readonly (readonly string[])[] = [
  ["queue", "list"],
  ["task", "list"],
  ["task", "info", "0193a6c4-7b1e-7cc2-8a55-1f0e2d3c4b5a"],
  ["cron", "list"],
  ["metrics"],
  ["queue", "pause"],
];

afterAll(() => files.remove());

describe("sqlite: looking at a file nothing has made", () => {
  it("each command is refused in one line naming the file, which stays uncreated; task add creates it", async () => {
    const path = files.path("mistyped.db");
    const url = `sqlite://${path}`;
    for (const command of looking) {
      const line = expectOneLineError(await runCli([...command, "-u", url]), 1);
      expect(line, command.join(" ")).toContain(`${path} is not a Sheppy database`);
      expect(existsSync(path), command.join(" ")).toBe(false);
    }
    const added = await runCli(["task", "add", `${TASKS}:add`, "--args", "[1,2]", "-u", url]);
    expect(added.code, added.stderr).toBe(0);
    expect(existsSync(path)).toBe(true);
    const listed = await runCli(["task", "list", "-u", url, "--format", "json"]);
    expect(listed.code, listed.stderr).toBe(0);
  });

  it("a path in a directory that does not exist is a database that is not there, not one that cannot be created", async () => {
    const path = files.path("nowhere/tasks.db");
    const line = expectOneLineError(await runCli(["task", "list", "-u", `sqlite://${path}`]), 1);
    expect(line).toBe(
      `error: sqlite://: there is no database at ${path}: its directory ${files.path("nowhere")} does not exist (the path is mistyped, or nothing has used it yet)`,
    );
  });
});

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("postgres: looking at a schema nothing has made", () => {
  afterAll(() => dropSchema(schema));

  it("each command is refused in one line naming the schema, which stays uncreated", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL });
    try {
      for (const command of looking) {
        const line = expectOneLineError(await runCli([...command, "-u", pgUrl]), 1);
        expect(line, command.join(" ")).toContain(`schema "${schema}" holds no Sheppy tables`);
        const found = await pool.query(
          "SELECT 1 FROM information_schema.schemata WHERE schema_name = $1",
          [schema],
        );
        expect(found.rowCount, command.join(" ")).toBe(0);
      }
    } finally {
      await pool.end();
    }
  });
});
