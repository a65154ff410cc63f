/** Redis for tests: the shared server's URL and cleanup of one test file's keys. */
import { Redis } from "ioredis";

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
