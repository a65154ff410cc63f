import { Queue, type TaskError, type TaskEvent, Worker } from "sheppy";
import { describe, expectTypeOf, test } from "vitest";

describe("worker events are typed by name", () => {
  const worker = new Worker(new Queue("memory://"));

  test("a known event's listener gets its payload", () => {
    worker.on("task:completed", (event) => {
      expectTypeOf(event).toEqualTypeOf<TaskEvent<"completed"> & { readonly durationMs: number }>();
      expectTypeOf(event.task.result).toEqualTypeOf<unknown>();
      expectTypeOf(event.task.error).toEqualTypeOf<null>();
    });
    worker.on("task:failed", ({ task }) => {
      if (task.status !== "cancelled") expectTypeOf(task.error).toEqualTypeOf<TaskError>();
      // @ts-expect-error a failed task is never completed
      const completed: "completed" = task.status;
      void completed;
    });
    worker.on("task:interrupted", ({ task }) => {
      expectTypeOf(task.status).toEqualTypeOf<"pending">();
    });
    worker.once("worker:stopped", ({ processed }) => {
      expectTypeOf(processed).toEqualTypeOf<number>();
    });
  });

  test("a misspelt event name does not compile (it would never fire)", () => {
    // @ts-expect-error 'task:complete' is not one of the worker's events
    worker.on("task:complete", () => {});
    // @ts-expect-error likewise for once, off, addListener and removeListener
    worker.once("started", () => {});
    const listener = () => {};
    // @ts-expect-error
    worker.off("task:fail", listener);
    // @ts-expect-error
    worker.addListener("error", listener);
    // @ts-expect-error
    worker.removeListener("task:progressed", listener);
  });
});
