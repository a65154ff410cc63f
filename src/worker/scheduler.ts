/**
 * @module worker/scheduler
 * Moves due scheduled tasks and retries to pending. Safe with many workers:
 * `promoteDue` moves each task exactly once. It looks every `intervalMs`,
 * and sooner when a task falls due before then: at the earliest due time the
 * backend reports after a look (`nextDueAt`), or one its alarm is told of in
 * between (a retry this worker settled, a task scheduled through one of its
 * queues). So a task starts on time rather than up to an interval late;
 * only one another process schedules less than an interval before its time
 * may wait for the next look. A worker's claims start once its first look has
 * ended (`./background-loops.ts`): tasks that fell due while no worker ran
 * then compete by priority with the pending ones from the first claim on.
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
    let soonest: number | undefined;
    for (const queue of queues) {
      const { backend } = queue;
      await backend.promoteDue(queue.name, clock.now());
      const next = (await backend.nextDueAt?.(queue.name)) ?? null;
      if (next !== null && (soonest === undefined || next < soonest)) soonest = next;
    }
    return soonest;
  });
}
