/**
 * @module testing
 * `sheppy/testing`: run tasks inside tests without a worker or a server.
 */
export { TestQueue, type TestQueueOptions } from "./test-queue.js";
