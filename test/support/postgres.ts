/** PostgreSQL for tests: the shared server's URL, a schema name per test file, and dropping it. */
import pg from "pg";

/**
 * The shared server's URL, with `?poolSize=3` unless it names one: three test files run at a time,
 * some with several backends or worker processes open, and all of them share the server's 100
 * connections (at the default pool of 10, a file could find none left).
 */
export const POSTGRES_URL = withSmallPool(
  process.env.SHEPPY_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test",
);

function withSmallPool(text: string): string {
  const url = new URL(text);
  if (!url.searchParams.has("poolSize")) url.searchParams.set("poolSize", "3");
  return url.toString();
}

/** A schema name for `key` (a test file's `fileKey`): lower-case letters, digits and `_`, at most 63. */
export function schemaFor(key: string): string {
  const name = `t_${key.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`;
  return name.slice(0, 63);
}

/** Drops `schema` and everything in it (tables, sequences, functions). */
export async function dropSchema(schema: string, url = POSTGRES_URL): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${client.escapeIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}
