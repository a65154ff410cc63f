/**
 * @module cli/event-loop-delay
 * How late this process's event loop ran, between two scrapes of a worker's
 * `/metrics`: a loop blocked by synchronous work (a large JSON parse, a
 * CPU-bound task without `sandbox`) delays every timer, lease renewals among
 * them — a worker blocked for longer than its lease loses its tasks to
 * another. A timer every 20 ms notes how late it fires. (Node's own
 * `monitorEventLoopDelay` drops the first sample after each reset, so a
 * block just after a scrape would go unseen.)
 */
import { performance } from "node:perf_hooks";

/** How often the loop is sampled (ms): a blocked loop shows up as lateness beyond it. */
const RESOLUTION_MS = 20;

export interface EventLoopDelay {
  /** The longest the loop ran late (s) since the last reading; then starts a new window. */
  readMaxSeconds(): number;
  stop(): void;
}

export function watchEventLoopDelay(): EventLoopDelay {
  let last = performance.now();
  let maxMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxMs = Math.max(maxMs, now - last - RESOLUTION_MS);
    last = now;
  }, RESOLUTION_MS);
  // Sampling never keeps a process alive.
  timer.unref();
  return {
    readMaxSeconds() {
      // The lateness of a block still going on when read counts too.
      const seconds = Math.max(maxMs, performance.now() - last - RESOLUTION_MS, 0) / 1000;
      maxMs = 0;
      return seconds;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
