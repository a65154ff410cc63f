/**
 * Type-level contract of dead letters and redrive (checked by `vitest
 * --project types`): `listTasks` takes one status or a list and a cursor and
 * returns a typed page; `retryAll` takes only the statuses it can redrive.
 */
import { Queue, type RetryAllResult, type Task, type TaskList } from "sheppy";
import { describe, expectTypeOf, test } from "vitest";

const queue = new Queue("memory://");

describe("listTasks and retryAll types", () => {
  test("listTasks: a status or a list, a cursor from the last page; a page of Tasks", async () => {
    const page = await queue.listTasks({ status: "failed", limit: 10 });
    expectTypeOf(page).toEqualTypeOf<TaskList>();
    expectTypeOf(page.tasks).toEqualTypeOf<Task[]>();
    expectTypeOf(page.cursor).toEqualTypeOf<string | null>();
    await queue.listTasks({ status: ["failed", "crashed"], cursor: page.cursor });
    await queue.listTasks();
    // @ts-expect-error not a status
    await queue.listTasks({ status: "failing" });
  });

  test("retryAll: failed, crashed or cancelled; since as a Date, ISO text or seconds", async () => {
    expectTypeOf(await queue.retryAll()).toEqualTypeOf<RetryAllResult>();
    expectTypeOf<RetryAllResult>().toEqualTypeOf<{
      retried: number;
      skipped: number;
      endedWorkflowSteps: number;
    }>();
    await queue.retryAll({ status: ["crashed", "cancelled"], since: new Date(), batchSize: 50 });
    await queue.retryAll({ since: "2030-01-01T00:00:00Z" });
    await queue.retryAll({ since: 3600 });
    // @ts-expect-error completed tasks are never redriven in bulk
    await queue.retryAll({ status: "completed" });
  });
});
