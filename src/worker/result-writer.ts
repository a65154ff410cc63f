/**
 * @module worker/result-writer
 * Sends attempt settlements in batches: every settlement made in the same
 * turn of the event loop goes to the backend in one `settle` call (one round
 * trip for many tasks, no timer added to anyone's latency). Settling is safe
 * to repeat, so a failed call is sent again with backoff — but not forever:
 * while the backend cannot be reached, or is full (a disk, a memory limit:
 * space comes back as retention deletes or an operator frees it), for up to
 * {@link UNREACHABLE_RETRY_MS}; for any other failure, {@link OTHER_FAILURE_ATTEMPTS} times, each
 * settlement of the batch then on its own (so one the backend cannot take
 * holds no other back), and a record refused as unstorable not again; and
 * not past a forced shutdown. A settlement given up on is reported to its
 * caller (the attempt pipeline stores an unstorable record's `failed`
 * stand-in instead); otherwise the task's lease is left to expire, so
 * another worker takes the task over.
 */
import type { Settlement, SettleResult } from "../backends/backend.js";
import type { Clock } from "../clock.js";
import { BackendFullError, BackendUnavailableError } from "../errors.js";
import { isUnstorable } from "../execution/outcome.js";
import type { Logger } from "../observability/logger.js";
import type { Queue } from "../queue/queue.js";
import { Backoff } from "./backoff.js";
import type { HealthBook } from "./worker-health.js";

interface Entry {
  readonly settlement: Settlement;
  readonly now: number;
  readonly resolve: (result: SettleResult) => void;
  readonly reject: (error: unknown) => void;
}

const MAX_BATCH = 500;
/** How long settlements are retried while the backend cannot be reached, or is full. */
export const UNREACHABLE_RETRY_MS = 60_000;
/** How often a settlement the backend refused for another reason is tried. */
export const OTHER_FAILURE_ATTEMPTS = 3;

export class ResultWriter {
  readonly #batches = new Map<Queue, Entry[]>();
  #inFlight = 0;
  #idle: (() => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Aborts when the worker stops waiting for writes (forced or timed-out shutdown). */
    private readonly giveUp: AbortSignal,
    /**
     * Where a queue's settles are noted failing until one works again: shared
     * by every batch, so an outage is one warning and one recovery line per
     * queue, however many batches waited through it.
     */
    private readonly health: HealthBook,
  ) {}

  /** Resolves with the backend's verdict on `settlement` (made at `now`); rejects when the write was given up. */
  settle(queue: Queue, settlement: Settlement, now: number): Promise<SettleResult> {
    return new Promise((resolve, reject) => {
      let batch = this.#batches.get(queue);
      if (!batch) {
        batch = [];
        this.#batches.set(queue, batch);
        this.#inFlight++;
        setImmediate(() => this.#flush(queue));
      }
      batch.push({ settlement, now, resolve, reject });
      if (batch.length >= MAX_BATCH) this.#flush(queue);
    });
  }

  /** Whether a settlement handed in is still being written. */
  get pending(): boolean {
    return this.#inFlight > 0;
  }

  /** Resolves when every settlement handed in so far has been written or given up. */
  drained(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #flush(queue: Queue): void {
    const batch = this.#batches.get(queue);
    if (!batch) return;
    this.#batches.delete(queue);
    void this.#write(queue, batch).finally(() => {
      this.#inFlight--;
      if (this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
    });
  }

  async #write(queue: Queue, batch: Entry[]): Promise<void> {
    const backoff = new Backoff();
    const started = this.clock.now();
    // The batch is settled as of its latest settlement's time (they differ by at most a tick).
    const now = batch.reduce((latest, entry) => Math.max(latest, entry.now), 0);
    let otherFailures = 0;
    for (;;) {
      try {
        const results = await queue.backend.settle(
          queue.name,
          batch.map((entry) => entry.settlement),
          now,
        );
        if (this.health.working("settle", queue.name)) {
          this.logger.warn({ queue: queue.name }, "storing task outcomes works again");
        }
        batch.forEach((entry, i) => {
          entry.resolve(results[i] ?? "lost");
        });
        return;
      } catch (error) {
        // Both pass: an outcome given up on now would be taken over as crashed, though it ran.
        const unreachable =
          error instanceof BackendUnavailableError || error instanceof BackendFullError;
        if (!unreachable && batch.length > 1) {
          // Refused for a reason other than reach: perhaps one settlement the backend cannot
          // take. Each is written on its own, so it cannot hold the others back.
          await Promise.all(batch.map((entry) => this.#write(queue, [entry])));
          return;
        }
        if (!unreachable) otherFailures++;
        // A record the backend cannot store fails the same way every time: no retry.
        const exhausted = unreachable
          ? this.clock.now() - started >= UNREACHABLE_RETRY_MS
          : otherFailures >= OTHER_FAILURE_ATTEMPTS || isUnstorable(error);
        if (exhausted || this.giveUp.aborted) {
          for (const entry of batch) entry.reject(error);
          return;
        }
        const { delayMs } = backoff.fail();
        if (this.health.failing("settle", queue.name, error)) {
          this.logger.warn(
            { err: error, queue: queue.name },
            "storing task outcomes failed; retrying",
          );
        }
        await this.clock.sleep(delayMs, this.giveUp);
      }
    }
  }
}
