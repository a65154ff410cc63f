/**
 * What a retry of a failed workflow writes, for any shape of its steps: the
 * steps of its last yield that did not complete get new ids and are waited
 * for, every other step keeps its id and outcome, and a workflow with
 * nothing to run again gets one resume task instead.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StoredWorkflow } from "../../src/backends/backend.js";
import { isoAt } from "../../src/clock.js";
import { workflowRetryPlan } from "../../src/execution/workflow-retry.js";
import { TaskStateError } from "../../src/index.js";
import { newTaskData, type TaskData } from "../../src/task/task-record.js";
import type { WorkflowData, WorkflowStep } from "../../src/task/workflow-record.js";
import { isResumeTaskName } from "../../src/task/workflow-resume-task.js";

type Ending = "completed" | "failed" | "crashed" | "cancelled";
const NOW = Date.UTC(2026, 11, 7, 12);

/** A failed workflow whose steps come in yields, each step ended as `endings` say. */
function failedWorkflow(yields: readonly (readonly Ending[])[]): StoredWorkflow {
  const steps: WorkflowStep[] = [];
  const outcomes = new Map<string, TaskData>();
  yields.forEach((endings, y) => {
    for (const ending of endings) {
      const index = steps.length;
      const taskId = `step-${index}`;
      steps.push({ taskId, index, yield: y, name: "plan.step", argsHash: `h${index}` });
      const base = newTaskData(taskId, "plan.step", [index], {} as TaskData["config"], NOW - 1000, {
        workflowId: "wf",
        priority: index % 3,
      });
      outcomes.set(taskId, {
        ...base,
        status: ending,
        meta: { "sheppy.workflow": "plan.flow" },
        result: ending === "completed" ? index : null,
        error:
          ending === "completed" ? null : { type: "Error", message: "x", stack: null, cause: null },
        startedAt: isoAt(NOW - 900),
        finishedAt: isoAt(NOW - 800),
        retryCount: 2,
        manualRetryCount: 1,
        progress: 50,
        logs: ["a line"],
      });
    }
  });
  const record: WorkflowData = {
    v: 1,
    id: "wf",
    name: "plan.flow",
    args: [],
    status: "failed",
    steps,
    pending: [],
    effects: [{ value: 1 }],
    result: null,
    error: { type: "Error", message: "gave up", stack: null, cause: null },
    config: {},
    createdAt: isoAt(NOW - 2000),
    finishedAt: isoAt(NOW - 500),
  };
  return { record, outcomes };
}

const endings = fc.array(
  fc.array(fc.constantFrom<Ending>("completed", "failed", "crashed", "cancelled"), {
    minLength: 1,
    maxLength: 5,
  }),
  { maxLength: 5 },
);

describe("workflowRetryPlan", () => {
  it("renames and waits for exactly the last yield's steps that did not complete; keeps every other step", () => {
    fc.assert(
      fc.property(endings, (yields) => {
        const stored = failedWorkflow(yields);
        const plan = workflowRetryPlan(stored, new Map(), NOW);
        const last = yields.length - 1;
        const again = stored.record.steps.filter(
          (s) => s.yield === last && stored.outcomes.get(s.taskId)!.status !== "completed",
        );
        const againIds = new Set(again.map((s) => s.taskId));
        expect(plan.failedAt).toBe(stored.record.finishedAt);
        expect(plan.dropOutcomes).toEqual(again.map((s) => s.taskId));
        expect(plan.record).toMatchObject({
          status: "running",
          error: null,
          result: null,
          finishedAt: null,
          effects: stored.record.effects,
          retryCount: 1,
        });
        const again4 = { ...stored, record: { ...stored.record, retryCount: 4 } };
        expect(workflowRetryPlan(again4, new Map(), NOW).record.retryCount).toBe(5);
        plan.record.steps.forEach((step, i) => {
          const before = stored.record.steps[i]!;
          expect({ ...step, taskId: "" }).toEqual({ ...before, taskId: "" });
          if (againIds.has(before.taskId)) expect(step.taskId).not.toBe(before.taskId);
          else expect(step.taskId).toBe(before.taskId);
        });
        const renamed = plan.record.steps.filter(
          (s, i) => s.taskId !== stored.record.steps[i]!.taskId,
        );
        expect(plan.record.pending).toEqual(renamed.map((s) => s.taskId));
        expect(new Set(plan.record.pending).size).toBe(plan.record.pending.length);
        if (again.length === 0) {
          expect(plan.tasks).toHaveLength(1);
          expect(isResumeTaskName(plan.tasks[0]!.name)).toBe(true);
          expect(plan.tasks[0]).toMatchObject({
            status: "pending",
            args: ["wf"],
            workflowId: "wf",
          });
          return;
        }
        expect(plan.tasks.map((t) => t.id)).toEqual(plan.record.pending);
        plan.tasks.forEach((task, i) => {
          const before = stored.outcomes.get(again[i]!.taskId)!;
          // The same task, arguments and options; nothing of its runs.
          expect(task).toMatchObject({
            name: before.name,
            args: before.args,
            priority: before.priority,
            workflowId: "wf",
            meta: before.meta,
            status: "pending",
            result: null,
            error: null,
            startedAt: null,
            finishedAt: null,
            retryCount: 0,
            createdAt: isoAt(NOW),
          });
          expect(task).not.toHaveProperty("progress");
          expect(task).not.toHaveProperty("logs");
          expect(task).not.toHaveProperty("manualRetryCount");
        });
      }),
    );
  });

  it("a step to run again whose record is gone (no outcome kept, none live) is a TaskStateError naming it", () => {
    const stored = failedWorkflow([["completed"], ["failed"]]);
    (stored.outcomes as Map<string, TaskData>).delete("step-1");
    expect(() => workflowRetryPlan(stored, new Map(), NOW)).toThrow(
      new TaskStateError(
        "Cannot retry workflow wf: the record of its step 1 (task 'plan.step', id step-1) is gone, so it cannot be asked for again; start the workflow anew instead",
      ),
    );
    // A live record of it stands in for the outcome.
    const live = failedWorkflow([["completed"], ["failed"]]).outcomes.get("step-1")!;
    const plan = workflowRetryPlan(stored, new Map([["step-1", live]]), NOW);
    expect(plan.tasks[0]?.args).toEqual([1]);
  });
});
