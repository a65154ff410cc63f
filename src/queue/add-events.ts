/**
 * @module queue/add-events
 * What every add path hands the backend beside its records: the caller's
 * transaction, and one `added` event per record for the queue's event log
 * (stored by the backend in the same step as the record, so a listener
 * never hears of a task before it exists, nor of one whose add rolled back).
 */
import type { AddOptions, EventLog, SqlTransaction } from "../backends/backend.js";
import { eventBody, eventBodyWithoutId } from "../task/lifecycle-event.js";
import type { TaskData } from "../task/task-record.js";

/** The add options for `records` added at `now`; `undefined` when there is nothing to say. */
export function addOptionsFor(
  log: Pick<EventLog, "eventCap">,
  records: readonly TaskData[],
  now: number,
  tx?: SqlTransaction,
): AddOptions | undefined {
  const events =
    log.eventCap > 0 ? records.map((record) => eventBody("added", record, now)) : undefined;
  if (!events && !tx) return undefined;
  return tx ? { tx, ...(events ? { events } : {}) } : { events };
}

/** The `added` event of one record under a dedupe key, when the log is on (the backend writes the id of the task that holds the key). */
export function addedEventFor(
  log: Pick<EventLog, "eventCap">,
  record: TaskData,
  now: number,
): string | undefined {
  return log.eventCap > 0 ? eventBodyWithoutId(record, now) : undefined;
}
