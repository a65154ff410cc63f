/**
 * @module backends/postgres/migrations
 * The schema's tables come from numbered SQL files (`./migrations/NNN_name.sql`),
 * applied in order by `connect()` — or by a CLI calling {@link migrate} — each
 * recorded in `<schema>.migrations` (version, name, applied_at). All pending
 * files are applied in one transaction holding an advisory lock derived from
 * the schema name, so many workers starting at once migrate once: the first
 * applies, the others wait on the lock, then find nothing left to do.
 *
 * Connecting stays cheap when the schema is current: one query reads the
 * newest applied version ({@link ensureSchema}); only a missing or older
 * schema takes the lock. A database migrated by a newer Sheppy (a version
 * this code does not know) is refused with a `SchemaVersionError`: running
 * old code against tables it does not understand could lose tasks.
 */
import type { ClientBase, Pool } from "pg";
import { BackendError, SchemaVersionError } from "../../errors.js";
import { checkDatabase, rowsOf } from "./app-client.js";
import { MIGRATION_FILES } from "./migration-files.embedded.js";
import { checkSchemaName, migrationLockKey, withSchema } from "./schema-name.js";

/** One migration file. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** SQL with `%SCHEMA%` placeholders. */
  readonly sql: string;
}

/** A migration as `<schema>.migrations` records it. */
export interface AppliedMigration {
  readonly version: number;
  readonly name: string;
  readonly appliedAt: Date;
}

/** Where a schema stands. */
export interface MigrationStatus {
  readonly schema: string;
  /** The newest version this code knows. */
  readonly latest: number;
  readonly applied: readonly AppliedMigration[];
  /** Known versions not applied yet, in order. */
  readonly pending: readonly Omit<Migration, "sql">[];
  /** Applied versions this code does not know: the database was migrated by a newer Sheppy. */
  readonly unknown: readonly AppliedMigration[];
}

/** A pool (a client is taken from it) or a connected client (`pg.Client`, `pg.PoolClient`). */
export type Database = Pool | ClientBase;

const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;
const UNDEFINED_TABLE = "42P01";
const UNDEFINED_SCHEMA = "3F000";
const UNDEFINED_COLUMN = "42703";
const DATATYPE_MISMATCH = "42804";
const IN_FAILED_TRANSACTION = "25P02";
const INSUFFICIENT_PRIVILEGE = "42501";

let cached: readonly Migration[] | undefined;

/** The migrations built into this code, in version order. */
export function knownMigrations(): readonly Migration[] {
  if (cached) return cached;
  const migrations = Object.entries(MIGRATION_FILES)
    .flatMap(([file, sql]) => {
      const match = FILE.exec(file);
      if (!match) return [];
      return [{ version: Number(match[1]), name: match[2]!, sql }];
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1)
      throw new Error(`migration files are not numbered 001, 002, …: ${m.name}`);
  });
  cached = migrations;
  return migrations;
}

function isPool(db: Database): db is Pool {
  return typeof (db as Pool).totalCount === "number";
}

/** Runs `fn` on a client of its own (taken from the pool and given back), or on the client given. */
async function withClient<T>(db: Database, fn: (client: ClientBase) => Promise<T>): Promise<T> {
  if (!isPool(db)) return fn(db);
  const client = await db.connect();
  let failure: unknown;
  try {
    return await fn(client);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    // A client whose transaction failed halfway is dropped rather than reused.
    client.release(failure instanceof Error ? failure : undefined);
  }
}

const sqlState = (error: unknown) => (error as { code?: unknown })?.code;

/** The applied migrations, oldest first; `[]` when the schema or its table does not exist. */
async function readApplied(
  client: ClientBase,
  schema: string,
  where: string,
): Promise<AppliedMigration[]> {
  let result: unknown;
  try {
    result = await client.query(
      withSchema(
        "SELECT version, name, applied_at FROM %SCHEMA%.migrations ORDER BY version",
        schema,
      ),
    );
  } catch (error) {
    const code = sqlState(error);
    if (code === UNDEFINED_TABLE || code === UNDEFINED_SCHEMA) return [];
    throw foreignTable(error, schema) ?? error;
  }
  const rows = rowsOf(result, where, "the client's query") as {
    version: number;
    name: string;
    applied_at: Date;
  }[];
  return rows.map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at }));
}

