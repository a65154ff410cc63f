/**
 * @module backends/redis/connect-warnings
 * What a connect can tell of a setting that will fail later, and says once,
 * as a warning, rather than leave the first failed call to tell:
 * - with `waitReplicas: n`, every write waits for `n` replicas to confirm it,
 *   and fails as "not confirmed" when fewer are connected — though the master
 *   applied it; a setting no master meets (3 replicas asked of a master with
 *   one, or any of a server with none) fails every add, claim and settle;
 * - a `redis://` URL naming a node of a Redis Cluster works for the queues
 *   whose slots that node serves, until a failover or a resharding moves
 *   them: only a `redis+cluster://` URL follows the cluster.
 */
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "../../observability/logger.js";
import type { RedisClient } from "./connections.js";

/** The replicas a master reports connected (`INFO replication`), or `null` when it does not say. */
export function connectedReplicas(info: string): number | null {
  const match = /^connected_slaves:(\d+)\r?$/m.exec(info);
  return match ? Number(match[1]) : null;
}

function isCluster(client: RedisClient): client is Cluster {
  return typeof (client as Cluster).nodes === "function";
}

/**
 * Logs a warning for each master of `client` with fewer than `wanted`
 * replicas connected. Never throws: a master that does not answer is the
 * calls' to report.
 */
export async function warnOfFewReplicas(
  client: RedisClient,
  wanted: number,
  logger: Logger,
): Promise<void> {
  if (wanted <= 0) return;
  const masters: Redis[] = isCluster(client) ? client.nodes("master") : [client];
  await Promise.all(
    masters.map(async (master) => {
      let info: string;
      try {
        info = await master.info("replication");
      } catch {
        return;
      }
      const replicas = connectedReplicas(info);
      if (replicas === null || replicas >= wanted) return;
      const at = `${master.options.host ?? "localhost"}:${master.options.port ?? 6379}`;
      logger.warn(
        { master: at, replicas, waitReplicas: wanted },
        `waitReplicas is ${wanted}, but the Redis master at ${at} has ${replicas} replica${replicas === 1 ? "" : "s"} connected: every write there (add, claim, settle) will fail as not confirmed — though applied — until ${wanted} are`,
      );
    }),
  );
}

/** Whether `INFO cluster` says the server runs in cluster mode. */
export function clusterEnabled(info: string): boolean {
  return /^cluster_enabled:1\r?$/m.test(info);
}

/** Logs a warning when the single server `client` is connected to is a Redis Cluster node. Never throws. */
export async function warnOfClusterNode(client: Redis, url: string, logger: Logger): Promise<void> {
  let info: string;
  try {
    info = await client.info("cluster");
  } catch {
    return;
  }
  if (!clusterEnabled(info)) return;
  logger.warn(
    { url },
    `the Redis server at ${url} is a node of a Redis Cluster: a redis:// URL serves only the queues whose slots this node holds, until a failover or a resharding moves them; use redis+cluster://host:port,host:port so that every node is followed`,
  );
}
