/**
 * @module backends/postgres/app-client
 * Checks of the connection objects an application hands the backend: the
 * transaction `add` runs within (`{ tx }`) and the pool or client `migrate`
 * works on. These are often wrappers written for Sheppy around a query
 * builder's transaction, so a wrong shape is named as the caller's mistake
 * — before it surfaces as a `TypeError` deep inside, or as a refusal that
 * PostgreSQL never made.
 */
import { InvalidOptionError } from "../../errors.js";
import { readOr } from "../../task/describe-value.js";

/**
 * What a value is, for the "(got …)" of a message: its kind and, for an
 * object, its first keys — never its content, which may be rows of data or,
 * for a string, a URL with its password.
 */
export function describeKind(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value !== "object") return `a ${typeof value}`;
  const keys = readOr(() => Object.keys(value), []);
  if (keys.length === 0) return "an object without keys";
  const shown = keys.slice(0, 5).join(", ");
  return `an object with ${shown}${keys.length > 5 ? ", …" : ""}`;
}

/**
 * Refuses a first argument of `migrate` or `migrationStatus` that cannot run
 * SQL, with one line starting with `where`.
 */
export function checkDatabase(db: unknown, where: string): void {
  if (typeof (db as { query?: unknown } | null)?.query !== "function") {
    throw new InvalidOptionError(
      `${where}: the first argument must be a pg Pool or a connected client, with query(text, values) (got ${describeKind(db)})`,
    );
  }
}

/**
 * The rows of what `query(text, values)` resolved to; anything without a list
 * of `rows` (a wrapper that returns nothing, or the rows alone) is refused
 * with one line saying what it was, `what` naming the query (`tx.query`).
 */
export function rowsOf(result: unknown, where: string, what: string): unknown[] {
  const rows = readOr(() => (result as { rows?: unknown } | null)?.rows, undefined);
  if (Array.isArray(rows)) return rows;
  const got = Array.isArray(result)
    ? "an array (the rows alone? resolve to { rows } instead)"
    : typeof result === "object" && result !== null && readOr(() => "rows" in result, false)
      ? `an object whose rows is ${describeKind(rows)}`
      : describeKind(result);
  throw new InvalidOptionError(
    `${where}: ${what}(text, values) must resolve to a result with rows, as node-postgres's query does (got ${got})`,
  );
}
