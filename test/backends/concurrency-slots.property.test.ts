/**
 * Concurrency keys on random operation sequences, on every backend: no key
 * ever has more tasks claimed than its limit, and once the queue is drained
 * no task is left held by a slot that leaked (see ../support/slot-model.ts).
 */
import fc from "fast-check";
import { afterAll, describe, it } from "vitest";
import type { Backend } from "../../src/backends/backend.js";
import { MemoryBackend } from "../../src/backends/memory/index.js";
import { PostgresBackend } from "../../src/backends/postgres/index.js";
import { RedisBackend } from "../../src/backends/redis/index.js";
import { SqliteBackend } from "../../src/backends/sqlite/index.js";
import { fileKey, uniqueName } from "../support/isolation.js";
import { dropSchema, POSTGRES_URL, schemaFor } from "../support/postgres.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";
import { slotOps, walkSlots } from "../support/slot-model.js";

const key = fileKey(import.meta.url);
const schema = schemaFor(key);
const redisUp = await requireService("Redis", REDIS_URL);
const postgresUp = await requireService("PostgreSQL", POSTGRES_URL);

const backends: { name: string; up: boolean; runs: number; make: () => Backend }[] = [
  { name: "memory", up: true, runs: 200, make: () => new MemoryBackend() },
  { name: "sqlite", up: true, runs: 60, make: () => new SqliteBackend({ path: ":memory:" }) },
  {
    name: "redis",
    up: redisUp,
    runs: 40,
    make: () => new RedisBackend({ url: REDIS_URL, prefix: key }),
  },
  {
    name: "postgres",
    up: postgresUp,
    runs: 25,
    make: () => new PostgresBackend({ url: POSTGRES_URL, schema }),
  },
];

afterAll(async () => {
  if (redisUp) await deleteRedisPrefix(key);
  if (postgresUp) await dropSchema(schema);
});

describe("concurrency keys on random operation sequences", () => {
  for (const target of backends) {
    it.skipIf(!target.up)(
      `${target.name}: limits hold at every step and no slot leaks`,
      async () => {
        const backend = target.make();
        await backend.connect();
        try {
          await fc.assert(
            fc.asyncProperty(slotOps, (ops) => walkSlots(backend, uniqueName("walk"), ops)),
            { numRuns: target.runs },
          );
        } finally {
          await backend.disconnect();
        }
      },
      120_000,
    );
  }
});
