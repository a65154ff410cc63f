/**
 * @module worker/scheduler
 * Moves due scheduled tasks and retries to pending, every `intervalMs`. Safe
 * with many workers: `popScheduled` moves each task exactly once.
 */
import type { Clock } from "../clock.js";
import type { Queue } from "../queue/queue.js";
import { Backoff } from "./backoff.js";

export interface SchedulerOptions {
  queues: readonly Queue[];
  clock: Clock;
  intervalMs: number;
  signal: AbortSignal;
  onError: (error: unknown, first: boolean) => void;
  onRecovered: () => void;
}

export async function runScheduler(options: SchedulerOptions): Promise<void> {
  const { queues, clock, intervalMs, signal } = options;
  const backoff = new Backoff();
  while (!signal.aborted) {
    let delayMs = intervalMs;
    try {
      for (const queue of queues) await queue.backend.popScheduled(queue.name, clock.now());
      if (backoff.succeed()) options.onRecovered();
    } catch (error) {
      const failure = backoff.fail();
      options.onError(error, failure.first);
      delayMs = Math.max(intervalMs, failure.delayMs);
    }
    await clock.sleep(delayMs, signal);
  }
}
