/**
 * @module execution/event-publisher
 * Appends the events a running attempt produces on its own (`started`,
 * `progress`) to the queue's event log, in the order they happened, many
 * per backend call: events pushed in one turn of the event loop go in one
 * append, and one append is in flight at a time. The settle that ends an
 * attempt carries its own events atomically; it waits for `drained()` first,
 * so a task's `completed` never precedes its `started` in the log.
 *
 * Events whose append fails are reported and dropped: the records are the
 * truth, the log is what listeners hear of them, and holding a failed batch
 * back would hold every later settle with it.
 */
import type { EventLog } from "../backends/backend.js";

export class EventPublisher {
  #pending: string[] = [];
  #flushing: Promise<void> | null = null;

  constructor(
    private readonly log: Pick<EventLog, "appendEvents">,
    private readonly queue: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Whether some pushed event has not been appended yet. */
  get busy(): boolean {
    return this.#flushing !== null;
  }

  push(body: string): void {
    this.#pending.push(body);
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
      this.#pending = [];
      try {
        await this.log.appendEvents(this.queue, batch);
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
