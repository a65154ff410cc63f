/**
 * @module backends/postgres/worker-access
 * Whether the connected role may do a worker's work in the schema. A role
 * that may read but not write (a read-only role meant for a dashboard,
 * given to a worker by mistake) would otherwise start, then have every
 * claim, promotion and sweep refused and retried for ever while the
 * process looks healthy to its supervisor.
 */
import { BackendError } from "../../errors.js";
import { knownMigrations } from "./migrations.js";
import type { PgSession } from "./session.js";

/** Privileges a worker uses on each table (the migrations record it only reads). */
const TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE"] as const;

interface Missing {
  readonly kind: "table" | "sequence" | "function";
  readonly name: string;
  readonly lacks: string;
}

/**
 * `$1` the schema; `$2`, `$3`, `$4` the names of Sheppy's tables, sequences
 * and functions (`sheppyObjects`). Only those: an application may keep
 * tables of its own in the schema, which a worker never touches. A sequence
 * a Sheppy table's identity or `bigserial` column owns counts as Sheppy's.
 */
const CHECK = `
  SELECT current_user AS role, m.* FROM (
  SELECT 'table' AS kind, c.relname AS name,
         concat_ws(', ',
           CASE WHEN NOT has_table_privilege(c.oid, 'SELECT') THEN 'SELECT' END,
           CASE WHEN NOT has_table_privilege(c.oid, 'INSERT') THEN 'INSERT' END,
           CASE WHEN NOT has_table_privilege(c.oid, 'UPDATE') THEN 'UPDATE' END,
           CASE WHEN NOT has_table_privilege(c.oid, 'DELETE') THEN 'DELETE' END) AS lacks
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname = ANY($2::text[])
     AND NOT (has_table_privilege(c.oid, 'SELECT') AND has_table_privilege(c.oid, 'INSERT')
              AND has_table_privilege(c.oid, 'UPDATE') AND has_table_privilege(c.oid, 'DELETE'))
  UNION ALL
  SELECT 'sequence', c.relname, 'USAGE'
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = $1
     AND (c.relname = ANY($3::text[]) OR EXISTS (
           SELECT 1 FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')
              AND t.relnamespace = n.oid AND t.relname = ANY($2::text[])))
     -- In a CASE: the planner may test a row before its kind, and the function refuses other relations.
     AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege(c.oid, 'USAGE') ELSE false END
  UNION ALL
  SELECT 'function', p.proname, 'EXECUTE'
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = $1 AND p.proname = ANY($4::text[]) AND NOT has_function_privilege(p.oid, 'EXECUTE')
  ) m ORDER BY CASE kind WHEN 'table' THEN 0 WHEN 'sequence' THEN 1 ELSE 2 END, name`;

const CREATED =
  /CREATE\s+(?:OR\s+REPLACE\s+)?(?:UNLOGGED\s+)?(TABLE|SEQUENCE|FUNCTION)\s+(?:IF\s+NOT\s+EXISTS\s+)?%SCHEMA%\.(\w+)/gi;

let objects: { tables: string[]; sequences: string[]; functions: string[] } | undefined;

/**
 * The tables (but the migrations' own record, which workers only read),
 * sequences and functions Sheppy's migrations create, read from the
 * migrations themselves, so the check follows them as they grow.
 */
export function sheppyObjects(): { tables: string[]; sequences: string[]; functions: string[] } {
  if (objects) return objects;
  const found = {
    TABLE: new Set<string>(),
    SEQUENCE: new Set<string>(),
    FUNCTION: new Set<string>(),
  };
  for (const { sql } of knownMigrations()) {
    for (const [, kind, name] of sql.matchAll(CREATED)) {
      found[kind!.toUpperCase() as keyof typeof found].add(name!.toLowerCase());
    }
  }
  found.TABLE.delete("migrations");
  objects = {
    tables: [...found.TABLE],
    sequences: [...found.SEQUENCE],
    functions: [...found.FUNCTION],
  };
  return objects;
}

/** `missing` as a message names it: per kind and lacking privileges, the first few names. */
function listed(missing: readonly Missing[]): string {
  const groups = new Map<string, string[]>();
  for (const { kind, name, lacks } of missing) {
    const key = `${lacks} on ${kind}s`;
    groups.set(key, [...(groups.get(key) ?? []), name]);
  }
  return [...groups]
    .map(
      ([what, names]) =>
        `${what} ${names.slice(0, 3).join(", ")}${names.length > 3 ? ` and ${names.length - 3} more` : ""}`,
    )
    .join("; ");
}

/**
 * Refuses, with a `BackendError` saying what the role lacks and how to grant
 * it, a role that may not write to every Sheppy table of the schema, use its
 * sequences or run its functions.
 */
export async function checkWorkerAccess(session: PgSession): Promise<void> {
  const sql = session.sql(CHECK);
  // A replica (or a role or URL that sets default_transaction_read_only) reads but refuses
  // every claim, promotion and sweep: said once at the start, not retried for ever.
  const [readOnly] = await session.query<{ on: boolean }>(
    "check worker access",
    session.sql("SELECT current_setting('transaction_read_only') = 'on' AS on"),
  );
  if (readOnly?.on) {
    throw new BackendError(
      `PostgreSQL at ${session.maskedUrl} takes no writes here (a read-only replica, or default_transaction_read_only set for this role or in the URL): a worker claims and stores tasks; point it at the primary`,
    );
  }
  const { tables, sequences, functions } = sheppyObjects();
  const rows = await session.query<Missing & { role: string }>("check worker access", sql, [
    session.schema,
    tables,
    sequences,
    functions,
  ]);
  if (rows.length === 0) return;
  const schema = `"${session.schema}"`;
  const role = `"${rows[0]!.role}"`;
  throw new BackendError(
    `PostgreSQL role ${role} may not do a worker's work in schema ${schema}: it lacks ${listed(rows)}; grant them to the workers' role, e.g. GRANT ${TABLE_PRIVILEGES.join(", ")} ON ALL TABLES IN SCHEMA ${schema} TO ${role}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}; GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO ${role} (see the PostgreSQL backend's docs on roles)`,
  );
}
