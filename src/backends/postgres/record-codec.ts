/**
 * @module backends/postgres/record-codec
 * A task row holds the record JSON (`data`) plus the few fields statements
 * change without rewriting it: `status` (always the status readers see),
 * `started_at` (a claim's start) and `finished_at` (a cancel's end). Reading
 * merges them; a record that does not decode, or is not the record of the id
 * it is stored under, is read as the `failed` stand-in the shared codec
 * makes (`task/task-codec.ts`). Where a record goes — and so its `state` —
 * comes from the shared routing (`../record-route.ts`).
 */
import { encodeTaskData, readStoredRecord } from "../../task/task-codec.js";
import type { TaskData, TaskStatus } from "../../task/task-record.js";
import type { RecordRoute } from "../record-route.js";
import { creationTimeOf } from "../task-listing.js";

/** The `state` column: where a record is in its life. */
export const CLAIMABLE = 0;
export const DUE = 1;
export const CLAIMED = 2;
export const FINISHED = 3;

/** The columns a record is read from, as statements select them. */
export const RECORD_COLUMNS = "id, data, status, started_at, finished_at";

export interface RecordRow {
  id: string;
  data: string;
  status: string;
  started_at: string | null;
  finished_at: string | null;
}

/** The merged record of a row, or its `failed` stand-in when the stored JSON is unusable. */
export function readRow(row: RecordRow, now: number): TaskData {
  const { record, malformed } = readStoredRecord(
    row.id,
    row.data,
    `task record ${row.id} in PostgreSQL`,
    now,
  );
  if (malformed) return record;
  record.status = row.status as TaskStatus;
  if (row.started_at !== null) record.startedAt = row.started_at;
  if (row.finished_at !== null) record.finishedAt = row.finished_at;
  return record;
}

/** What a record is stored as: its JSON, status, state, due time and creation time. */
export interface StoredColumns {
  readonly id: string;
  readonly data: string;
  readonly status: string;
  readonly state: number;
  readonly dueAt: number | null;
  readonly createdAt: number;
}

/** The columns of `record` stored where `route` says (throws `SerializationError` when it cannot be encoded). */
export function storedColumns(record: TaskData, route: RecordRoute): StoredColumns {
  return {
    id: record.id,
    data: encodeTaskData(record),
    status: record.status,
    state: route.kind === "claimable" ? CLAIMABLE : route.kind === "due" ? DUE : FINISHED,
    dueAt: route.kind === "due" ? route.at : null,
    createdAt: creationTimeOf(record),
  };
}

/** A bigint column as node-postgres returns it (text), as a number; `null` stays `null`. */
export function msOf(value: string | number | null): number | null {
  return value === null ? null : Number(value);
}