/**
 * The error to throw when reading `schema`'s `migrations` table failed with
 * `error` because the table has other columns than Sheppy's: another tool
 * keeps its own in this schema. `undefined` for any other failure.
 */
function foreignTable(error: unknown, schema: string): BackendError | undefined {
  const code = sqlState(error);
  if (code !== UNDEFINED_COLUMN && code !== DATATYPE_MISMATCH) return undefined;
  return new BackendError(
    `schema "${schema}" holds a table "migrations" that is not Sheppy's (another tool's?): give Sheppy a schema of its own (the schema option, or ?schema= in the URL)`,
    { cause: error },
  );
}

function statusOf(schema: string, applied: readonly AppliedMigration[]): MigrationStatus {
  const known = knownMigrations();
  const done = new Set(applied.map((m) => m.version));
  return {
    schema,
    latest: known.length,
    applied,
    pending: known
      .filter((m) => !done.has(m.version))
      .map(({ version, name }) => ({ version, name })),
    unknown: applied.filter((m) => m.version > known.length),
  };
}

function tooNew(status: MigrationStatus): SchemaVersionError {
  const newest = status.unknown[status.unknown.length - 1]!;
  return new SchemaVersionError(
    `PostgreSQL schema "${status.schema}" is at version ${newest.version} (${newest.name}), newer than this Sheppy knows (${status.latest}): upgrade sheppy`,
  );
}

/** Where `schema` stands: applied, pending and unknown migrations. Changes nothing. */
export async function migrationStatus(db: Database, schema: string): Promise<MigrationStatus> {
  checkDatabase(db, "migrationStatus");
  checkSchemaName(schema, "migrationStatus: schema");
  return withClient(db, async (client) =>
    statusOf(schema, await readApplied(client, schema, "migrationStatus")),
  );
}

/**
 * Applies every pending migration of `schema` (creating the schema first),
 * in one transaction under the schema's advisory lock; returns the versions
 * it applied (none when up to date). Throws `SchemaVersionError` when the
 * database was migrated by a newer Sheppy.
 */
export async function migrate(db: Database, schema: string): Promise<number[]> {
  checkDatabase(db, "migrate");
  checkSchemaName(schema, "migrate: schema");
  return withClient(db, async (client) => {
    const { begin, commit, rollback } = transactionCommands(client);
    await client.query(begin).catch((error: unknown) => {
      throw sqlState(error) === IN_FAILED_TRANSACTION ? failedTransaction() : error;
    });
    try {
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [migrationLockKey(schema)]);
      // CREATE SCHEMA IF NOT EXISTS needs CREATE on the database even when the schema exists: a
      // role given a schema of its own by an administrator may not have it, and needs no more.
      const existing = await client.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [
        schema,
      ]);
      if (rowsOf(existing, "migrate", "the client's query").length === 0) {
        await client.query(withSchema("CREATE SCHEMA IF NOT EXISTS %SCHEMA%", schema));
      }
      await client.query(
        withSchema(
          `CREATE TABLE IF NOT EXISTS %SCHEMA%.migrations (
             version    integer     PRIMARY KEY,
             name       text        NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
           )`,
          schema,
        ),
      );
      const status = statusOf(schema, await readApplied(client, schema, "migrate"));
      if (status.unknown.length > 0) throw tooNew(status);
      const applied: number[] = [];
      for (const { version, name } of status.pending) {
        const migration = knownMigrations()[version - 1]!;
        await client.query(withSchema(migration.sql, schema));
        await client.query(
          withSchema("INSERT INTO %SCHEMA%.migrations (version, name) VALUES ($1, $2)", schema),
          [version, name],
        );
        applied.push(version);
      }
      await client.query(commit);
      return applied;
    } catch (error) {
      await client.query(rollback).catch(() => undefined);
      throw sqlState(error) === INSUFFICIENT_PRIVILEGE ? notAllowed(schema, error) : error;
    }
  });
}

