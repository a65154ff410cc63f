/**
 * @module backends/sql/stored-columns
 * How the SQL backends (PostgreSQL, SQLite) keep a task record in a row: the
 * record JSON, plus the few fields statements change without rewriting it —
 * `status` (always the status readers see), `started_at` (a claim's start),
 * `finished_at` (a cancel's end) — and `state`, where the record is in its
 * life. Reading merges them; a record that does not decode, or is not the
 * record of the id it is stored under, is read as the `failed` stand-in the
 * shared codec makes. Where a record goes comes from the shared routing.
 */
import { encodeCompactTaskData, isStoredInstant, readStoredRecord } from "../../task/task-codec.js";
import { TASK_STATUSES, type TaskData, type TaskStatus } from "../../task/task-record.js";
import { claimPriority } from "../claim-priority.js";
import type { RecordRoute } from "../record-route.js";
import { creationTimeOf } from "../task-listing.js";

/** The `state` column: where a record is in its life. */
export const CLAIMABLE = 0;
export const DUE = 1;
export const CLAIMED = 2;
export const FINISHED = 3;
/**
 * Pending, but held for a free slot of its concurrency key: claims do not see
 * it; it becomes claimable when a slot frees, in line by its `seq`.
 */
export const HELD = 4;

/** Whether a row in `state` can be cancelled: it waits to run, or, with `running`, it is claimed. */
export function cancellable(state: number, running: boolean): boolean {
  return state === CLAIMABLE || state === DUE || state === HELD || (running && state === CLAIMED);
}

/** The columns a record is read from, as statements select them. */
export const RECORD_COLUMNS = "id, data, status, started_at, finished_at";

export interface RecordRow {
  id: string;
  data: string;
  status: string;
  started_at: string | null;
  finished_at: string | null;
}

/** The merged record of a row, or its `failed` stand-in when the stored JSON is unusable; `where` names the store in messages. */
export function readRecordRow(row: RecordRow, now: number, where: string): TaskData {
  const { record, malformed } = readStoredRecord(
    row.id,
    row.data,
    `task record ${row.id} in ${where}`,
    now,
  );
  if (malformed) return record;
  if (
    !STATUSES.has(row.status) ||
    !isStoredInstant(row.started_at) ||
    !isStoredInstant(row.finished_at)
  ) {
    // A column changed by hand to something no record holds: the merged record is judged as a whole
    // one is, so it reads as the failed stand-in naming the field rather than passing the text on.
    const merged = { ...record, status: row.status, startedAt: row.started_at ?? record.startedAt };
    if (row.finished_at !== null) merged.finishedAt = row.finished_at;
    return readStoredRecord(row.id, merged, `task record ${row.id} in ${where}`, now).record;
  }
  record.status = row.status as TaskStatus;
  if (row.started_at !== null) record.startedAt = row.started_at;
  if (row.finished_at !== null) record.finishedAt = row.finished_at;
  return record;
}

const STATUSES: ReadonlySet<string> = new Set(TASK_STATUSES);

/** What a record is stored as: its JSON, status, state, due time and creation time. */
export interface StoredColumns {
  readonly id: string;
  readonly data: string;
  readonly status: string;
  readonly state: number;
  readonly dueAt: number | null;
  readonly createdAt: number;
  /** Claim order among claimable records: higher first. */
  readonly priority: number;
  /** The concurrency key whose slots the record takes while claimable or claimed, and its limit; `null` without. */
  readonly concurrencyKey: string | null;
  readonly concurrencyLimit: number | null;
}

/**
 * The JSON a row keeps for `record`: the compact form (every field at its
 * default left out; see `task/compact-record.ts`), a fifth of the whole
 * form's size for a typical task. Written, sent and parsed on every add,
 * claim and settle, and kept in every row version an update leaves, its
 * size is much of what a busy queue costs the database. Rows an earlier
 * version wrote in the whole form read as before. Throws `SerializationError`
 * when `record` cannot be encoded.
 */
export function encodeRowData(record: TaskData): string {
  return encodeCompactTaskData(record);
}

/** The columns of `record` stored where `route` says (throws `SerializationError` when it cannot be encoded). */
export function storedColumns(record: TaskData, route: RecordRoute): StoredColumns {
  return {
    id: record.id,
    data: encodeRowData(record),
    status: record.status,
    state: route.kind === "claimable" ? CLAIMABLE : route.kind === "due" ? DUE : FINISHED,
    dueAt: route.kind === "due" ? route.at : null,
    createdAt: creationTimeOf(record),
    priority: claimPriority(record),
    concurrencyKey: record.concurrencyKey,
    concurrencyLimit: record.concurrencyKey === null ? null : (record.concurrencyLimit ?? 1),
  };
}
