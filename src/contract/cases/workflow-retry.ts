/**
 * Running a failed workflow again (`queue.retryWorkflow`): the steps of its
 * last yield that did not complete run again as new tasks and it goes on
 * from there; a workflow whose last steps all completed replays at once;
 * failures its body handled earlier stay handled; completed steps never run
 * again; only a failed workflow is retried, once however many callers race.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  all,
  type QueueEvent,
  step,
  TaskStateError,
  task,
  WorkflowNotFoundError,
  workflow,
} from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { logOf } from "../support/event-log.js";
import { PerTest } from "../support/until.js";

/** What a test's steps and body do: flipped between the failed run and the retry. */
const fixes = new PerTest<{ stepFails: boolean; bodyThrows: boolean; runs: Map<string, number> }>(
  () => ({ stepFails: true, bodyThrows: true, runs: new Map() }),
);
const ran = (token: string, what: string) => {
  const runs = fixes.get(token).runs;
  runs.set(what, (runs.get(what) ?? 0) + 1);
};

const counted = task({ name: "workflow-retry.counted" }, (token: string, n: number) => {
  ran(token, `counted ${n}`);
  return n;
});
const fragile = task({ name: "workflow-retry.fragile" }, (token: string, n: number): number => {
  ran(token, `fragile ${n}`);
  if (fixes.get(token).stepFails) throw new RangeError(`fragile ${n} broke`);
  return n * 10;
});

/** A fan-out with one step that fails until fixed; the body gives up on it. */
const fanIn = workflow({ name: "workflow-retry.fan-in" }, function* (token: string) {
  const [a, b, c] = yield* all([counted(token, 1), fragile(token, 2), counted(token, 3)]);
  if (b.status !== "completed") throw new Error(`step b ${b.status}: ${b.error?.message}`);
  const sum = yield* step(counted(token, a.result! + b.result! + c.result!));
  return sum.result;
});

/** Handles a failed step, then throws on its own until fixed (a bug in the body). */
const buggy = workflow({ name: "workflow-retry.buggy" }, function* (token: string) {
  const first = yield* step(fragile(token, 1));
  const fallback = yield* step(counted(token, first.status === "completed" ? 0 : 7));
  if (fixes.get(token).bodyThrows) throw new TypeError("the body has a bug");
  return `fell back to ${fallback.result}`;
});

const typesOf = (log: readonly QueueEvent[], id: string) =>
  log.filter((event) => event.taskId === id).map((event) => event.type);

