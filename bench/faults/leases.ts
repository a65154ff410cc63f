/**
 * Watching leases from outside: the queue's processing set scores each
 * claim with its last renewal, in the server's milliseconds. After a pause
 * or an outage, the moment the last running claim was renewed again is when
 * the live workers had their leases back — until then a takeover could have
 * happened. The server runs on this host, so its clock and ours are one.
 */
import type { Redis } from "ioredis";

/**
 * Resolves with the server time (epoch ms) of the last first-renewal at or
 * after `sinceMs` among the claims in `processingKey` — once none is older —
 * or null when that did not happen within `timeoutMs`. Polled every 10 ms,
 * keeping the first renewal seen per claim; an empty set counts as renewed.
 */
export async function lastRenewalAfter(
  client: Redis,
  processingKey: string,
  sinceMs: number,
  timeoutMs = 30_000,
): Promise<number | null> {
  const firstRenewal = new Map<string, number>();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const flat = await client.zrange(processingKey, 0, -1, "WITHSCORES").catch(() => null);
    if (flat) {
      let stale = 0;
      for (let i = 0; i < flat.length; i += 2) {
        const id = flat[i]!;
        const score = Number(flat[i + 1]);
        if (score < sinceMs) stale++;
        else if (!firstRenewal.has(id)) firstRenewal.set(id, score);
      }
      if (stale === 0) return Math.max(sinceMs, ...firstRenewal.values());
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return null;
}

/** The processing key of `queue` under `prefix` (see src/backends/redis/keys.ts). */
export function processingKey(prefix: string, queue: string): string {
  return `{${prefix}:${queue}}:processing`;
}
