/**
 * @module backends/memory/instant-processor
 * The memory backend's "no worker needed" mode: a task added is claimed and
 * run at once, inside the `add` call, exactly as a worker would run it (same
 * executor, middleware and overrides). Retries, scheduled tasks and tasks put
 * off by their rate limit run when due, on the backend's clock.
 */
import type { Clock, Timer } from "../../clock.js";
import { appendChildren } from "../../execution/chained-tasks.js";
import { type ExecutionEnvironment, startAttempt } from "../../execution/execute-task.js";
import { createExecutionEnvironment } from "../../execution/execution-environment.js";
import type { Middleware } from "../../execution/middleware.js";
import type { DependencyOverrides } from "../../execution/run-context.js";
import type { Logger } from "../../observability/logger.js";
import type { TaskData } from "../../task/task-record.js";
import { passRateLimit } from "../../worker/rate-gate.js";
import type { MemoryBackend } from "./memory-backend.js";

export interface InstantProcessorOptions {
  clock: Clock;
  middleware: readonly Middleware[];
  dependencyOverrides: DependencyOverrides | undefined;
  logger: Logger | undefined;
}

/** Claims up to this many pending tasks at a time when draining. */
const DRAIN_BATCH = 100;

export class InstantProcessor {
  readonly #environments = new Map<string, ExecutionEnvironment>();
  readonly #wakeups = new Map<string, { at: number; timer: Timer }>();
  readonly #draining = new Set<string>();
  #stopped = false;

  constructor(
    private readonly backend: MemoryBackend,
    private readonly options: InstantProcessorOptions,
  ) {}

  /** Runs the just-added tasks `ids`, then anything else left pending (immediate retries). */
  async run(queue: string, ids: readonly string[]): Promise<void> {
    for (const data of this.backend.claimIds(queue, ids)) await this.#process(queue, data);
    await this.#drain(queue);
  }

  /** Makes sure the queue is looked at again by `at` (a scheduled task or a delayed retry). */
  wakeAt(queue: string, at: number): void {
    const current = this.#wakeups.get(queue);
    if (current && current.at <= at) return;
    current?.timer.cancel();
    const timer = this.options.clock.setTimer(() => {
      this.#wakeups.delete(queue);
      void this.#runDue(queue);
    }, at - this.options.clock.now());
    this.#wakeups.set(queue, { at, timer });
  }

  /** Runs pending tasks on the next turn (a retry that was due at once). */
  runPendingSoon(queue: string): void {
    if (this.#draining.has(queue)) return;
    setImmediate(() => void this.#drain(queue));
  }

  resume(): void {
    this.#stopped = false;
  }

  stop(): void {
    this.#stopped = true;
    for (const { timer } of this.#wakeups.values()) timer.cancel();
    this.#wakeups.clear();
  }

  async #runDue(queue: string): Promise<void> {
    if (this.#stopped || !this.backend.isConnected) return;
    await this.backend.popScheduled(queue);
    await this.#drain(queue);
    const next = this.backend.nextDue(queue);
    if (next !== undefined) this.wakeAt(queue, next);
  }

  async #drain(queue: string): Promise<void> {
    if (this.#draining.has(queue)) return;
    this.#draining.add(queue);
    try {
      while (!this.#stopped && this.backend.isConnected) {
        const claimed = await this.backend.pop(queue, DRAIN_BATCH);
        if (claimed.length === 0) break;
        for (const data of claimed) await this.#process(queue, data);
      }
    } finally {
      this.#draining.delete(queue);
    }
  }

  async #process(queue: string, data: TaskData): Promise<void> {
    if (data.config.rateLimit) {
      // Rate limits hold here too (RL-11): an over-limit task waits for its slot on a timer.
      const deferred = await passRateLimit(this.backend, queue, data, this.options.clock.now());
      if (deferred) {
        await this.backend.storeResult(queue, [deferred]);
        return;
      }
    }
    const outcome = await startAttempt(data, this.#environment(queue)).outcome;
    if (outcome.children.length > 0) await appendChildren(this.backend, queue, outcome.children);
    await this.backend.storeResult(queue, [outcome.record]);
  }

  #environment(queue: string): ExecutionEnvironment {
    let env = this.#environments.get(queue);
    if (!env) {
      env = createExecutionEnvironment(queue, this.options);
      this.#environments.set(queue, env);
    }
    return env;
  }
}
