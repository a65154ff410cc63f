/**
 * @module backends/redis/dedupe
 * Adds under dedupe keys (`add-deduplicated.lua`: each call one atomic step
 * in the server, so racing adds from any number of clients cannot both take
 * a key) and drops the keys that hold nothing any more (`prune-dedupe.lua`).
 */
import { BackendError } from "../../errors.js";
import type { DedupeEntry, DedupeOutcome, DedupeResult } from "../backend.js";
import { checkDedupeRecords } from "../dedupe-decision.js";
import { routeOf } from "../record-route.js";
import { creationTimeOf } from "../task-listing.js";
import { claimSpec } from "./claim-spec.js";
import type { QueueKeys } from "./keys.js";
import { encodeKeyedRecord } from "./record-codec.js";
import type { RedisSession } from "./session.js";

/** Slots looked at per prune call. */
const PRUNE_BATCH = 1000;
/** How long a slot whose task is unfinished waits before a prune looks at it again (ms). */
const RECHECK_MS = 60_000;
const OUTCOMES: ReadonlySet<unknown> = new Set(["added", "ignored", "replaced"]);

/** See `TaskStore.addDeduplicated`. */
export async function addDeduplicated(
  session: RedisSession,
  k: QueueKeys,
  entries: readonly DedupeEntry[],
  now: number,
  /** 0: the entries' events are dropped. */
  eventCap: number,
): Promise<DedupeResult[]> {
  if (entries.length === 0) return [];
  const records = checkDedupeRecords(entries, "Redis");
  const args: (string | number)[] = [k.task, now, eventCap];
  entries.forEach(({ key, mode, windowMs, event }, i) => {
    const record = records[i]!;
    const route = routeOf(record, null);
    args.push(
      key,
      mode,
      windowMs ?? "",
      record.id,
      // Keyed (without its id), so a replace can write it under the id of the task it replaces.
      encodeKeyedRecord(record),
      route.kind === "due" ? "d" : "p",
      route.kind === "due" ? route.at : "",
      creationTimeOf(record),
      record.status,
      claimSpec(record),
      eventCap > 0 ? (event ?? "") : "",
    );
  });
  const keys = [
    k.ids,
    k.pending,
    k.wake,
    k.scheduled,
    k.processing,
    k.done,
    k.dedupe,
    k.dedupeChecks,
    session.requestKey(k),
    k.events,
  ];
  const reply = (await session.script("addDeduplicated", keys, args)) as unknown[];
  const results: DedupeResult[] = [];
  for (let i = 0; i < reply.length; i += 2) {
    const outcome = reply[i];
    const id = reply[i + 1];
    if (!OUTCOMES.has(outcome) || typeof id !== "string") {
      throw new BackendError(
        `addDeduplicated: Redis answered an unknown outcome ${String(outcome)}`,
      );
    }
    results.push({ outcome: outcome as DedupeOutcome, id });
  }
  return results;
}

/** Drops every slot of the queue whose window has ended or whose task has finished or gone. */
export async function pruneDedupe(session: RedisSession, k: QueueKeys, now: number): Promise<void> {
  for (;;) {
    const [, seen] = (await session.script(
      "pruneDedupe",
      [k.dedupe, k.dedupeChecks, k.done],
      [k.task, now, PRUNE_BATCH, RECHECK_MS],
    )) as [number, number];
    if (seen < PRUNE_BATCH) return;
  }
}
