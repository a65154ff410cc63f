/**
 * What a task's and a workflow's `result` and `error` hold per status: the
 * types promise an error once failed and none once completed, and a record
 * read back is held to that whatever it says.
 */
import { inspect } from "node:util";
import { Task, type TaskData, task, Workflow, type WorkflowData, workflow } from "sheppy";
import { describe, expect, test } from "vitest";

const add = task({ name: "status-fields.add" }, (a: number, b: number) => a + b);
const flow = workflow({ name: "status-fields.flow" }, function* (n: number) {
  yield* [];
  return n;
});

const storedError = { type: "Error", message: "boom", stack: null, cause: null };

function taskWith(changes: Partial<TaskData>): TaskData {
  return { ...add(1, 2).toJSON(), ...changes };
}

function workflowWith(changes: Partial<WorkflowData>): WorkflowData {
  return { ...flow(1).toJSON(), ...changes };
}

describe("a task's fields per status", () => {
  test("a failed or crashed record stored without an error reads back with one", () => {
    for (const status of ["failed", "crashed"] as const) {
      const read = new Task(taskWith({ status, error: null }), null);
      expect(read.status).toBe(status);
      expect(read.error?.message).toBe(`the task ${status} with no error recorded`);
    }
  });

  test("a completed record has no error and keeps its result; other statuses have no result", () => {
    const done = new Task(taskWith({ status: "completed", result: 3, error: storedError }), 3);
    expect(done.error).toBeNull();
    expect(done.result).toBe(3);
    const retrying = new Task(taskWith({ status: "retrying", error: storedError }), 3);
    expect(retrying.result).toBeNull();
    expect(retrying.error?.message).toBe("boom");
    expect(new Task(taskWith({ status: "pending" }), null).error).toBeNull();
  });

  test("a task and a workflow show their public names when inspected", () => {
    expect(inspect(add(1, 2))).toMatch(/^Task \{/);
    expect(add(1, 2)).toBeInstanceOf(Task);
    expect(inspect(flow(1))).toMatch(/^Workflow \{/);
    expect(flow(1)).toBeInstanceOf(Workflow);
  });
});

describe("a workflow's fields per status", () => {
  test("failed without an error reads back with one; completed has none", () => {
    const failed = new Workflow(workflowWith({ status: "failed", error: null }), null);
    expect(failed.error?.message).toBe("the workflow failed with no error recorded");
    const done = new Workflow(workflowWith({ status: "completed", error: storedError }), 1);
    expect(done.error).toBeNull();
    expect(done.result).toBe(1);
    expect(new Workflow(workflowWith({ status: "running" }), 1).result).toBeNull();
  });
});
