/** Redis for tests: the shared server's URL and cleanup of one test file's keys. */
import { Cluster, Redis } from "ioredis";
import { parseClusterUrl } from "../../src/backends/redis/cluster-url.js";

export const REDIS_URL = process.env.SHEPPY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

/** Deletes every key a backend with this prefix could have written. */
export async function deleteRedisPrefix(prefix: string, url = REDIS_URL): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    for (const pattern of [`{${prefix}:*`, `${prefix}:*`]) {
      let cursor = "0";
      do {
        const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== "0");
    }
  } finally {
    client.disconnect();
  }
}

/** Deletes every key of `prefix` on every master of the cluster `url` names (a `redis+cluster://` URL). */
export async function deleteClusterPrefix(prefix: string, url: string): Promise<void> {
  const cluster = new Cluster(
    parseClusterUrl(url).nodes.map(({ host, port }) => ({ host, port })),
    { lazyConnect: true },
  );
  try {
    await cluster.connect();
    for (const node of cluster.nodes("master")) {
      for (const pattern of [`{${prefix}:*`, `${prefix}:*`]) {
        let cursor = "0";
        do {
          const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
          for (const key of keys) await node.del(key);
          cursor = next;
        } while (cursor !== "0");
      }
    }
  } finally {
    cluster.disconnect();
  }
}
