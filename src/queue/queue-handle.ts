/**
 * @module queue/queue-handle
 * What the helpers behind `Queue`'s methods (retry, crons) need of a queue:
 * its name, its clock, its connected backend. A narrow view, so those
 * helpers do not import the `Queue` class that imports them.
 */
import type { Backend } from "../backends/backend.js";
import type { Clock } from "../clock.js";

export interface QueueHandle {
  readonly name: string;
  readonly clock: Clock;
  /** The most bytes of JSON a task's arguments (or result) may take in this queue. */
  readonly maxPayloadBytes: number;
  /** The backend, connected. */
  connect(): Promise<Backend>;
  /** Runs what is claimable now when the backend processes tasks inline; otherwise nothing. */
  runInline(): Promise<void>;
  /** Fires the signal of `id`'s attempt with `reason` when this process runs it inline; otherwise nothing. */
  interruptInline(id: string, reason: Error): void;
}
