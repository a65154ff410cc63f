/**
 * @module worker/worker-clock
 * The clock a worker goes by: its queues'. A worker on another clock than
 * its queue stamps what it finishes by one time while the queue reads by
 * another — a test clock set in 2030 on the queue alone made every finished
 * record look expired the moment it was stored. So a worker given no clock
 * takes its queues' (a test clock passed to the queue is enough), and one
 * given a clock that a queue's test clock contradicts is refused.
 */
import { type Clock, systemClock } from "../clock.js";
import { InvalidOptionError } from "../errors.js";
import type { Queue } from "../queue/queue.js";

/** The clock for a worker of `queues` given `given` (its `clock` option). */
export function workerClock(queues: readonly Queue[], given: unknown): unknown {
  const own = [...new Set(queues.map((queue) => queue.clock))].filter(
    (clock) => clock !== systemClock,
  );
  if (own.length > 1) {
    throw new InvalidOptionError(
      "new Worker(): its queues run on different clocks; give them one clock (new Queue(url, { clock }) for each)",
    );
  }
  const shared = own[0] as Clock | undefined;
  if (given === undefined) return shared;
  // Not a clock at all: the option's own check says so.
  const isClock = typeof (given as { now?: unknown } | null)?.now === "function";
  if (isClock && shared !== undefined && given !== shared) {
    throw new InvalidOptionError(
      "new Worker(): the clock option is not its queue's clock; pass the queue's (or leave it out: a worker takes its queue's clock)",
    );
  }
  return given;
}
