/**
 * @module worker/work-run
 * The state of one `worker.work()` call, shared by its claim loops, its
 * running attempts and its background loops: the stop signals, the claims
 * `maxTasks` still allows and those left unanswered at the stop, the summary
 * it returns, and the writer that stores its outcomes.
 */
import { setMaxListeners } from "node:events";
import { systemClock } from "../clock.js";
import type { Logger } from "../observability/logger.js";
import { ClaimBudget } from "./claim-budget.js";
import { LateClaims } from "./late-claims.js";
import { ResultWriter } from "./result-writer.js";
import type { HealthBook } from "./worker-health.js";

/** What one `work()` call did. */
export interface WorkSummary {
  /** Attempts that completed. */
  processed: number;
  /** Attempts that failed with no retry left. */
  failed: number;
  /** Attempts that failed and were re-queued for a retry. */
  retried: number;
  /** Tasks of dead workers this worker reclaimed. */
  reclaimed: number;
  /** Running attempts interrupted at shutdown and put back in the queue. */
  interrupted: number;
  /**
   * Running attempts whose function handed its task back at shutdown
   * (threw the `stopping` signal's reason), put back in the queue.
   */
  handedBack: number;
}

/** State of one `work()` call. */
export class WorkRun {
  /** Aborted by `close()`: claim no more. */
  readonly stop = new AbortController();
  /** Aborted by a forced close: stop waiting for running tasks and writes. */
  readonly force = new AbortController();
  /** Aborted when the worker stops waiting for outcomes to be written (forced, or the stop grace ran out). */
  readonly giveUpWrites = new AbortController();
  /** Aborted when `work()` winds down: background loops end. */
  readonly background = new AbortController();
  /** When `close()` was first called (real time): the shutdown grace counts from here. */
  stopRequestedAt = 0;
  /** The first SIGINT/SIGTERM the worker's own handlers received (`handleSignals`). */
  signal: NodeJS.Signals | undefined;
  /** Claims `maxTasks` still allows, shared by the claim loops of every queue. */
  readonly budget: ClaimBudget;
  /** Claim-loop calls not waited for once the run was told to stop. */
  readonly late = new LateClaims();
  /**
   * The put-backs of tasks interrupted at shutdown, until each is settled:
   * one may wait for the event log before it reaches the writer, so the
   * writer being drained does not yet mean they were written.
   */
  readonly puttingBack: Promise<unknown>[] = [];
  readonly summary: WorkSummary = {
    processed: 0,
    failed: 0,
    retried: 0,
    reclaimed: 0,
    interrupted: 0,
    handedBack: 0,
  };
  /** Stores this run's outcomes in batches; gives up on a failing write only when forced to stop. */
  readonly writer: ResultWriter;

  /** Set once the run has connected and announced `worker:started`. */
  started = false;

  constructor(
    maxTasks: number,
    readonly oneshot: boolean,
    logger: Logger,
    health: HealthBook,
  ) {
    // Each queue's claim loop, background loop and running attempt listens on these: their
    // number follows the queues and the concurrency, not the time run, so Node's leak warning
    // (past 10 listeners) would be a false alarm on a worker serving more than a few queues.
    setMaxListeners(
      0,
      this.stop.signal,
      this.force.signal,
      this.giveUpWrites.signal,
      this.background.signal,
    );
    this.budget = new ClaimBudget(maxTasks);
    // Writes are retried in real time, whatever clock the tasks see.
    this.writer = new ResultWriter(systemClock, logger, this.giveUpWrites.signal, health);
    this.force.signal.addEventListener("abort", () => this.giveUpWrites.abort(), { once: true });
  }
}
