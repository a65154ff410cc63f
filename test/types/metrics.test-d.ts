/**
 * Type-level contract of the metrics API and of the durations the worker's
 * failure events now carry.
 */
import { collectMetrics, PROMETHEUS_CONTENT_TYPE, type Queue, Worker } from "sheppy";
import { describe, expectTypeOf, test } from "vitest";

declare const queue: Queue;

describe("metrics", () => {
  test("collectMetrics takes queues and resolves to the exposition text", () => {
    expectTypeOf(collectMetrics).parameters.toEqualTypeOf<Queue[]>();
    expectTypeOf(collectMetrics(queue, queue)).toEqualTypeOf<Promise<string>>();
    expectTypeOf(PROMETHEUS_CONTENT_TYPE).toBeString();
  });

  test("task:failed and task:retrying carry durationMs, as task:completed does", () => {
    const worker = new Worker(queue);
    worker.on("task:failed", (event) => expectTypeOf(event.durationMs).toEqualTypeOf<number>());
    worker.on("task:retrying", (event) => expectTypeOf(event.durationMs).toEqualTypeOf<number>());
    worker.on("task:completed", (event) => expectTypeOf(event.durationMs).toEqualTypeOf<number>());
  });
});
