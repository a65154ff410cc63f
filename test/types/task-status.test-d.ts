/**
 * Type-level contract of a task's and a workflow's status: checking `status`
 * narrows `result` and `error`, and `Task<R, S>` names a task of known status.
 */
import {
  type FinishedTaskStatus,
  type Queue,
  step,
  Task,
  type TaskError,
  task,
  Workflow,
  workflow,
} from "sheppy";
import { describe, expectTypeOf, test } from "vitest";
import { z } from "zod";

const add = task({ name: "ts.add" }, (a: number, b: number) => a + b);
const lookup = task({ name: "ts.lookup" }, async (id: string) => ({ id, email: `${id}@x` }));
const nothing = task({ name: "ts.nothing" }, () => {});
const flow = workflow({ name: "ts.flow" }, function* (n: number) {
  const sum = yield* step(add(n, n));
  return sum.status === "completed" ? sum.result : 0;
});
declare const queue: Queue;

describe("a record read back by id is narrowed by its factory's is()", () => {
  test("is() narrows unknown to the factory's result, and status then narrows it further", async () => {
    const record = await queue.getTask("some-id");
    expectTypeOf(record).toEqualTypeOf<Task | null>();
    if (lookup.is(record)) {
      expectTypeOf(record).toEqualTypeOf<
        Task<{ id: string; email: string }> & { readonly args: readonly [id: string] }
      >();
      expectTypeOf(record.args[0]).toEqualTypeOf<string>();
      if (record.status === "completed") {
        expectTypeOf(record.result).toEqualTypeOf<{ id: string; email: string }>();
      }
    }
  });

  test("is() narrows a schema task's arguments to what the schema stores, not what it takes", async () => {
    const charge = task(
      { name: "ts.charge", args: z.tuple([z.string(), z.coerce.number()]) },
      (email, cents) => `${email}:${cents}`,
    );
    expectTypeOf(charge).parameters.toEqualTypeOf<[string, unknown]>();
    const record = await queue.getTask("some-id");
    if (charge.is(record)) {
      expectTypeOf(record.args[0]).toEqualTypeOf<string>();
      expectTypeOf(record.args[1]).toEqualTypeOf<number>();
    }
  });

  test("is() narrows the arguments too, in an event's task", () => {
    const worker = {} as import("sheppy").Worker;
    worker.on("task:failed", ({ task: failed }) => {
      expectTypeOf(failed.args).toEqualTypeOf<readonly import("sheppy").JsonValue[]>();
      if (add.is(failed)) {
        expectTypeOf(failed.args[0]).toEqualTypeOf<number>();
        expectTypeOf(failed.args[1]).toEqualTypeOf<number>();
        // @ts-expect-error: the first argument is a number, not text
        failed.args[0].toUpperCase();
      }
    });
  });
});

describe("a task's status narrows its result and error", () => {
  test("completed: the result is R, the error null", async () => {
    const done = await queue.waitFor(add(1, 2));
    expectTypeOf(done.result).toEqualTypeOf<number | null>();
    if (done.status === "completed") {
      expectTypeOf(done.result).toEqualTypeOf<number>();
      expectTypeOf(done.error).toEqualTypeOf<null>();
    }
    const profile = await queue.waitFor(lookup("u1"));
    if (profile.status === "completed") expectTypeOf(profile.result.email).toEqualTypeOf<string>();
    const empty = await queue.waitFor(nothing());
    if (empty.status === "completed") expectTypeOf(empty.result).toEqualTypeOf<null>();
  });

  test("failed and crashed: the error is always there, the result null", async () => {
    const done = await queue.waitFor(add(1, 2));
    if (done.status === "failed" || done.status === "crashed") {
      expectTypeOf(done.error).toEqualTypeOf<TaskError>();
      expectTypeOf(done.result).toEqualTypeOf<null>();
    }
    if (done.status === "cancelled") expectTypeOf(done.error).toEqualTypeOf<TaskError | null>();
    const stored = await queue.getTask(add(1, 2));
    if (stored?.status === "retrying" || stored?.status === "pending")
      expectTypeOf(stored.error).toEqualTypeOf<TaskError | null>();
  });

  test("waitFor hands back a finished task; a switch over the finished statuses is exhaustive", async () => {
    const done = await queue.waitFor(add(1, 2));
    switch (done.status) {
      case "completed":
      case "failed":
      case "crashed":
      case "cancelled":
        break;
      default:
        expectTypeOf(done).toEqualTypeOf<never>();
    }
    // @ts-expect-error a finished task is never pending
    const pending: "pending" = done.status;
    void pending;
    const cancelled = await queue.cancel(add(1, 2));
    expectTypeOf(cancelled.status).toEqualTypeOf<"cancelled">();
  });

  test("reading the result without checking the status still says it may be null", async () => {
    const done = await queue.waitFor(add(1, 2));
    // @ts-expect-error the task may not have completed
    const n: number = done.result;
    void n;
  });

  test("Task<R, S> is a task of known status; the tasks of a list narrow one by one", async () => {
    expectTypeOf<Task<number, "completed">["result"]>().toEqualTypeOf<number>();
    expectTypeOf<Task<number, FinishedTaskStatus>["status"]>().toEqualTypeOf<FinishedTaskStatus>();
    const tasks = await queue.waitFor([add(1, 2), lookup("u")] as const);
    const [sum, user] = tasks;
    if (sum.status === "completed" && user.status === "completed") {
      expectTypeOf(sum.result).toEqualTypeOf<number>();
      expectTypeOf(user.result.id).toEqualTypeOf<string>();
    }
    const completed = (await queue.getTask(add(1, 2)))?.status;
    expectTypeOf(completed).toEqualTypeOf<Task["status"] | undefined>();
  });

  test("instanceof Task still recognises a task", () => {
    const value: unknown = add(1, 2);
    if (value instanceof Task) expectTypeOf(value).toEqualTypeOf<Task>();
  });
});

describe("a workflow's status narrows its result and error", () => {
  test("completed and failed", async () => {
    const done = await queue.waitForWorkflow(flow(1));
    expectTypeOf(done.result).toEqualTypeOf<number | null>();
    if (done.status === "completed") expectTypeOf(done.result).toEqualTypeOf<number>();
    if (done.status === "failed") expectTypeOf(done.error).toEqualTypeOf<TaskError>();
    const value: unknown = done;
    if (value instanceof Workflow) expectTypeOf(value).toEqualTypeOf<Workflow>();
  });
});
