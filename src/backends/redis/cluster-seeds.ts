/**
 * @module backends/redis/cluster-seeds
 * Why no seed of a `redis+cluster://` URL would serve as a cluster node.
 * ioredis says only "None of startup nodes is available", whatever the
 * reason: a seed that refuses the connection and a plain Redis named by a
 * cluster URL read the same. Asked once, when the first connect fails that
 * way, each seed on a connection of its own tells which it is.
 */
import type { Redis, RedisOptions } from "ioredis";
import type { ClusterNode } from "./cluster-url.js";
import { explainSeedFailure } from "./connection-errors.js";

/** How long one seed gets to answer. */
const PROBE_MS = 2000;

/** What one seed is, in a few words; `undefined` for a seed that is a cluster node. */
async function seedTrouble(
  RedisClient: typeof Redis,
  node: ClusterNode,
  options: RedisOptions,
): Promise<string | undefined> {
  const client = new RedisClient({
    ...options,
    host: node.host,
    port: node.port,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: PROBE_MS,
    commandTimeout: PROBE_MS,
  });
  // connect() rejects with "Connection is closed."; the socket's own error says why.
  let socketError: unknown;
  client.on("error", (error: unknown) => {
    socketError = error;
  });
  const where = `${node.host}:${node.port}`;
  try {
    await client.connect();
    const info = String(await client.info("cluster"));
    return /cluster_enabled:1/.test(info)
      ? undefined
      : `${where} is not a cluster node (its cluster support is off; a redis:// URL reaches it)`;
  } catch (thrown) {
    // A refused AUTH is the command's own error; a socket's failure comes as an event.
    const error =
      thrown instanceof Error && thrown.name === "ReplyError" ? thrown : (socketError ?? thrown);
    if ((error as NodeJS.ErrnoException).code === "ECONNREFUSED")
      return `${where}: connection refused`;
    if (error instanceof Error)
      return `${where}: ${explainSeedFailure(error, Boolean(options.tls))}`;
    return `${where}: ${String(error)}`;
  } finally {
    client.disconnect();
  }
}

/**
 * Each seed that would not serve, and why, as one clause; `undefined` when
 * every seed is a cluster node (then the cluster client's own cause stands).
 */
export async function explainSeeds(
  RedisClient: typeof Redis,
  nodes: readonly ClusterNode[],
  options: RedisOptions,
): Promise<string | undefined> {
  const troubles = await Promise.all(nodes.map((node) => seedTrouble(RedisClient, node, options)));
  const found = troubles.filter((trouble): trouble is string => trouble !== undefined);
  return found.length > 0
    ? `no seed could be used as a cluster node: ${found.join("; ")}`
    : undefined;
}
