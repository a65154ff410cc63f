/**
 * @module backends/event-positions
 * Checks of an event-log read shared by the backends whose positions are
 * counters written as decimal text (memory, PostgreSQL, SQLite), and the
 * body of a dedupe add's event once the task holding the key is known.
 */
import { InvalidOptionError } from "../errors.js";

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** The counter a read resumes after: `null` is before the first; anything but a position this log gives is an `InvalidOptionError`. */
export function eventPosition(after: string | null): number {
  if (after === null) return 0;
  if (typeof after !== "string" || !DECIMAL.test(after))
    throw new InvalidOptionError(
      `event log position must be one an event carried (an id like "42"), got ${JSON.stringify(after)}`,
    );
  return Number(after);
}

/**
 * The error of a read resuming after `after`, past `newest` — the newest
 * position the log has ever given (`null`: none yet). Positions only grow, so
 * such a position came from another store or queue, or from before the store
 * was restored from a backup or emptied; waiting on it would miss every event
 * until the log caught up with it.
 */
export function positionAheadError(after: string, newest: string | null): InvalidOptionError {
  return new InvalidOptionError(
    `event log position ${JSON.stringify(after)} is past the newest this log has given (${newest === null ? "none yet" : JSON.stringify(newest)}): it was saved from another store or queue, or before this store was restored or emptied; read from "start" or "now" instead`,
  );
}

/** The body a dedupe add appends: its `event` (the body's members after the first) for the task `id` that holds the key. */
export function keyedEventBody(id: string, event: string): string {
  return `[${JSON.stringify(id)},${event}`;
}

/** Checks the `limit` of an event-log read: an integer ≥ 1. */
export function checkEventLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1)
    throw new InvalidOptionError(`event read limit must be an integer ≥ 1 (got ${String(limit)})`);
}
