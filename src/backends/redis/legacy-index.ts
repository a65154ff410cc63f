/**
 * @module backends/redis/legacy-index
 * Versions before the creation index kept a queue's ids in a set
 * (`{p:q}:all`). On connect, every queue the registry names whose set still
 * exists has its ids moved into the index (`{p:q}:ids`), each with its
 * record's creation time, and the set goes with its last id — so records
 * written by an earlier version are listed, counted and cleared like any.
 * The times are read here from the records' JSON: Lua would have to parse
 * ISO instants itself. Each batch moves atomically (`migrate-index.lua`), so
 * an interrupted migration goes on at the next connect, and two processes
 * connecting at once share the work.
 */
import type { Logger } from "../../observability/logger.js";
import { queuesRegistryKey } from "./keys.js";
import { perQueue, type RedisSession, runBatch } from "./session.js";

/** Ids moved per script call. */
const BATCH = 500;

/**
 * The creation time (ms) to list a stored record's JSON by: its `createdAt`
 * (ISO text, or epoch ms in the keyed form), or 0 when that cannot be read.
 */
export function creationTimeOfJson(json: string): number {
  try {
    const createdAt = (JSON.parse(json) as { createdAt?: unknown } | null)?.createdAt;
    const at =
      typeof createdAt === "string"
        ? Date.parse(createdAt)
        : typeof createdAt === "number"
          ? createdAt
          : Number.NaN;
    return Number.isFinite(at) ? at : 0;
  } catch {
    return 0;
  }
}

/** Moves the ids of every registered queue still kept in an earlier version's set; returns how many. */
export async function migrateLegacyIndexes(session: RedisSession, logger: Logger): Promise<number> {
  const registry = queuesRegistryKey(session.prefix);
  const names = await session.call("connect", (client) => client.smembers(registry));
  if (names.length === 0) return 0;
  const found = await session.call("connect", (client) =>
    perQueue(names, (name) => client.exists(session.keys(name).legacyIds)),
  );
  let total = 0;
  for (const [i, name] of names.entries()) {
    if (found[i] !== 1) continue;
    const moved = await migrateQueue(session, name);
    total += moved;
    logger.info(
      { queue: name, moved },
      "sheppy: moved the queue's task ids into the creation-time index (kept by earlier versions in a set)",
    );
  }
  return total;
}

async function migrateQueue(session: RedisSession, queue: string): Promise<number> {
  const k = session.keys(queue);
  let moved = 0;
  for (;;) {
    // Each batch leaves the set, so random members come from what is left.
    const ids = await session.call("connect", (client) => client.srandmember(k.legacyIds, BATCH));
    if (ids.length === 0) return moved;
    const jsons = await session.call("connect", (client) =>
      runBatch<string | null>(client, (p) => {
        for (const id of ids) p.hget(`${k.task}${id}`, "d");
      }),
    );
    const args: (string | number)[] = [k.task];
    ids.forEach((id, i) => {
      const json = jsons[i];
      args.push(id, json ? creationTimeOfJson(json) : 0);
    });
    moved += (await session.script("migrateIndex", [k.legacyIds, k.ids], args)) as number;
  }
}
