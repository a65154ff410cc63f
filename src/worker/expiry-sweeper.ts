/**
 * @module worker/expiry-sweeper
 * Deletes finished records whose retention (`ttl` / `errorTtl`) ran out,
 * every `intervalMs`. Readers never see an expired record even before this
 * runs; the sweep is what keeps a backend's storage from growing. Safe with
 * many workers: each expired record is deleted once, atomically.
 */
import type { Queue } from "../queue/queue.js";
import { type PeriodicLoopOptions, runPeriodically } from "./periodic-loop.js";

/** The sweeper's queues, and when and how it runs. */
export interface ExpirySweeperOptions extends PeriodicLoopOptions {
  queues: readonly Queue[];
}

/** Runs until `signal` aborts; backend errors back off and are reported. */
export function runExpirySweeper(options: ExpirySweeperOptions): Promise<void> {
  const { queues, clock } = options;
  return runPeriodically(options, async () => {
    for (const queue of queues) await queue.backend.pruneExpired(queue.name, clock.now());
  });
}
