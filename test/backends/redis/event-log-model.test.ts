/**
 * The Redis event log against a plain list: random appends under changing
 * caps, and clears, read back as the events a reader must see (the property
 * in ../../support/event-log-model.ts), positions compared as stream ids.
 */
import fc from "fast-check";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll, describe, it } from "vitest";
import { logMatchesModel, STREAM_IDS } from "../../support/event-log-model.js";
import { fileKey } from "../../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../../support/redis.js";
import { requireService } from "../../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);
const backends = new Map<number, RedisBackend>();

/** One backend per cap, all under the file's prefix: each appends under its own cap. */
async function withCap(cap: number): Promise<RedisBackend> {
  let backend = backends.get(cap);
  if (!backend) {
    backend = new RedisBackend({ url: REDIS_URL, prefix, eventCap: cap });
    await backend.connect();
    backends.set(cap, backend);
  }
  return backend;
}

afterAll(async () => {
  for (const backend of backends.values()) await backend.disconnect();
  if (available) await deleteRedisPrefix(prefix);
});

let run = 0;

// Skipped only when Redis is unreachable outside CI; under CI=true requireService fails instead.
describe.skipIf(!available)("redis: the event log against a plain list", () => {
  it("random appends under changing caps, and clears, read back as the newest `cap` events of a plain list", async () => {
    await fc.assert(
      logMatchesModel(withCap, () => `q${++run}`, STREAM_IDS),
      { numRuns: 60 },
    );
  });
});
