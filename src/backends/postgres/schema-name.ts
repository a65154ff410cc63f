/**
 * @module backends/postgres/schema-name
 * The schema a backend keeps its tables in: checked once (lower-case letters,
 * digits and `_`, at most 63 bytes — a name that never needs quoting rules
 * beyond the quotes, and that PostgreSQL does not truncate), then quoted
 * into SQL text where the statements and migrations say `%SCHEMA%`. The
 * advisory lock key and notification channels are derived from it, so
 * backends on different schemas never wait for or wake each other.
 */
import { createHash } from "node:crypto";
import { InvalidOptionError } from "../../errors.js";

export const DEFAULT_SCHEMA = "sheppy";

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws `InvalidOptionError` (one line) unless `schema` is a schema name Sheppy accepts. */
export function checkSchemaName(schema: unknown, where = "PostgresBackend option schema"): string {
  if (typeof schema !== "string" || !SCHEMA.test(schema)) {
    const shown = typeof schema === "string" ? JSON.stringify(schema.slice(0, 80)) : typeof schema;
    throw new InvalidOptionError(
      `${where} must be 1–63 lower-case letters, digits or '_', not starting with a digit (got ${shown})`,
    );
  }
  // PostgreSQL's own schemas: Sheppy's tables would land among the system catalogs.
  if (schema === "information_schema" || schema.startsWith("pg_")) {
    throw new InvalidOptionError(
      `${where} must not be a schema of PostgreSQL's own (information_schema, pg_…) (got "${schema}")`,
    );
  }
  return schema;
}

/** `text` with every `%SCHEMA%` replaced by the quoted schema name. */
export function withSchema(text: string, schema: string): string {
  return text.replaceAll("%SCHEMA%", `"${schema}"`);
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** The key of the advisory lock migrations of `schema` hold (a signed 64-bit integer, as text). */
export function migrationLockKey(schema: string): string {
  return digest(`sheppy-migrate:${schema}`).readBigInt64BE(0).toString();
}

/** The LISTEN/NOTIFY channels of `schema`: work became claimable, tasks or workflows finished, events appended. */
export interface Channels {
  readonly work: string;
  readonly finished: string;
  readonly events: string;
}

/** Channel names fit PostgreSQL's 63-byte identifiers: a readable head and a hash of the whole name. */
export function channelsOf(schema: string): Channels {
  const base = `${schema.slice(0, 32)}_${digest(schema).toString("hex").slice(0, 10)}`;
  return { work: `${base}_work`, finished: `${base}_finished`, events: `${base}_events` };
}
