/**
 * @module backends/sql/new-rows
 * The rows an `add` call stores on a SQL backend: each record read as the
 * shared codec reads it (a record that cannot be used becomes its `failed`
 * stand-in, stored finished), new work checked, and routed into its columns;
 * a second copy of an id in one call is a duplicate, so only the first of
 * each id is written.
 */
import { readStoredRecord } from "../../task/task-codec.js";
import type { TaskData } from "../../task/task-record.js";
import { checkNewWork, routeOf } from "../record-route.js";
import { type StoredColumns, storedColumns } from "./stored-columns.js";

export interface NewRows {
  /** Every record's columns, in call order. */
  readonly rows: StoredColumns[];
  /** Per record: whether it is the first of its id in the call. */
  readonly first: boolean[];
  /** The rows to write: the first of each id, in call order. */
  readonly sent: StoredColumns[];
}

/** The rows of `records` added at `now`; `store` names the backend in messages ("SQLite"…). */
export function newRows(records: readonly TaskData[], store: string, now: number): NewRows {
  const read = records.map((given) =>
    readStoredRecord(
      typeof given?.id === "string" ? given.id : "",
      given,
      `task record added to ${store}`,
      now,
    ),
  );
  checkNewWork(
    read.filter((r) => !r.malformed).map((r) => r.record),
    "add",
  );
  const rows = read.map(({ record }) => storedColumns(record, routeOf(record, null)));
  const seen = new Set<string>();
  const first = rows.map((row) => !seen.has(row.id) && Boolean(seen.add(row.id)));
  return { rows, first, sent: rows.filter((_, i) => first[i]) };
}
