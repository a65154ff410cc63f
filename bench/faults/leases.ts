/**
 * Watching leases from outside: the queue's processing set scores each
 * claim with its last renewal, in the server's milliseconds. After a pause
 * or an outage, the time until every score is newer than the fault's end is
 * the time the live workers needed to renew — the window in which a takeover
 * could have happened.
 */
import type { Redis } from "ioredis";

/** The server's clock, ms. */
export async function serverNow(client: Redis): Promise<number> {
  const [seconds, micros] = await client.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * Resolves with the ms (own clock) at which every claim in `processingKey`
 * had been renewed at or after `sinceServerMs`, or null when that did not
 * happen within `timeoutMs`. An empty set counts as renewed.
 */
export async function allRenewedAfter(
  client: Redis,
  processingKey: string,
  sinceServerMs: number,
  timeoutMs = 30_000,
): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const stale = await client
      .zcount(processingKey, "-inf", `(${sinceServerMs}`)
      .catch(() => Number.NaN);
    if (stale === 0) return Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return null;
}

/** The processing key of `queue` under `prefix` (see src/backends/redis/keys.ts). */
export function processingKey(prefix: string, queue: string): string {
  return `{${prefix}:${queue}}:processing`;
}
