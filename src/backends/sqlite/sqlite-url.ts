/**
 * @module backends/sqlite/sqlite-url
 * Where a `SqliteBackend` keeps its data, and its URL parameters.
 * `sqlite:///absolute/path.db` (three slashes: an absolute path),
 * `sqlite://relative/path.db` (relative to the working directory) and
 * `sqlite://:memory:` (a private in-memory database, for tests);
 * `?synchronous=normal|full`, `?busyTimeout=` (ms), `?maxPayloadBytes=` and
 * `?eventCap=` (0 turns the event log off).
 * Without a path option the backend uses `SHEPPY_BACKEND_URL` as
 * `new Queue()` does, when that names SQLite.
 */
import { BackendUrlError } from "../../errors.js";
import {
  eventCapParam,
  positiveIntegerParam,
  RETENTION_PARAMETERS,
  type RetentionParams,
  refuseMisspeltParams,
  refuseRepeatedParams,
  retentionParams,
} from "../registry.js";
import type { Synchronous } from "./database.js";

/** The file and the settings a `sqlite://` URL names. */
export interface SqliteTarget {
  readonly path: string;
  readonly synchronous?: Synchronous;
  readonly busyTimeout?: number;
  readonly maxPayloadBytes?: number;
  readonly eventCap?: number;
  /** Retention the URL sets (`?ttl=`, `?errorTtl=`, `?maxFinished=`, `?maxFailed=`). */
  readonly retention?: RetentionParams;
}

const SCHEME = /^sqlite:\/\//i;
const PARAMETERS = new Set([
  ...["synchronous", "busyTimeout", "maxPayloadBytes", "eventCap"],
  ...RETENTION_PARAMETERS,
]);

/** Parses a `sqlite://` URL given as text; `where` names it in errors. */
export function parseSqliteUrl(value: string, where: string): SqliteTarget {
  if (!SCHEME.test(value)) {
    throw new BackendUrlError(`${where} '${value}' is not a sqlite:// URL`);
  }
  const rest = value.slice("sqlite://".length);
  if (rest.includes("#")) {
    throw new BackendUrlError(
      `${where} '${value}': a sqlite:// URL has no #fragment (write a '#' in a file name as %23)`,
    );
  }
  const mark = rest.indexOf("?");
  const rawPath = mark === -1 ? rest : rest.slice(0, mark);
  const query = new URLSearchParams(mark === -1 ? "" : rest.slice(mark + 1));
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw new BackendUrlError(`${where} '${value}': the path is not valid percent-encoding`);
  }
  if (path.includes("\0")) {
    throw new BackendUrlError(
      `${where} '${value}': the path holds a NUL character (%00), which no file name can`,
    );
  }
  if (path === "") {
    throw new BackendUrlError(
      `${where} '${value}' names no file: write sqlite:///absolute/path.db, sqlite://relative/path.db or sqlite://:memory:`,
    );
  }
  refuseMisspeltParams(query.keys(), [...PARAMETERS], where, value);
  refuseRepeatedParams(query.keys(), where, value);
  for (const name of query.keys()) {
    if (!PARAMETERS.has(name)) {
      throw new BackendUrlError(
        `${where} '${value}': unknown parameter '${name}' (known: ${[...PARAMETERS].join(", ")})`,
      );
    }
  }
  const url = new URL(`sqlite://x/?${query.toString()}`);
  // SQLite itself takes the level in either case.
  const synchronous = query.get("synchronous")?.toLowerCase() ?? null;
  if (synchronous !== null && synchronous !== "normal" && synchronous !== "full") {
    throw new BackendUrlError(
      `${where} '${value}': parameter synchronous must be normal or full (got '${synchronous}')`,
    );
  }
  const busyTimeout = positiveIntegerParam(url, "busyTimeout");
  const maxPayloadBytes = positiveIntegerParam(url, "maxPayloadBytes");
  const eventCap = eventCapParam(url);
  const retention = retentionParams(url);
  return {
    path,
    ...(synchronous === null ? {} : { synchronous }),
    ...(busyTimeout === undefined ? {} : { busyTimeout }),
    ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
    ...(eventCap === undefined ? {} : { eventCap }),
    ...(Object.keys(retention).length === 0 ? {} : { retention }),
  };
}

/**
 * The target of a backend created without a `path` option: `SHEPPY_BACKEND_URL`
 * (`value`) when it names SQLite; otherwise a `BackendUrlError` saying what to pass.
 */
export function sqliteTargetFromEnvironment(
  value: string | undefined = process.env.SHEPPY_BACKEND_URL,
): SqliteTarget {
  if (value === undefined || value === "" || !SCHEME.test(value)) {
    throw new BackendUrlError(
      `new SqliteBackend() needs a path: pass { path: "data/tasks.db" } (or set SHEPPY_BACKEND_URL to a sqlite:// URL)`,
    );
  }
  return parseSqliteUrl(value, "SHEPPY_BACKEND_URL");
}
