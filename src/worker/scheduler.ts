/**
 * @module worker/scheduler
 * Moves due scheduled tasks and retries to pending, every `intervalMs`. Safe
 * with many workers: `promoteDue` moves each task exactly once.
 */
import type { Queue } from "../queue/queue.js";
import { type PeriodicLoopOptions, runPeriodically } from "./periodic-loop.js";

/** The scheduler's queues, and when and how it runs. */
export interface SchedulerOptions extends PeriodicLoopOptions {
  queues: readonly Queue[];
}

/** Runs until `signal` aborts; backend errors back off and are reported. */
export function runScheduler(options: SchedulerOptions): Promise<void> {
  const { queues, clock } = options;
  return runPeriodically(options, async () => {
    for (const queue of queues) await queue.backend.promoteDue(queue.name, clock.now());
  });
}
