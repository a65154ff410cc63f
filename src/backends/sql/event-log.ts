/**
 * @module backends/sql/event-log
 * What the SQL backends share of a queue's event log (see `EventLog`):
 * positions are the rows' integer ids as decimal text, checked as every
 * counter-positioned log checks them (`../event-positions.ts`); a waiting
 * read waits as a claim does (`./claim-wait.ts`), with the backend's own
 * signal; and an add's bodies are matched to the rows it sends.
 */
import type { EventReadRequest, StoredEvent } from "../backend.js";
import { checkEventLimit, eventPosition } from "../event-positions.js";
import { claimWaiting, type WorkSignal } from "./claim-wait.js";

export interface EventWait {
  /** One read of the rows after the position. */
  readonly look: () => Promise<StoredEvent[]>;
  /** A signal armed for appends to the queue. */
  readonly arm: () => WorkSignal;
  readonly connected: () => boolean;
  /** Longest sleep between reads, whatever the signals say (a lost signal costs at most this). */
  readonly pollMs: number;
}

/** Reads, waiting up to the request's `waitMs` for a first entry (or its signal to abort) as a claim waits for a first task. */
export function readEventsWaiting(
  wait: EventWait,
  request: Pick<EventReadRequest, "waitMs" | "signal">,
): Promise<StoredEvent[]> {
  return claimWaiting(wait, request.waitMs ?? 0, request.signal);
}

/** The id a read starts after (0: from the oldest kept), the request checked (`../event-positions.ts`). */
export function checkedRead(request: EventReadRequest): number {
  const after = eventPosition(request.after);
  checkEventLimit(request.limit);
  return after;
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
