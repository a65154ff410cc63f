/**
 * The contract suite on a Redis Cluster of 3 masters and 3 replicas: the one
 * `.ci/run` starts (SHEPPY_TEST_REDIS_CLUSTER_URL), else a private one this
 * file starts and stops. This file's keys carry their own prefix.
 */
import { runBackendContract } from "sheppy/backend/contract";
import { RedisBackend } from "sheppy/backends/redis";
import { afterAll } from "vitest";
import { fileKey } from "../support/isolation.js";
import { PrivateRedisCluster, redisServerInstalled } from "../support/private-redis-cluster.js";
import { deleteClusterPrefix } from "../support/redis.js";
import { missingService } from "../support/services.js";

const prefix = fileKey(import.meta.url);
// Set but empty counts as not set: an empty URL would fall back to the plain Redis on 6379.
const shared = process.env.SHEPPY_TEST_REDIS_CLUSTER_URL || undefined;
const cluster = shared || !redisServerInstalled() ? undefined : await PrivateRedisCluster.start();
const url = shared ?? cluster?.url;
const available =
  url !== undefined ||
  missingService(
    "Redis Cluster",
    "SHEPPY_TEST_REDIS_CLUSTER_URL is not set and redis-server is not installed",
  );

runBackendContract(
  "redis-cluster",
  // Redis runs no task inline: the instantProcessing request is not an option of its own.
  ({ instantProcessing: _inline, ...options }) =>
    new RedisBackend({ ...(url ? { url } : {}), prefix, ...options }),
  available ? {} : { skip: "no Redis Cluster to run on" },
);

afterAll(async () => {
  if (shared) await deleteClusterPrefix(prefix, shared);
  cluster?.destroy();
});