/**
 * The role may connect but not create: a reason of its own, not an outage to
 * retry — the schema, the right and the way out, in one line.
 */
function notAllowed(schema: string, error: unknown): BackendError {
  const reason = error instanceof Error ? error.message : String(error);
  return new BackendError(
    `cannot create or migrate PostgreSQL schema "${schema}": ${reason} (the role needs CREATE on the database to create the schema, and on the schema for its tables; or run sheppy db migrate once as a role that has it)`,
    { cause: error },
  );
}

/**
 * How `migrate` makes its work one unit on `client`: a transaction of its
 * own; or, when the client is already inside the caller's transaction, a
 * savepoint in it — so the migrations commit or roll back with the caller's
 * work, and the caller's transaction is never committed here. A client
 * whose transaction has failed is refused.
 */
function transactionCommands(client: ClientBase): {
  begin: string;
  commit: string;
  rollback: string;
} {
  // node-postgres keeps the server's last transaction status ('I' idle, 'T' in one, 'E' failed).
  const status = (
    client as { getTransactionStatus?: () => string | null }
  ).getTransactionStatus?.();
  if (status === "E") throw failedTransaction();
  if (status === "T") {
    return {
      begin: "SAVEPOINT sheppy_migrate",
      commit: "RELEASE SAVEPOINT sheppy_migrate",
      rollback: "ROLLBACK TO SAVEPOINT sheppy_migrate",
    };
  }
  return { begin: "BEGIN", commit: "COMMIT", rollback: "ROLLBACK" };
}

/**
 * The client's status can lag the server's (node-postgres settles a failed
 * query before it reads the ready-for-query message that says "failed"), so
 * the savepoint's own refusal is mapped to the same error as the status check.
 */
function failedTransaction(): BackendError {
  return new BackendError(
    "migrate: the client's transaction has failed; roll it back before migrating",
  );
}

/**
 * Makes sure `schema` is at the version this code knows: one query when it
 * is, a {@link migrate} when it is missing or older, a `SchemaVersionError`
 * when it is newer. With `create` false, a schema holding no Sheppy tables
 * is a `BackendError` instead of being created. Returns the upgrade it
 * applied to a schema that held Sheppy's tables (`null`: none, or a new schema).
 */
export async function ensureSchema(
  db: Database,
  schema: string,
  create = true,
): Promise<{ readonly from: number; readonly to: number } | null> {
  let newest = 0;
  try {
    const { rows } = await db.query<{ newest: number | null }>(
      withSchema("SELECT max(version) AS newest FROM %SCHEMA%.migrations", schema),
    );
    newest = rows[0]?.newest ?? 0;
  } catch (error) {
    const code = sqlState(error);
    if (code !== UNDEFINED_TABLE && code !== UNDEFINED_SCHEMA)
      throw foreignTable(error, schema) ?? error;
  }
  const latest = knownMigrations().length;
  if (newest === latest) return null;
  if (newest > latest) {
    throw tooNew(await migrationStatus(db, schema));
  }
  if (newest === 0 && !create) {
    throw new BackendError(
      `PostgreSQL schema "${schema}" holds no Sheppy tables: nothing has used it yet, or its name is mistyped (?schema=); it was not created (run sheppy db migrate to create it, or start a worker without createSchema=false)`,
    );
  }
  if (!create) {
    // Migrated, the schema would be refused by the processes of the earlier Sheppy still using it.
    throw new SchemaVersionError(
      `PostgreSQL schema "${schema}" is at version ${newest}, older than this Sheppy (${latest}); this connection does not migrate it (a command that only looks, or createSchema false): run sheppy db migrate when the processes using it are upgraded, or use their sheppy`,
    );
  }
  const applied = await migrate(db, schema);
  // Another process may have migrated it meanwhile, under the lock: then this one applied nothing.
  return newest > 0 && applied.length > 0 ? { from: newest, to: Math.max(...applied) } : null;
}
