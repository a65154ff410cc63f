/**
 * @module backends/postgres
 * `sheppy/backends/postgres`: the PostgreSQL backend (needs the `pg`
 * package, loaded only when a backend connects). Loading this module
 * registers the `postgres://` and `postgresql://` URL schemes; `?schema=`,
 * `?poolSize=`, `?maxPayloadBytes=`, `?pollInterval=`, `?eventCap=`,
 * `?preparedStatements=`, `?listenUrl=` and `?createSchema=` are Sheppy's, the rest of the URL
 * goes to node-postgres. `migrate` and `migrationStatus` manage the schema's
 * tables without a backend (for a `sheppy db` command or a deploy step).
 */
import type { Backend } from "../backend.js";
import { type BackendUrlSettings, clockOption, registerBackendScheme } from "../registry.js";
import { PostgresBackend } from "./postgres-backend.js";
import { splitPostgresUrl } from "./postgres-url.js";

export {
  type AppliedMigration,
  type Database,
  type Migration,
  type MigrationStatus,
  migrate,
  migrationStatus,
} from "./migrations.js";
export { PostgresBackend, type PostgresBackendOptions } from "./postgres-backend.js";

function postgresFromUrl(url: URL, _raw: string, settings: BackendUrlSettings): Backend {
  const { retention, ...target } = splitPostgresUrl(url);
  return new PostgresBackend({
    ...target,
    ...retention,
    ...clockOption(settings),
    ...(settings.mustExist ? { createSchema: false } : {}),
  });
}

registerBackendScheme("postgres:", postgresFromUrl);
registerBackendScheme("postgresql:", postgresFromUrl);
