/**
 * @module worker/result-writer
 * Stores attempt outcomes in batches: every outcome that finishes in the same
 * turn of the event loop goes to the backend in one `storeResult` call (one
 * round trip for many tasks, no timer added to anyone's latency). A failed
 * write is retried with backoff until it succeeds or the worker gives up at
 * shutdown — an outcome is never dropped silently.
 */
import type { Clock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import type { Queue } from "../queue/queue.js";
import type { TaskData } from "../task/task-record.js";
import { Backoff } from "./backoff.js";

interface Batch {
  records: TaskData[];
  settle: { resolve: () => void; reject: (error: unknown) => void }[];
}

const MAX_BATCH = 500;

export class ResultWriter {
  readonly #batches = new Map<Queue, Batch>();
  #inFlight = 0;
  #idle: (() => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Aborts when the worker stops waiting for writes (forced shutdown). */
    private readonly giveUp: AbortSignal,
  ) {}

  /** Resolves once `record` is stored; rejects only if the worker gave up on storing it. */
  store(queue: Queue, record: TaskData): Promise<void> {
    return new Promise((resolve, reject) => {
      let batch = this.#batches.get(queue);
      if (!batch) {
        batch = { records: [], settle: [] };
        this.#batches.set(queue, batch);
        this.#inFlight++;
        setImmediate(() => this.#flush(queue));
      }
      batch.records.push(record);
      batch.settle.push({ resolve, reject });
      if (batch.records.length >= MAX_BATCH) this.#flush(queue);
    });
  }

  /** Resolves when every write handed in so far has settled. */
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

  async #write(queue: Queue, batch: Batch): Promise<void> {
    const backoff = new Backoff();
    for (;;) {
      try {
        await queue.backend.storeResult(queue.name, batch.records);
        if (backoff.succeed())
          this.logger.info({ queue: queue.name }, "storing task results works again");
        for (const { resolve } of batch.settle) resolve();
        return;
      } catch (error) {
        if (this.giveUp.aborted) {
          this.logger.error(
            { err: error, queue: queue.name, tasks: batch.records.map((r) => r.id) },
            "gave up storing task results at shutdown; the tasks will be reclaimed as crashed",
          );
          for (const { reject } of batch.settle) reject(error);
          return;
        }
        const { delayMs, first } = backoff.fail();
        if (first)
          this.logger.warn(
            { err: error, queue: queue.name },
            "storing task results failed; retrying",
          );
        await this.clock.sleep(delayMs, this.giveUp);
      }
    }
  }
}
