/**
 * @module worker/result-writer
 * Stores attempt outcomes in batches: every outcome that finishes in the same
 * turn of the event loop goes to the backend in one `storeResult` call (one
 * round trip for many tasks, no timer added to anyone's latency). Tasks a
 * chaining attempt returned are added first, in the same retried step, so a
 * brief outage loses neither. A failed write is retried with backoff until it
 * succeeds or the worker gives up at shutdown — an outcome is never dropped
 * silently. The backend may refuse an outcome whose claim this worker no
 * longer holds (fencing); that is reported, not retried.
 */
import type { Backend } from "../backends/backend.js";
import type { Clock } from "../clock.js";
import { appendChildren } from "../execution/chained-tasks.js";
import type { Logger } from "../observability/logger.js";
import type { Queue } from "../queue/queue.js";
import type { TaskData } from "../task/task-record.js";
import { Backoff } from "./backoff.js";

interface Entry {
  readonly record: TaskData;
  readonly children: readonly TaskData[];
  readonly resolve: (stored: boolean) => void;
  readonly reject: (error: unknown) => void;
}

const MAX_BATCH = 500;

export class ResultWriter {
  readonly #batches = new Map<Queue, Entry[]>();
  #inFlight = 0;
  #idle: (() => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Aborts when the worker stops waiting for writes (forced shutdown). */
    private readonly giveUp: AbortSignal,
  ) {}

  /**
   * Resolves `true` once `record` (and the `children` it chains) is stored,
   * `false` when the backend refused it because another worker holds the claim
   * now; rejects only if the worker gave up at shutdown.
   */
  store(queue: Queue, record: TaskData, children: readonly TaskData[] = []): Promise<boolean> {
    return new Promise((resolve, reject) => {
      let batch = this.#batches.get(queue);
      if (!batch) {
        batch = [];
        this.#batches.set(queue, batch);
        this.#inFlight++;
        setImmediate(() => this.#flush(queue));
      }
      batch.push({ record, children, resolve, reject });
      if (batch.length >= MAX_BATCH) this.#flush(queue);
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

  async #write(queue: Queue, batch: Entry[]): Promise<void> {
    const backoff = new Backoff();
    for (;;) {
      try {
        const lost = new Set(await writeBatch(queue.backend, queue.name, batch));
        if (backoff.succeed())
          this.logger.info({ queue: queue.name }, "storing task results works again");
        for (const entry of batch) entry.resolve(!lost.has(entry.record.id));
        return;
      } catch (error) {
        if (this.giveUp.aborted) {
          this.logger.error(
            { err: error, queue: queue.name, tasks: batch.map((e) => e.record.id) },
            "gave up storing task results at shutdown; the tasks will be reclaimed as crashed",
          );
          for (const entry of batch) entry.reject(error);
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

/**
 * One write of a batch: chained tasks first (only for claims still held, so a
 * refused outcome adds nothing), then the outcomes. Both steps are safe to
 * repeat. Returns the ids the backend refused.
 */
async function writeBatch(
  backend: Backend,
  queue: string,
  batch: readonly Entry[],
): Promise<string[]> {
  const chaining = batch.filter((entry) => entry.children.length > 0);
  let refused = new Set<string>();
  if (chaining.length > 0) {
    refused = new Set(
      await backend.heartbeat(
        queue,
        chaining.map((entry) => entry.record.id),
      ),
    );
    const children = chaining
      .filter((entry) => !refused.has(entry.record.id))
      .flatMap((entry) => entry.children);
    if (children.length > 0) await appendChildren(backend, queue, children);
  }
  const records = batch
    .filter((entry) => !refused.has(entry.record.id))
    .map((entry) => entry.record);
  const lost = await backend.storeResult(queue, records);
  return [...refused, ...lost];
}
