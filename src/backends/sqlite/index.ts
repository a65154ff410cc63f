/**
 * @module backends/sqlite
 * `sheppy/backends/sqlite`: the SQLite backend (needs the `better-sqlite3`
 * package, version 12, loaded only when a backend connects). Loading this
 * module registers the `sqlite://` URL scheme: `sqlite:///absolute/path.db`,
 * `sqlite://relative/path.db`, `sqlite://:memory:`; `?synchronous=`,
 * `?busyTimeout=` and `?maxPayloadBytes=`.
 */
import { clockOption, registerRawBackendScheme } from "../registry.js";
import { SqliteBackend } from "./sqlite-backend.js";

export type { Synchronous } from "./database.js";
export {
  DEFAULT_BUSY_TIMEOUT,
  SqliteBackend,
  type SqliteBackendOptions,
} from "./sqlite-backend.js";

// A sqlite:// URL names a file path, not a host: the backend parses it (see ./sqlite-url.ts).
registerRawBackendScheme(
  "sqlite:",
  (raw, settings) =>
    new SqliteBackend({
      url: raw,
      ...clockOption(settings),
      ...(settings.mustExist ? { create: false } : {}),
    }),
);
