/**
 * @module execution/event-publisher
 * Appends the events a running attempt produces on its own (`started`,
 * `progress`) to the queue's event log, in the order they happened, many
 * per backend call: events pushed in one turn of the event loop go in one
 * append, and one append is in flight at a time. The settle that ends an
 * attempt carries its own events atomically; it waits for `drained()` first,
 * so a task's `completed` never precedes its `started` in the log.
 *
 * A `started` event is held back for a moment first (`hold`): an attempt
 * that ends within `holdMs` — most of them, on a busy queue — hands its
 * `started` to its own settle, which appends it just before the attempt's
 * end in one step, and no append of its own is needed. One still running
 * then is appended with the others of its turn; either way the event keeps
 * the time the attempt started, and comes before the attempt's end.
 *
 * Every event names the claim of the attempt it belongs to, and the log
 * takes it only while that claim is current: a `started` or `progress` that
 * goes out after a cancel (`force`) or a takeover ended the claim is
 * dropped, never heard after the event that ended the attempt.
 *
 * Events whose append fails are reported and dropped: the records are the
 * truth, the log is what listeners hear of them, and holding a failed batch
 * back would hold every later settle with it.
 */
import type { ClaimRef, EventLog } from "../backends/backend.js";
import { eventBody } from "../task/lifecycle-event.js";
import type { TaskData } from "../task/task-record.js";

/** An attempt's `started` event, held for its settle: its body is written only if it is appended on its own. */
export interface HeldStart {
  /** The claimed record the attempt runs. */
  readonly record: TaskData;
  /** When the attempt started (epoch ms, the worker's clock). */
  readonly at: number;
  /** The claim the attempt runs under now (its fence changes if its holder takes it back). */
  readonly holder: () => ClaimRef;
}

/**
 * Whether a held `started` can go with its attempt's end as the log's
 * one-character mark: what the mark's reader rebuilds (status `processing`,
 * the end's task and attempt, a start a whole number of ms before the end)
 * is exactly its body. Otherwise it goes whole.
 */
export function startsAsMark(start: Pick<HeldStart, "record" | "at">, endAt: number): boolean {
  return (
    start.record.status === "processing" &&
    Number.isSafeInteger(start.at) &&
    Number.isSafeInteger(endAt - start.at)
  );
}

/** The whole body of a held `started` event. */
export function startedBody(start: Pick<HeldStart, "record" | "at">): string {
  return eventBody("started", start.record, start.at);
}

/** Milliseconds a `started` event waits for its attempt's settle before it is appended alone. */
export const STARTED_HOLD_MS = 200;

export class EventPublisher {
  #pending: string[] = [];
  /** The claim each pending event belongs to, by position. */
  #holders: ClaimRef[] = [];
  #flushing: Promise<void> | null = null;
  /** Held `started` events by their attempt's key, oldest first, with when they were held (ms, monotonic). */
  readonly #held = new Map<object, { readonly start: HeldStart; readonly heldAt: number }>();
  #holdTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly log: Pick<EventLog, "appendEvents">,
    private readonly queue: string,
    private readonly onError: (error: unknown) => void,
    private readonly holdMs = STARTED_HOLD_MS,
  ) {}

  /** Holds the `started` event of the attempt `key`: its settle may {@link take} it; otherwise it is pushed once `holdMs` passed. */
  hold(key: object, start: HeldStart): void {
    this.#held.set(key, { start, heldAt: performance.now() });
    this.#holdTimer ??= this.#armHold(this.holdMs);
  }

  /** The event held for `key`, taken back to go with its settle; `undefined` once it was pushed (or never held). */
  take(key: object): HeldStart | undefined {
    const held = this.#held.get(key);
    if (!held) return undefined;
    this.#held.delete(key);
    return held.start;
  }

  /** Pushes the event held for `key` now (a later event of the attempt must follow it). */
  release(key: object): void {
    const start = this.take(key);
    if (start !== undefined) this.push(startedBody(start), start.holder());
  }

  #armHold(ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => this.#releaseDue(), ms);
    timer.unref?.();
    return timer;
  }

  #releaseDue(): void {
    this.#holdTimer = undefined;
    const now = performance.now();
    for (const [key, held] of this.#held) {
      const waited = now - held.heldAt;
      if (waited < this.holdMs) {
        // Map order is hold order: everything after this one was held later.
        this.#holdTimer = this.#armHold(this.holdMs - waited);
        return;
      }
      this.#held.delete(key);
      this.push(startedBody(held.start), held.start.holder());
    }
  }

  /** Whether some pushed event has not been appended yet. */
  get busy(): boolean {
    return this.#flushing !== null;
  }

  /** Appends `body`, an event of the attempt running under the claim `holder`, with the others of this turn. */
  push(body: string, holder: ClaimRef): void {
    this.#pending.push(body);
    this.#holders.push(holder);
    // One append per turn: every event pushed before it runs goes with it.
    this.#flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.#flush(),
    );
  }

  /** Resolves once every event pushed so far was appended (or given up on). */
  drained(): Promise<void> {
    return this.#flushing ?? Promise.resolve();
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      const holders = this.#holders;
      this.#pending = [];
      this.#holders = [];
      try {
        await this.log.appendEvents(this.queue, batch, holders);
      } catch (error) {
        try {
          this.onError(error);
        } catch {
          // A failing report has nowhere to go; the attempt goes on.
        }
      }
    }
    this.#flushing = null;
  }
}