export function workflowRetryCases(h: ContractHarness): void {
  const drain = async (queue: ReturnType<ContractHarness["queue"]>) => {
    await h.worker(queue).work({ oneshot: true });
  };

  describe("retrying a failed workflow", () => {
    it("the failed step of the last yield runs again as a new task; completed steps do not; the workflow goes on", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const wf = await queue.addWorkflow(fanIn(token));
      await drain(queue);
      const failed = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect(failed.status).toBe("failed");
      expect(failed.error?.message).toBe("step b failed: fragile 2 broke");
      const before = failed.steps.map((s) => s.taskId);

      fixes.get(token).stepFails = false;
      const retried = await queue.retryWorkflow(failed);
      if (retried.status === "running") {
        // A backend that runs tasks as they are added may have finished it already.
        expect(retried.error).toBeNull();
        expect(retried.finishedAt).toBeNull();
        expect(retried.steps.map((s) => s.taskId)).toEqual([
          before[0],
          retried.steps[1]!.taskId,
          before[2],
        ]);
        expect(retried.steps[1]!.taskId).not.toBe(before[1]);
        // A worker's replay asks for it again: nothing is waited for until then.
        expect(retried.pending).toEqual([]);
      }
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect([done.status, done.result]).toEqual(["completed", 24]);
      expect(done.steps).toHaveLength(4);
      expect(done.steps[1]!.taskId).not.toBe(before[1]);
      expect(Object.fromEntries(fixes.get(token).runs)).toEqual({
        "counted 1": 1,
        "counted 3": 1,
        "fragile 2": 2,
        "counted 24": 1,
      });
      // The failed run's step record went with the retry; the workflow reads the new one in its place.
      expect(await queue.getTask([before[1]!])).toEqual([null]);
      const steps = await queue.getWorkflowSteps(wf);
      expect(steps.map((t) => t?.status)).toEqual([
        "completed",
        "completed",
        "completed",
        "completed",
      ]);
      expect(steps[1]?.args).toEqual([token, 2]);
      expect(steps[1]?.workflowId).toBe(wf.id);
      const backend = await queue.connect();
      if (backend.eventCap > 0) {
        const log = await logOf(backend, queue.name);
        expect(typesOf(log, wf.id)).toEqual([
          "workflow:added",
          "workflow:failed",
          "workflow:retried",
          "workflow:completed",
        ]);
        // The workflow's run: one more for its retry.
        expect(log.filter((e) => e.taskId === wf.id).map((e) => e.attempt)).toEqual([1, 1, 2, 2]);
        const retriedAt = log.findIndex((e) => e.type === "workflow:retried");
        // The resume that replays it is added with the retry; the step, by that replay.
        expect(log[retriedAt + 1]).toMatchObject({
          type: "added",
          taskName: "workflow:workflow-retry.fan-in",
        });
        const stepAdded = log.findIndex(
          (e) => e.type === "added" && e.taskId === done.steps[1]!.taskId,
        );
        expect(stepAdded).toBeGreaterThan(retriedAt);
      }
    });

    it("a workflow whose last steps completed replays at once; a failure its body handled stays handled", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const wf = await queue.addWorkflow(buggy(token));
      await drain(queue);
      const failed = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect([failed.status, failed.error?.message]).toEqual(["failed", "the body has a bug"]);

      fixes.get(token).bodyThrows = false;
      fixes.get(token).stepFails = false;
      const retried = await queue.retryWorkflow(failed.id);
      expect(retried.steps.map((s) => s.taskId)).toEqual(failed.steps.map((s) => s.taskId));
      // The handled failure's step is not run again by hand beside the running workflow either.
      const handled = failed.steps[0]!.taskId;
      await expect(queue.retry(handled)).rejects.toMatchObject({
        name: "TaskStateError",
        reason: "workflow-step",
        id: handled,
        message: `Cannot retry task ${handled}: it is a step of workflow ${wf.id}, which already went on from its outcome, so running it again would change nothing in the workflow`,
      });
      expect(await queue.retryAll({ name: "workflow-retry.fragile" })).toEqual({
        retried: 0,
        skipped: 1,
        endedWorkflowSteps: 1,
      });
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      // The fragile step failed in an earlier yield the body went on from: it is not run again.
      expect([done.status, done.result]).toEqual(["completed", "fell back to 7"]);
      expect(Object.fromEntries(fixes.get(token).runs)).toEqual({ "fragile 1": 1, "counted 7": 1 });
    });

    it("a retried workflow that fails again can be retried again", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const wf = await queue.addWorkflow(fanIn(token));
      await drain(queue);
      const first = await queue.waitForWorkflow(wf, { timeout: 10 });
      await queue.retryWorkflow(first);
      await drain(queue);
      const second = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect(second.status).toBe("failed");
      expect(second.steps[1]!.taskId).not.toBe(first.steps[1]!.taskId);
      fixes.get(token).stepFails = false;
      await queue.retryWorkflow(second);
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect([done.status, done.result]).toEqual(["completed", 24]);
      expect([first.retryCount, second.retryCount, done.retryCount]).toEqual([0, 1, 2]);
      expect(fixes.get(token).runs.get("fragile 2")).toBe(3);
      expect(new Set(done.steps.map((s) => s.taskId)).size).toBe(4);
    });

    it("only a failed workflow is retried: running, completed, cancelled and unknown ones are refused", async () => {
      const queue = h.queue();
      const token = randomUUID();
      fixes.get(token).stepFails = false;
      const running = await queue.addWorkflow(fanIn(token));
      await expect(queue.retryWorkflow(running)).rejects.toMatchObject({
        name: "TaskStateError",
        reason: "running",
        status: "running",
        message: `Cannot retry workflow ${running.id}: only a failed workflow is retried, and it is still running`,
      });
      await drain(queue);
      await queue.waitForWorkflow(running, { timeout: 10 });
      await expect(queue.retryWorkflow(running.id)).rejects.toThrow(
        /only a failed workflow is retried, and it completed; add it anew to run it again$/,
      );
      const other = await queue.addWorkflow(fanIn(randomUUID()));
      await queue.cancelWorkflow(other);
      await expect(queue.retryWorkflow(other)).rejects.toThrow(
        /only a failed workflow is retried, and it was cancelled; add it anew to run it again$/,
      );
      await expect(queue.retryWorkflow(randomUUID())).rejects.toThrow(WorkflowNotFoundError);
      // A step's id is named as one.
      const stepId = running.steps[0]!.taskId;
      await expect(queue.retryWorkflow(stepId)).rejects.toMatchObject({
        reason: "workflow-step",
        message: `Cannot retry workflow ${stepId}: it is a task of workflow ${running.id}, not a workflow; retry the workflow (sheppy workflow retry ${running.id})`,
      });
      await expect(queue.retryWorkflow("")).rejects.toThrow(
        /^queue\.retryWorkflow\(\) expects a Workflow or a workflow id; got /,
      );
    });

    it("retryWorkflows runs every failed workflow of some names, or that failed since a time, again, once each", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const flows = [];
      for (let i = 0; i < 3; i++) flows.push(await queue.addWorkflow(fanIn(token)));
      const other = randomUUID();
      const bug = await queue.addWorkflow(buggy(other));
      const fine = randomUUID();
      fixes.get(fine).stepFails = false;
      const completed = await queue.addWorkflow(fanIn(fine));
      await drain(queue);
      const ended = await queue.waitForWorkflow([...flows, bug, completed], { timeout: 10 });
      expect(ended.map((w) => w.status)).toEqual([
        "failed",
        "failed",
        "failed",
        "failed",
        "completed",
      ]);
      // Failed at or after now: none yet.
      expect(await queue.retryWorkflows({ since: 0 })).toEqual({ retried: 0, skipped: 0 });
      fixes.get(token).stepFails = false;
      expect(await queue.retryWorkflows({ name: "workflow-retry.fan-in", batchSize: 2 })).toEqual({
        retried: 3,
        skipped: 0,
      });
      expect((await queue.getWorkflow(bug))?.status).toBe("failed");
      await drain(queue);
      const done = await queue.waitForWorkflow(flows, { timeout: 10 });
      expect(done.map((w) => [w.status, w.result, w.retryCount])).toEqual(
        flows.map(() => ["completed", 24, 1]),
      );
      fixes.get(other).bodyThrows = false;
      expect(await queue.retryWorkflows({ since: 3600 })).toEqual({ retried: 1, skipped: 0 });
      await drain(queue);
      expect((await queue.waitForWorkflow(bug, { timeout: 10 })).result).toBe("fell back to 7");
      expect(await queue.retryWorkflows()).toEqual({ retried: 0, skipped: 0 });
      await expect(queue.retryWorkflows({ names: "x" } as never)).rejects.toThrow(
        /^queue\.retryWorkflows\(\): unknown option 'names'/,
      );
    });

    it("of several callers retrying one failed workflow at once, one runs it again and the others are refused", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const wf = await queue.addWorkflow(fanIn(token));
      await drain(queue);
      const failed = await queue.waitForWorkflow(wf, { timeout: 10 });
      fixes.get(token).stepFails = false;
      const others = [queue, h.sibling(queue), h.sibling(queue)];
      const outcomes = await Promise.allSettled(others.map((q) => q.retryWorkflow(failed)));
      const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
      expect(refused).toHaveLength(2);
      for (const reason of refused) expect(reason).toBeInstanceOf(TaskStateError);
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect([done.status, done.result]).toEqual(["completed", 24]);
      expect(fixes.get(token).runs.get("fragile 2")).toBe(2);
      expect(await queue.size()).toBe(0);
    });
  });
}
