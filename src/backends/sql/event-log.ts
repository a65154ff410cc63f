/**
 * @module backends/sql/event-log
 * What the SQL backends share of a queue's event log (see `EventLog`):
 * positions are the rows' integer ids as decimal text; a read request is
 * checked the same way on both; a waiting read waits as a claim does
 * (`./claim-wait.ts`) with the backend's own signal; and the bodies each
 * write appends are picked out of its arguments (one per stored record of
 * an add, those of the written settlements of a settle) in one place.
 */
import { InvalidOptionError } from "../../errors.js";
import { describeGiven } from "../../task/describe-value.js";
import type { EventReadRequest, StoredEvent } from "../backend.js";
import { claimWaiting, type WorkSignal } from "./claim-wait.js";

const POSITION = /^\d+$/;
/** The largest id a row can have (a signed 64-bit integer). */
const MAX_ID = 2n ** 63n - 1n;

/** The id after which a read starts (decimal text); 0 reads from the oldest row kept. */
export function eventPosition(after: string | null): string {
  if (after === null) return "0";
  if (typeof after !== "string" || !POSITION.test(after) || BigInt(after) > MAX_ID) {
    throw new InvalidOptionError(
      `readEvents: after must be an event id this log gave (decimal digits) or null (got ${describeGiven(after)})`,
    );
  }
  return after;
}

/** Checks a read's limit and wait; an `InvalidOptionError` names the value. */
export function checkEventRead(request: EventReadRequest): void {
  const { limit, waitMs } = request;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new InvalidOptionError(
      `readEvents: limit must be an integer ≥ 1 (got ${describeGiven(limit)})`,
    );
  }
  if (waitMs !== undefined && (typeof waitMs !== "number" || !(waitMs >= 0))) {
    throw new InvalidOptionError(
      `readEvents: waitMs must be a number of milliseconds ≥ 0 (got ${describeGiven(waitMs)})`,
    );
  }
}

export interface EventWait {
  /** One read of the rows after the position. */
  readonly look: () => Promise<StoredEvent[]>;
  /** A signal armed for appends to the queue. */
  readonly arm: () => WorkSignal;
  readonly connected: () => boolean;
  /** Longest sleep between reads, whatever the signals say (a lost signal costs at most this). */
  readonly pollMs: number;
}

/** Reads, waiting up to `waitMs` for a first entry as a claim waits for a first task. */
export function readEventsWaiting(
  wait: EventWait,
  waitMs: number | undefined,
): Promise<StoredEvent[]> {
  return claimWaiting(wait, waitMs ?? 0);
}

/** An `after` checked, ready to bind, with the rest of the request checked too. */
export function checkedRead(request: EventReadRequest): string {
  checkEventRead(request);
  return eventPosition(request.after);
}

/**
 * Per stored row of an add (the first of each id, in call order), its
 * event body or `null`: `events` holds one per record given.
 */
export function sentEvents(
  events: readonly string[] | undefined,
  first: readonly boolean[],
): (string | null)[] {
  const sent: (string | null)[] = [];
  first.forEach((isFirst, i) => {
    if (isFirst) sent.push(events?.[i] ?? null);
  });
  return sent;
}
