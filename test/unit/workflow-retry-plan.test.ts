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
  it("renames exactly the last yield's steps that did not complete, waits for nothing, and adds one resume", () => {
    fc.assert(
      fc.property(endings, (yields) => {
        const stored = failedWorkflow(yields);
        const plan = workflowRetryPlan(stored, NOW);
        const last = yields.length - 1;
        const again = stored.record.steps.filter(
          (s) => s.yield === last && stored.outcomes.get(s.taskId)!.status !== "completed",
        );
        const againIds = new Set(again.map((s) => s.taskId));
        expect(plan.failedAt).toBe(stored.record.finishedAt);
        expect(plan.replaced).toEqual(again.map((s) => s.taskId));
        expect(plan.record).toMatchObject({
          status: "running",
          pending: [],
          error: null,
          result: null,
          finishedAt: null,
          effects: stored.record.effects,
          retryCount: 1,
        });
        const renamed = new Set<string>();
        plan.record.steps.forEach((step, i) => {
          const before = stored.record.steps[i]!;
          expect({ ...step, taskId: "" }).toEqual({ ...before, taskId: "" });
          if (againIds.has(before.taskId)) {
            expect(stored.outcomes.has(step.taskId)).toBe(false);
            renamed.add(step.taskId);
          } else expect(step.taskId).toBe(before.taskId);
        });
        expect(renamed.size).toBe(again.length);
        expect(plan.tasks).toHaveLength(1);
        expect(isResumeTaskName(plan.tasks[0]!.name)).toBe(true);
        expect(plan.tasks[0]).toMatchObject({
          status: "pending",
          args: ["wf"],
          workflowId: "wf",
          createdAt: isoAt(NOW),
        });
        const again4 = { ...stored, record: { ...stored.record, retryCount: 4 } };
        expect(workflowRetryPlan(again4, NOW).record.retryCount).toBe(5);
      }),
    );
  });
});
