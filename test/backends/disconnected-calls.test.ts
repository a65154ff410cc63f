/**
 * A call to a backend after it was disconnected — a queue closed while one
 * of its waits was under way, say — says the backend was disconnected, not
 * to call connect() first, which it never needed; before any connect it
 * says to connect. On each of Sheppy's backends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Backend, BackendError, MemoryBackend, PostgresBackend, RedisBackend } from "sheppy";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const key = fileKey(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "sheppy-disconnected-"));
const redis = await requireService("Redis", REDIS_URL);
const postgres = await requireService("PostgreSQL", POSTGRES_URL);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (redis) await deleteRedisPrefix(key);
  if (postgres) await dropSchema(schemaFor(key));
});

const backends: [string, boolean, () => Backend][] = [
  ["memory", true, () => new MemoryBackend()],
  ["sqlite", true, () => new SqliteBackend({ path: join(dir, "tasks.db") })],
  ["redis", redis, () => new RedisBackend({ url: REDIS_URL, prefix: key })],
  ["postgres", postgres, () => new PostgresBackend({ url: POSTGRES_URL, schema: schemaFor(key) })],
];

describe.each(backends)("%s", (_name, available, make) => {
  // Skipped only when its service is unreachable outside CI; under CI=true requireService fails instead.
  it.skipIf(!available)(
    "before connect: connect first; after disconnect: it was disconnected",
    async () => {
      const backend = make();
      const before = await backend.getTasks("q", ["x"]).catch((e: Error) => e);
      expect(before).toBeInstanceOf(BackendError);
      expect((before as Error).message).toMatch(/is not connected: call connect\(\) first$/);
      await backend.connect();
      await backend.getTasks("q", ["x"]);
      await backend.disconnect();
      const after = await backend.getTasks("q", ["x"]).catch((e: Error) => e);
      expect(after).toBeInstanceOf(BackendError);
      expect((after as Error).message).toMatch(
        /was disconnected \(its queue or backend was closed\): connect\(\) again to use it$/,
      );
      await backend.connect();
      expect((await backend.getTasks("q", ["x"])).size).toBe(0);
      await backend.disconnect();
    },
  );
});
