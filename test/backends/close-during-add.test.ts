/**
 * `queue.close()` while an add the caller did not await is still under way
 * (the add started the backend's connect): the add ends first — stored —
 * and the close then disconnects, leaving no connection open behind it to
 * keep the process alive. A backend's `disconnect()` during its `connect()`
 * likewise waits for the connect and then closes it. On each of Sheppy's
 * backends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Backend, MemoryBackend, PostgresBackend, Queue, RedisBackend, task } from "sheppy";
import { SqliteBackend } from "sheppy/backends/sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { fileKey } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const key = fileKey(import.meta.url);
const dir = mkdtempSync(join(tmpdir(), "sheppy-close-during-add-"));
const redis = await requireService("Redis", REDIS_URL);
const postgres = await requireService("PostgreSQL", POSTGRES_URL);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (redis) await deleteRedisPrefix(key);
  if (postgres) await dropSchema(schemaFor(key));
});

const note = task({ name: "close-during-add.note" }, (n: number) => n);

const backends: [string, boolean, () => Backend][] = [
  ["memory", true, () => new MemoryBackend({ instantProcessing: false })],
  ["sqlite", true, () => new SqliteBackend({ path: join(dir, "tasks.db") })],
  ["redis", redis, () => new RedisBackend({ url: REDIS_URL, prefix: key })],
  ["postgres", postgres, () => new PostgresBackend({ url: POSTGRES_URL, schema: schemaFor(key) })],
];

describe.each(backends)("%s", (name, available, make) => {
  // Skipped only when its service is unreachable outside CI; under CI=true requireService fails instead.
  it.skipIf(!available)(
    "close() lets adds and schedules the caller did not await end first; they are stored",
    async () => {
      const backend = make();
      const queue = new Queue(backend, { name: `unawaited-${name}` });
      const added = note(1);
      const scheduled = note(2);
      const adding = queue.add(added);
      const scheduling = queue.schedule(scheduled, 3600);
      await queue.close();
      expect(backend.isConnected).toBe(false);
      expect(await adding).toBe(true);
      expect(await scheduling).toBe(true);
      await backend.connect();
      try {
        const stored = await backend.getTasks(queue.name, [added.id, scheduled.id]);
        expect([...stored.values()].map((r) => r.status).sort()).toEqual(["pending", "scheduled"]);
      } finally {
        await backend.disconnect();
      }
    },
  );

  it.skipIf(!available)(
    "disconnect() during connect() waits for it and leaves the backend disconnected",
    async () => {
      const backend = make();
      const connecting = backend.connect();
      await backend.disconnect();
      await connecting;
      expect(backend.isConnected).toBe(false);
    },
  );
});
