/** `sheppy db status | migrate` on PostgreSQL: where a schema stands, migrating it once, and one-line refusals. */
import { afterAll, describe, expect, it } from "vitest";
import { expectOneLineError, json, runCli } from "../support/cli.js";
import { fileKey } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { requireService } from "../support/services.js";

const available = await requireService("PostgreSQL", POSTGRES_URL);
const schema = schemaFor(fileKey(import.meta.url));
const url = (() => {
  const parsed = new URL(POSTGRES_URL);
  parsed.searchParams.set("schema", schema);
  return parsed.toString();
})();

interface StatusRow {
  version: number;
  name: string;
  state: string;
}

// Skipped only when PostgreSQL is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("sheppy db on PostgreSQL", () => {
  afterAll(() => dropSchema(schema));

  it("shows a new schema's migrations as pending, applies them once, then shows them applied", async () => {
    const before = json<StatusRow[]>(await runCli(["db", "status", "-u", url, "--format", "json"]));
    expect(before.length).toBeGreaterThan(0);
    expect(before.every((row) => row.state === "pending")).toBe(true);
    // Several deploy steps at once: the migrations run once, under the schema's lock.
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => runCli(["db", "migrate", "-u", url, "--format", "json"])),
    );
    const applied = runs.map((run) => json<{ applied: number[] }>(run).applied);
    expect(applied.flat().sort()).toEqual(before.map((row) => row.version));
    expect(applied.filter((versions) => versions.length > 0)).toHaveLength(1);
    const after = json<StatusRow[]>(await runCli(["db", "status", "-u", url, "--format", "json"]));
    expect(after.map((row) => row.state)).toEqual(before.map(() => "applied"));
    expect((await runCli(["db", "migrate", "-u", url])).stdout).toMatch(
      new RegExp(`^schema ${schema} is up to date \\(version \\d+\\)\\n$`),
    );
    const table = (await runCli(["db", "status", "-u", url])).stdout;
    expect(table).toMatch(
      /^VERSION\s+NAME\s+STATE\s+APPLIED \(UTC\)\n001\s+\S+\s+applied\s+\d{4}-/,
    );
  });

  it("refuses another backend's URL and a Sheppy parameter in another case, and names an unreachable server without its password", async () => {
    expect(
      expectOneLineError(await runCli(["db", "status", "-u", "redis://127.0.0.1:6379"]), 2),
    ).toBe(
      "error: sheppy db works on PostgreSQL (postgres://…); 'redis://127.0.0.1:6379' names another backend, which has no migrations",
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
