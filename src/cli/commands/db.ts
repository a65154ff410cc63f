/**
 * @module cli/commands/db
 * `sheppy db migrate | status`: the PostgreSQL schema's migrations, applied
 * or inspected without starting a worker — for a deploy step that migrates
 * before new workers start, or to see where a database stands. `status`
 * exits 1 unless the schema is up to date, so a script can check it. Workers
 * and queues also migrate by themselves when they connect.
 */
import type { Command } from "commander";
import {
  explainConnectFailure,
  isConnectionFailure,
  isPermanentConnectFailure,
} from "../../backends/postgres/connection-errors.js";
import { type MigrationStatus, migrate, migrationStatus } from "../../backends/postgres/index.js";
import { parsePostgresUrl } from "../../backends/postgres/postgres-url.js";
import { DEFAULT_SCHEMA } from "../../backends/postgres/schema-name.js";
import { supportedSchemes } from "../../backends/registry.js";
import {
  BackendUnavailableError,
  CliUsageError,
  PendingMigrationsError,
  SchemaVersionError,
} from "../../errors.js";
import { maskUrl } from "../../util/mask-url.js";
import { addSettings, type OutputFormat } from "../env.js";
import { type Column, formatInstant, print, printJson, printRows } from "../output.js";

interface DbSettings {
  readonly backendUrl?: string;
  readonly format: OutputFormat;
}

interface Row {
  readonly version: number;
  readonly name: string;
  readonly state: "applied" | "pending" | "newer than this sheppy";
  readonly appliedAt: string | null;
}

const COLUMNS: readonly Column<Row>[] = [
  { heading: "VERSION", value: (row) => String(row.version).padStart(3, "0") },
  { heading: "NAME", value: (row) => row.name },
  { heading: "STATE", value: (row) => row.state },
  { heading: "APPLIED (UTC)", value: (row) => formatInstant(row.appliedAt) },
];

/** Adds `sheppy db` and `db migrate | status`. */
export function addDbCommands(program: Command): void {
  const group = program
    .command("db")
    .description("PostgreSQL: apply or show the schema's migrations (?schema= in the URL)");
  const status = group
    .command("status")
    .description(
      "list the schema's migrations: applied, pending, or newer than this sheppy; exit code 0 when up to date, 1 when any is pending or newer",
    );
  addSettings(status, ["backendUrl", "format"]);
  status.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<DbSettings>();
    const found = await withDatabase(settings, (pool, schema) => migrationStatus(pool, schema));
    printRows(settings.format, rowsOf(found), COLUMNS, (row) => row, "no migrations");
    const failure = notUpToDate(found);
    if (failure) throw failure;
  });
  const run = group
    .command("migrate")
    .description("apply the schema's pending migrations (once, however many run it at once)");
  addSettings(run, ["backendUrl", "format"]);
  run.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<DbSettings>();
    const result = await withDatabase(settings, async (pool, schema) => ({
      schema,
      applied: await migrate(pool, schema),
      status: await migrationStatus(pool, schema),
    }));
    if (settings.format === "json") {
      printJson({ schema: result.schema, applied: result.applied, latest: result.status.latest });
    } else if (result.applied.length === 0) {
      print(`schema ${result.schema} is up to date (version ${result.status.latest})`);
    } else {
      print(
        `schema ${result.schema}: applied ${result.applied.map((v) => String(v).padStart(3, "0")).join(", ")} (now at version ${result.status.latest})`,
      );
    }
  });
}

/**
 * Why the schema is not ready for this Sheppy, or `undefined` when it is: a
 * deploy step that runs `db status` must not read "0" as "nothing to do"
 * while migrations wait, nor while the database is ahead of the code (said
 * in the words `migrate` refuses such a schema with).
 */
function notUpToDate(status: MigrationStatus): Error | undefined {
  const newest = status.unknown.at(-1);
  if (newest) {
    return new SchemaVersionError(
      `PostgreSQL schema "${status.schema}" is at version ${newest.version} (${newest.name}), newer than this Sheppy knows (${status.latest}): upgrade sheppy`,
    );
  }
  if (status.pending.length === 0) return undefined;
  const versions = status.pending.map((m) => String(m.version).padStart(3, "0")).join(", ");
  const count = status.pending.length;
  if (status.applied.length === 0) {
    // Nothing applied: most often a schema that does not exist yet, or a mistyped ?schema=.
    return new PendingMigrationsError(
      `schema ${status.schema} holds no Sheppy tables (it does not exist yet, or its name is mistyped: ?schema=): sheppy db migrate creates it, applying all ${count} migrations (${versions})`,
    );
  }
  return new PendingMigrationsError(
    `schema ${status.schema} has ${count} migration${count === 1 ? "" : "s"} not applied (${versions}): run sheppy db migrate`,
  );
}

function rowsOf(status: MigrationStatus): Row[] {
  return [
    ...status.applied.map(
      (m): Row => ({
        version: m.version,
        name: m.name,
        state: status.unknown.some((u) => u.version === m.version)
          ? "newer than this sheppy"
          : "applied",
        appliedAt: m.appliedAt.toISOString(),
      }),
    ),
    ...status.pending.map(
      (m): Row => ({ version: m.version, name: m.name, state: "pending", appliedAt: null }),
    ),
  ];
}

/** Runs `use` with a one-connection pool on the URL's database and schema, then closes it. */
async function withDatabase<T>(
  settings: DbSettings,
  use: (pool: import("pg").Pool, schema: string) => Promise<T>,
): Promise<T> {
  const raw = settings.backendUrl?.trim();
  if (!raw) {
    throw new CliUsageError(
      "no backend URL: pass --backend-url (e.g. postgres://127.0.0.1:5432/app) or set SHEPPY_BACKEND_URL",
    );
  }
  if (!/^postgres(ql)?:\/\//i.test(raw)) {
    const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(raw)?.[0].toLowerCase();
    const known = scheme !== undefined && supportedSchemes().includes(`${scheme}//`);
    throw new CliUsageError(
      scheme === "sqlite:"
        ? `sheppy db works on PostgreSQL (postgres://…); a SQLite file is migrated by the first worker (sheppy work) or task add of a new version that opens it, in one transaction`
        : known
          ? `sheppy db works on PostgreSQL (postgres://…); '${maskUrl(raw)}' names another backend, which has no migrations`
          : `sheppy db works on PostgreSQL (postgres://…); '${maskUrl(raw)}' is not a backend URL (supported: ${supportedSchemes().join(", ")})`,
    );
  }
  const target = parsePostgresUrl(raw, "--backend-url");
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: target.url, max: 1 });
  pool.on("error", () => undefined);
  try {
    return await use(pool, target.schema ?? DEFAULT_SCHEMA);
  } catch (error) {
    if (!isConnectionFailure(error) && !isPermanentConnectFailure(error)) throw error;
    throw new BackendUnavailableError(
      `cannot reach PostgreSQL at ${maskUrl(raw)}: ${explainConnectFailure(error)}`,
    );
  } finally {
    await pool.end().catch(() => undefined);
  }
}
