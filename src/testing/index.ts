/**
 * @module testing
 * `sheppy/testing`: run tasks inside tests without a worker or a server, on a clock the test moves.
 */
export { TestClock } from "./test-clock.js";
export { TestQueue, type TestQueueOptions } from "./test-queue.js";
