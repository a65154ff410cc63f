/**
 * @module testing
 * `sheppy/testing`: run tasks inside tests without a worker or a server, on a clock the test moves.
 */
export { TestClock } from "./test-clock.js";
export { TestQueue } from "./test-queue.js";
export type { TestQueueOptions } from "./test-queue-options.js";
