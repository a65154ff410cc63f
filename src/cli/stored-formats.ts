/**
 * @module cli/stored-formats
 * What `sheppy --version` says beside the package version: the newest
 * stored form each backend of this build writes, so an operator can tell
 * two builds apart where it matters for the data they share (every 0.x
 * build says 0.1.0).
 */
import { MIGRATION_FILES as POSTGRES_MIGRATIONS } from "../backends/postgres/migration-files.embedded.js";
import { REDIS_DATA_FORMAT } from "../backends/redis/data-format.js";
import { KEYED_RECORD_VERSION } from "../backends/redis/record-codec.js";
import { MIGRATION_FILES as SQLITE_MIGRATIONS } from "../backends/sqlite/migration-files.embedded.js";

/** The highest version among migration files named `NNN_name.sql`. */
function newestMigration(files: Readonly<Record<string, string>>): number {
  return Math.max(...Object.keys(files).map((file) => Number.parseInt(file, 10) || 0));
}

/** E.g. "Redis data format 1, Redis task records v4; PostgreSQL schema 16; SQLite schema 11". */
export function storedFormats(): string {
  return [
    `Redis data format ${REDIS_DATA_FORMAT}, Redis task records v${KEYED_RECORD_VERSION}`,
    `PostgreSQL schema ${newestMigration(POSTGRES_MIGRATIONS)}`,
    `SQLite schema ${newestMigration(SQLITE_MIGRATIONS)}`,
  ].join("; ");
}
