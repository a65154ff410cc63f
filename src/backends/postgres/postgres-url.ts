/**
 * @module backends/postgres/postgres-url
 * Where a `PostgresBackend` connects, and Sheppy's own URL parameters:
 * `?schema=` (default `sheppy`), `?poolSize=` (default 10),
 * `?maxPayloadBytes=`, `?pollInterval=` (seconds, default 2),
 * `?eventCap=` (0 turns the event log off), `?preparedStatements=` (true or
 * false) and `?listenUrl=` (a percent-encoded `postgres://` URL) are taken
 * out of a `postgres://` or `postgresql://`
 * URL before the rest goes to node-postgres (which reads `sslmode`,
 * `application_name` and the like from it); one of them written in another
 * case (`?Schema=`), or any parameter given twice, is a `BackendUrlError`.
 * Without a `url` option the backend uses `SHEPPY_BACKEND_URL` as
 * `new Queue()` does, when that names PostgreSQL; naming another backend is
 * a `BackendUrlError`; unset, `postgres://127.0.0.1:5432/postgres`.
 */
import { BackendUrlError } from "../../errors.js";
import { maskUrl } from "../../util/mask-url.js";
import { userInfoHint } from "../../util/url-userinfo.js";
import {
  eventCapParam,
  positiveIntegerParam,
  RETENTION_PARAMETERS,
  type RetentionParams,
  refuseMisspeltParams,
  refuseRepeatedParams,
  retentionParams,
} from "../registry.js";
import { checkSchemaName } from "./schema-name.js";

export const DEFAULT_POSTGRES_URL = "postgres://127.0.0.1:5432/postgres";

/** The URL for node-postgres and the Sheppy parameters it named. */
export interface PostgresTarget {
  readonly url: string;
  readonly schema?: string;
  readonly poolSize?: number;
  readonly maxPayloadBytes?: number;
  readonly pollInterval?: number;
  readonly eventCap?: number;
  readonly preparedStatements?: boolean;
  readonly listenUrl?: string;
  /** `?createSchema=false`: connect without creating or migrating the schema (migrations are a deploy step). */
  readonly createSchema?: boolean;
  /** Retention the URL sets (`?ttl=`, `?errorTtl=`, `?maxFinished=`, `?maxFailed=`). */
  readonly retention?: RetentionParams;
}

const SCHEME = /^postgres(ql)?:\/\//i;
/** Sheppy's own parameters, taken out of the URL; the rest go to node-postgres. */
const PARAMETERS = [
  ...["schema", "poolSize", "maxPayloadBytes", "pollInterval", "eventCap"],
  ...["preparedStatements", "listenUrl", "createSchema"],
  ...RETENTION_PARAMETERS,
];

/**
 * The parameters node-postgres reads from a URL, and libpq's others (which
 * node-postgres ignores, but which are rightly written): a name a little off
 * one of them is a misspelling (`?sslmod=require`), refused rather than
 * ignored.
 */
const DRIVER_PARAMETERS = [
  ...["host", "port", "user", "password", "db", "encoding", "options", "replication"],
  ...["ssl", "sslmode", "sslcert", "sslkey", "sslrootcert", "sslnegotiation", "uselibpqcompat"],
  ...["application_name", "fallback_application_name", "client_encoding"],
  ...["statement_timeout", "query_timeout", "lock_timeout", "idle_in_transaction_session_timeout"],
  ...["connectionTimeoutMillis", "keepAlive", "keepAliveInitialDelayMillis"],
  ...["hostaddr", "dbname", "service", "passfile", "connect_timeout", "channel_binding"],
  ...["keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count"],
  ...["tcp_user_timeout", "target_session_attrs", "load_balance_hosts", "gssencmode"],
  ...["sslcrl", "sslcrldir", "sslpassword", "sslcompression", "sslsni", "sslcertmode"],
  ...["ssl_min_protocol_version", "ssl_max_protocol_version", "requirepeer", "krbsrvname"],
];

/** The fallback poll's bounds in seconds, as the backend option has them. */
const POLL_SECONDS = { min: 0.05, max: 3600 };

/**
 * Takes Sheppy's parameters out of a parsed `postgres://` URL; the rest is for
 * node-postgres. `what` names the URL in errors.
 */
