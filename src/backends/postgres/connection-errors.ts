/**
 * @module backends/postgres/connection-errors
 * What a failed PostgreSQL call means, and how to say it in one line.
 *
 * A failure is one of:
 * - `unsent`: the statement surely did not take effect — no connection
 *   could be had, or the connection died inside a transaction before its
 *   COMMIT (the server rolls it back);
 * - `dropped`: the connection died while a statement or COMMIT was out, so
 *   whether it took effect is unknown;
 * - `rolledBack`: the server aborted the transaction (deadlock, serialization
 *   failure) — nothing took effect, running it again is always safe;
 * - `refused`: the server answered with an error (bad SQL, a constraint…).
 *
 * A pooler such as PgBouncer answers with SQLSTATE 08P01 when it cannot
 * give the client a server connection (the server restarting, every server
 * connection busy for too long): an outage, not a refusal, and one whose
 * statement never reached the server when the message says so.
 *
 * Messages never carry a password: node-postgres does not put one in its
 * errors, and {@link scrubber} removes it anyway from whatever text is shown.
 */

export type Failure = "unsent" | "dropped" | "rolledBack" | "refused";

/** SQLSTATEs after which the server has rolled the transaction back. */
const ROLLED_BACK = new Set(["40001", "40P01"]);
/** SQLSTATEs that mean the connection (or the server) is going away. */
const GOING_AWAY = new Set([
  "57P01",
  "57P02",
  "57P03",
  "53300",
  "08000",
  "08003",
  "08006",
  "08001",
  "08004",
]);
/** Node socket errors. */
const SOCKET = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENOTCONN",
]);
/** The SQLSTATE a pooler (PgBouncer) answers its own failures with. */
const POOLER_FAILURE = "08P01";
/** PgBouncer's words for a statement it never sent to a server. */
const POOLER_NOT_SENT =
  /server_login_retry|query_wait_timeout|server_connect_timeout|cannot connect to server|no more connections allowed|server login has been failing/i;

/** node-postgres's own words for a connection that failed or is gone. */
const CONNECTION_GONE =
  /Connection terminated|not queryable|timeout exceeded when trying to connect|Query read timeout|connection timeout|Connection closed/i;

/** The SQLSTATE or Node error code of `error`, if any. */
export function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** Whether `error` says the connection (or the server) is unusable, rather than that a statement failed. */
export function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = codeOf(error);
  if (code !== undefined && (SOCKET.has(code) || GOING_AWAY.has(code))) return true;
  if (code === POOLER_FAILURE) return true;
  // AggregateError of every address tried (localhost as ::1 and 127.0.0.1).
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner) && inner.some(isConnectionFailure)) return true;
  return CONNECTION_GONE.test(error.message);
}

/** Whether a pooler in front of the server says it never sent the statement on (safe to run again). */
export function isNotSentByPooler(error: unknown): boolean {
  return (
    error instanceof Error &&
    codeOf(error) === POOLER_FAILURE &&
    POOLER_NOT_SENT.test(error.message)
  );
}

/** Whether the server rolled the transaction back on its own (safe to run again). */
export function isRolledBack(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && ROLLED_BACK.has(code);
}

/** Whether retrying cannot help the first connection (a refused password, a missing database, TLS). */
export function isPermanentConnectFailure(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined && (code.startsWith("28") || code === "3D000")) return true;
  if (!(error instanceof Error)) return false;
  return /SSL|TLS|certificate|SASL|password/i.test(error.message);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().replace(/\.$/, "");
}

/** The one-line cause of a failed first connection, with a hint where there is one. */
export function explainConnectFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = codeOf(error);
  const inner = (error as { errors?: unknown }).errors;
  const raw = oneLine(
    error.message || (Array.isArray(inner) && inner[0] instanceof Error ? inner[0].message : ""),
  );
  switch (code) {
    case "ECONNREFUSED":
      return `connection refused (${raw})`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `unknown host (${raw})`;
    case "ETIMEDOUT":
      return `no answer (${raw})`;
    case "28P01":
      return `authentication failed (${raw})`;
    case "28000":
      return `the server refused this user (${raw})`;
    case "3D000":
      return `the database does not exist (${raw})`;
    case "53300":
      return `the server has no free connection (${raw})`;
    case "57P03":
      return `the server is starting up or shutting down (${raw})`;
    case "42501":
      return `${raw} (SQLSTATE 42501)`;
  }
  if (/client password must be a string/i.test(raw)) {
    return "the server requires a password and the URL gives none";
  }
  if (/does not support SSL/i.test(raw)) {
    return "the server does not speak TLS (remove sslmode or ssl from the URL)";
  }
  return raw || "unknown failure";
}

/** A function that hides `secret` (a password) in any text, for messages and logs. */
export function scrubber(secret: string | undefined): (text: string) => string {
  if (!secret || secret.length < 3) return (text) => text;
  const forms = [...new Set([secret, encodeURIComponent(secret)])];
  return (text) => forms.reduce((out, form) => out.replaceAll(form, "****"), text);
}

/** `error` for a log record: message and code, scrubbed, without the driver's internals. */
export function loggableError(
  error: unknown,
  scrub: (text: string) => string,
): { message: string; code?: string } {
  const message = scrub(error instanceof Error ? oneLine(error.message) : String(error));
  const code = codeOf(error);
  return code === undefined ? { message } : { message, code };
}

/** The first line of a server error, scrubbed, for a `BackendError` message. */
export function describeRefusal(error: unknown, scrub: (text: string) => string): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = codeOf(error);
  const hint = code === undefined ? undefined : REFUSAL_HINTS[code];
  return scrub(
    `${oneLine(message.split("\n")[0] ?? "")}${code ? ` (SQLSTATE ${code})` : ""}${hint ? `: ${hint}` : ""}`,
  );
}

/** What to change, for the refusals a setup (not a call) causes. */
const REFUSAL_HINTS: Readonly<Record<string, string>> = {
  "25006":
    "this server or role takes no writes (a read-only replica, or default_transaction_read_only set for the role or in the URL's options); point whatever adds or changes tasks at the primary",
  "42501":
    "the role lacks a right on Sheppy's schema; an application that adds tasks needs what a worker needs: SELECT, INSERT, UPDATE, DELETE on its tables, USAGE on its sequences, EXECUTE on its functions (see the PostgreSQL backend's docs on roles)",
};
