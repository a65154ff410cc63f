/**
 * A test file's own storage on each of Sheppy's backends — memory, a SQLite
 * file in a temporary directory, a Redis key prefix and a PostgreSQL schema
 * named after the file — for tests that check one behaviour on all of them.
 * A service that does not answer is marked unavailable (under CI=true,
 * `requireService` fails instead).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Backend,
  MemoryBackend,
  type MemoryBackendOptions,
  PostgresBackend,
  RedisBackend,
} from "sheppy";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { dropSchema, POSTGRES_URL, schemaFor } from "./postgres.js";
import { deleteRedisPrefix, REDIS_URL } from "./redis.js";
import { requireService } from "./services.js";

/** A backend's name, whether its service answers, and a maker of a fresh backend on the file's storage. */
export type BackendChoice = [name: string, available: boolean, make: () => Backend];

export interface EachBackend {
  readonly backends: BackendChoice[];
  /** Removes the file's storage from every backend (call in `afterAll`). */
  cleanUp(): Promise<void>;
}

/** Each backend on storage of `key` (a `fileKey`); `memory` options for the memory backend. */
export async function eachBackend(
  key: string,
  memory: MemoryBackendOptions = {},
): Promise<EachBackend> {
  const dir = mkdtempSync(join(tmpdir(), `sheppy-${key}-`));
  const redis = await requireService("Redis", REDIS_URL);
  const postgres = await requireService("PostgreSQL", POSTGRES_URL);
  return {
    backends: [
      ["memory", true, () => new MemoryBackend(memory)],
      ["sqlite", true, () => new SqliteBackend({ path: join(dir, "tasks.db") })],
      ["redis", redis, () => new RedisBackend({ url: REDIS_URL, prefix: key })],
      [
        "postgres",
        postgres,
        () => new PostgresBackend({ url: POSTGRES_URL, schema: schemaFor(key) }),
      ],
    ],
    async cleanUp() {
      rmSync(dir, { recursive: true, force: true });
      if (redis) await deleteRedisPrefix(key);
      if (postgres) await dropSchema(schemaFor(key));
    },
  };
}