export function splitPostgresUrl(url: URL, what = "backend URL"): PostgresTarget {
  refuseMisspeltParams(url.searchParams.keys(), PARAMETERS, what, url.href, DRIVER_PARAMETERS);
  refuseRepeatedParams(url.searchParams.keys(), what, url.href);
  const schema = url.searchParams.get("schema");
  // Checked here, where it is still known to come from the URL (the backend sees only a schema).
  if (schema !== null) checkSchemaName(schema, `${what}'s ?schema= parameter`);
  const poolSize = positiveIntegerParam(url, "poolSize");
  const maxPayloadBytes = positiveIntegerParam(url, "maxPayloadBytes");
  const pollInterval = pollSecondsParam(url);
  const eventCap = eventCapParam(url);
  const preparedStatements = booleanParam(url, "preparedStatements");
  const listenUrl = listenUrlParam(url);
  const createSchema = booleanParam(url, "createSchema");
  const retention = retentionParams(url);
  for (const name of PARAMETERS) url.searchParams.delete(name);
  return {
    url: url.toString(),
    ...(schema === null ? {} : { schema }),
    ...(poolSize === undefined ? {} : { poolSize }),
    ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
    ...(pollInterval === undefined ? {} : { pollInterval }),
    ...(eventCap === undefined ? {} : { eventCap }),
    ...(preparedStatements === undefined ? {} : { preparedStatements }),
    ...(listenUrl === undefined ? {} : { listenUrl }),
    ...(createSchema === undefined ? {} : { createSchema }),
    ...(Object.keys(retention).length === 0 ? {} : { retention }),
  };
}

/** A parameter written `true` or `false`; absent: `undefined`. */
function booleanParam(url: URL, name: string): boolean | undefined {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  if (value === "true" || value === "false") return value === "true";
  throw new BackendUrlError(
    `backend URL parameter ${name} must be true or false (got '${maskUrl(value)}')`,
  );
}

/** `?listenUrl=`: where the notification listener connects, itself a `postgres://` URL; absent: `undefined`. */
function listenUrlParam(url: URL): string | undefined {
  const value = url.searchParams.get("listenUrl");
  if (value === null) return undefined;
  return checkListenUrl(
    value,
    "backend URL parameter listenUrl",
    "; percent-encode it there (encodeURIComponent)",
  );
}

/**
 * A URL for the notification listener: `postgres://` or `postgresql://`,
 * parseable, and without Sheppy's parameters (they belong to the backend's
 * own URL); `where` names it in errors, `hint` ends the first one.
 */
export function checkListenUrl(value: unknown, where: string, hint = ""): string {
  if (typeof value !== "string" || !SCHEME.test(value)) {
    throw new BackendUrlError(
      `${where} must be a postgres:// or postgresql:// URL (got ${typeof value === "string" ? `'${maskUrl(value)}'` : typeof value})${hint}`,
    );
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new BackendUrlError(
      `${where} '${maskUrl(value)}' cannot be parsed as a URL${userInfoHint(value)}`,
    );
  }
  const own = [...parsed.searchParams.keys()].find((name) => PARAMETERS.includes(name));
  if (own !== undefined) {
    throw new BackendUrlError(
      `${where} '${maskUrl(value)}' carries ?${own}=, which only the backend's own URL takes`,
    );
  }
  return value;
}

/** `?pollInterval=`: seconds written as a plain decimal, within the option's bounds; absent: `undefined`. */
function pollSecondsParam(url: URL): number | undefined {
  const value = url.searchParams.get("pollInterval");
  if (value === null) return undefined;
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= POLL_SECONDS.min && seconds <= POLL_SECONDS.max)) {
    throw new BackendUrlError(
      `backend URL parameter pollInterval must be a number of seconds from ${POLL_SECONDS.min} to ${POLL_SECONDS.max}, such as 2 or 0.5 (got '${value}')`,
    );
  }
  return seconds;
}

/** Parses a URL given as text (an option or the environment); `where` names it in errors. */
export function parsePostgresUrl(value: string, where: string): PostgresTarget {
  if (!SCHEME.test(value)) {
    throw new BackendUrlError(
      `${where} '${maskUrl(value)}' is not a postgres:// or postgresql:// URL`,
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BackendUrlError(
      `Invalid ${where} '${maskUrl(value)}': it cannot be parsed as a URL${userInfoHint(value)}`,
    );
  }
  return splitPostgresUrl(url, where);
}

/**
 * The target of a backend created without a `url` option: `SHEPPY_BACKEND_URL`
 * (`value`) when it names PostgreSQL, the default when it is unset or empty,
 * and a `BackendUrlError` when it names another backend.
 */
export function postgresTargetFromEnvironment(
  value: string | undefined = process.env.SHEPPY_BACKEND_URL,
): PostgresTarget {
  if (value === undefined || value === "") return { url: DEFAULT_POSTGRES_URL };
  if (!SCHEME.test(value)) {
    throw new BackendUrlError(
      `new PostgresBackend() without a url option reads SHEPPY_BACKEND_URL, which names another backend ('${maskUrl(value)}'): pass { url: "postgres://…" } or set SHEPPY_BACKEND_URL to a postgres:// URL`,
    );
  }
  return parsePostgresUrl(value, "SHEPPY_BACKEND_URL");
}

/** The password in a connection URL (decoded), to keep it out of messages. */
export function passwordOf(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password === "" ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}
