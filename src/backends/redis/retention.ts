/**
 * @module backends/redis/retention
 * How finished records expire on Redis. A finished record carries its expiry
 * (field `x`) and sits in the queue's `expires` index; readers already treat
 * an expired record as gone, and `pruneExpired` deletes it for good, keeping
 * the `all` set, `done` hash and status counts exact.
 */
import type { TaskData } from "../../task/task-record.js";
import { expiryOf, type RetentionDefaults } from "../../task/ttl.js";
import type { RedisSession } from "./session.js";

/** Expired records deleted per script call (each call is one short atomic step). */
const PRUNE_BATCH = 1000;

/** A retention default as `cancel.lua` reads it: seconds, `null`, or `inherit`. */
export function retentionArg(value: number | null | undefined): string {
  return value === undefined ? "inherit" : String(value);
}

/** The `expires` argument of `store-result.lua` for a record stored finished at `now`: epoch ms, or `""` to keep it. */
export function expiresArg(task: TaskData, retention: RetentionDefaults, now: number): number | "" {
  const expires = expiryOf(task, retention, now);
  return expires === null ? "" : expires;
}

/** Deletes every record of `queue` whose expiry is due by `now`; returns how many. */
export async function pruneExpired(
  session: RedisSession,
  queue: string,
  now: number,
): Promise<number> {
  const k = session.keys(queue);
  let deleted = 0;
  for (;;) {
    const [count, seen] = (await session.script(
      "pruneExpired",
      [k.expires, k.all, k.done, k.counts],
      [k.task, now, PRUNE_BATCH],
    )) as [number, number];
    deleted += count;
    if (seen < PRUNE_BATCH) return deleted;
  }
}
