/**
 * @module worker/expiry-sweeper
 * Deletes finished records whose retention (`ttl` / `errorTtl`) ran out,
 * every `intervalMs`. Readers never see an expired record even before this
 * runs; the sweep is what keeps a backend's storage from growing. Safe with
 * many workers: each expired record is deleted once, atomically.
 */
import type { Clock } from "../clock.js";
import type { Queue } from "../queue/queue.js";
import { Backoff } from "./backoff.js";

export interface ExpirySweeperOptions {
  queues: readonly Queue[];
  clock: Clock;
  intervalMs: number;
  signal: AbortSignal;
  onError: (error: unknown, first: boolean) => void;
}

export async function runExpirySweeper(options: ExpirySweeperOptions): Promise<void> {
  const { queues, clock, intervalMs, signal } = options;
  const backoff = new Backoff();
  while (!signal.aborted) {
    let delayMs = intervalMs;
    try {
      for (const queue of queues) await queue.backend.pruneExpired(queue.name, clock.now());
      backoff.succeed();
    } catch (error) {
      const failure = backoff.fail();
      options.onError(error, failure.first);
      delayMs = Math.max(intervalMs, failure.delayMs);
    }
    await clock.sleep(delayMs, signal);
  }
}
