/**
 * @module backends/postgres/record-codec
 * A task row as the SQL backends keep it (`../sql/stored-columns.ts`): the
 * record JSON plus the columns statements change without rewriting it.
 * Here: reading a row as PostgreSQL returns it, and its bigint columns.
 */
import type { TaskData } from "../../task/task-record.js";
import { type RecordRow, readRecordRow } from "../sql/stored-columns.js";

export {
  CLAIMABLE,
  CLAIMED,
  cancellable,
  DUE,
  FINISHED,
  HELD,
  RECORD_COLUMNS,
  type RecordRow,
  type StoredColumns,
  storedColumns,
} from "../sql/stored-columns.js";

/** The merged record of a row, or its `failed` stand-in when the stored JSON is unusable. */
export function readRow(row: RecordRow, now: number): TaskData {
  return readRecordRow(row, now, "PostgreSQL");
}

/** A bigint column as node-postgres returns it (text), as a number; `null` stays `null`. */
export function msOf(value: string | number | null): number | null {
  return value === null ? null : Number(value);
}
