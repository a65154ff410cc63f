/** The contract suite on Redis (the shared server; this file's keys carry their own prefix). */
import { runBackendContract } from "sheppy/backend/contract";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll } from "vitest";
import { fileKey } from "../support/isolation.js";
import { deleteRedisPrefix, REDIS_URL } from "../support/redis.js";
import { requireService } from "../support/services.js";

const prefix = fileKey(import.meta.url);
const available = await requireService("Redis", REDIS_URL);

runBackendContract(
  "redis",
  // Redis runs no task inline: the instantProcessing request is not an option of its own.
  ({ instantProcessing: _inline, ...options }) =>
    new RedisBackend({ url: REDIS_URL, prefix, ...options }),
  available ? {} : { skip: `Redis is not reachable at ${REDIS_URL}` },
);

afterAll(async () => {
  if (available) await deleteRedisPrefix(prefix);
});
