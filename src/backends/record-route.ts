/**
 * @module backends/record-route
 * Where a stored record goes, decided once for every backend from its
 * status: claimable now, waiting for a time, or finished. Backends call this
 * when they add or settle records instead of each re-deriving it, so they
 * cannot disagree about, say, a retry whose time has already come.
 */
import { InvalidOptionError } from "../errors.js";
import type { TaskData } from "../task/task-record.js";

/** Where a record goes. */
export type RecordRoute =
  | { readonly kind: "claimable" }
  | { readonly kind: "due"; readonly at: number }
  | { readonly kind: "finished" };

const CLAIMABLE: RecordRoute = { kind: "claimable" };
const FINISHED: RecordRoute = { kind: "finished" };

/** The time a record waits for (a retry's, or a scheduled or put-off start), or `null` when it has none. */
export function dueTimeOf(record: TaskData): number | null {
  const text =
    record.status === "retrying"
      ? record.nextRetryAt
      : record.status === "scheduled"
        ? record.scheduledAt
        : null;
  if (text === null) return null;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : at;
}

/**
 * Where `record` goes when stored at `now`: a finished record (`finishedAt`
 * set) is finished; `retrying` and `scheduled` wait for their time — or are
 * claimable at once when it is not after `now` (pass `null` to keep every
 * timed record waiting, as `add` does, so it shows as scheduled until
 * promoted); `pending` is claimable. Any other status cannot be stored
 * outside a claim: `InvalidOptionError` naming the record.
 */
export function routeOf(record: TaskData, now: number | null): RecordRoute {
  if (record.finishedAt !== null) return FINISHED;
  if (record.status === "pending") return CLAIMABLE;
  if (record.status === "retrying" || record.status === "scheduled") {
    const at = dueTimeOf(record);
    if (at === null) return CLAIMABLE;
    return now !== null && at <= now ? CLAIMABLE : { kind: "due", at };
  }
  throw new InvalidOptionError(
    `cannot store task ${record.id} with status '${record.status}' and no finishedAt: only pending, scheduled, retrying or finished records can be stored`,
  );
}

/** Checks that `add` was given new work only (`pending` or `scheduled`); `where` names the call. */
export function checkNewWork(records: readonly TaskData[], where: string): void {
  for (const record of records) {
    if (record.status !== "pending" && record.status !== "scheduled") {
      throw new InvalidOptionError(
        `${where}: task ${record.id} has status '${record.status}'; only pending or scheduled tasks can be added`,
      );
    }
  }
}
