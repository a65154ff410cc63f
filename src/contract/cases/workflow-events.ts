/**
 * The event log of workflows: every task a workflow adds — its first steps,
 * the steps a resume asks for, and each resume — appends its `added` in the
 * same atomic step as the task, and only when the task is added; cancelling
 * a workflow appends `cancelled` for each step it cancels. So a listener
 * hears of every task of a workflow before it starts, as of any other task.
 * The workflow itself appends `workflow:added` when stored and
 * `workflow:completed` / `failed` / `cancelled` when it ends, each with the
 * write that does it.
 */

import { describe, expect, it } from "vitest";
import { all, type QueueEvent, step, task, workflow } from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { logOf } from "../support/event-log.js";

const add = task({ name: "workflow-events.add" }, (a: number, b: number) => a + b);

const twoSteps = workflow({ name: "workflow-events.two-steps" }, function* (x: number) {
  const first = yield* step(add(x, 1));
  const second = yield* step(add(first.result!, 10));
  return second.result;
});
const fanOut = workflow({ name: "workflow-events.fan-out" }, function* (n: number) {
  const done = yield* all(Array.from({ length: n }, (_, i) => add(i, 1000)));
  return done.map((t) => t.result);
});
const throwing = workflow({ name: "workflow-events.throwing" }, function* () {
  const t = yield* step(add(1, 1));
  throw new RangeError(`gave up after ${t.result}`);
});
// biome-ignore lint/correctness/useYield: a workflow that asks for no step completes when added.
const immediate = workflow({ name: "workflow-events.immediate" }, function* (x: number) {
  return x * 2;
});

const RESUME = "workflow:";

/** The log's events grouped by task, each task's types in log order. */
function byTask(log: readonly QueueEvent[]): Map<string, string[]> {
  const tasks = new Map<string, string[]>();
  for (const event of log) {
    const types = tasks.get(event.taskId) ?? [];
    types.push(event.type);
    tasks.set(event.taskId, types);
  }
  return tasks;
}

export function workflowEventCases(h: ContractHarness): void {
  describe("workflow events", () => {
    it("EV-20 a workflow run to its end: every step and every resume is `added` before it starts, once", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const wf = await queue.addWorkflow(twoSteps(2));
      const [stored, first] = await logOf(backend, queue.name);
      expect(stored).toMatchObject({
        type: "workflow:added",
        taskId: wf.id,
        taskName: "workflow-events.two-steps",
        status: "running",
      });
      expect(first).toMatchObject({
        type: "added",
        taskId: wf.steps[0]!.taskId,
        taskName: "workflow-events.add",
        status: "pending",
        attempt: 1,
      });
      await h.worker(queue).work({ oneshot: true });
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect(done.result).toBe(13);
      const log = await logOf(backend, queue.name);
      const tasks = byTask(log);
      expect(tasks.get(wf.id)).toEqual(["workflow:added", "workflow:completed"]);
      expect(log.at(-1)).toMatchObject({
        type: "workflow:completed",
        status: "completed",
        result: 13,
      });
      // A resume's own completion reports no result: it is the workflow's bookkeeping.
      const resumeEnds = log.filter((e) => e.type === "completed" && e.taskName.startsWith(RESUME));
      expect(resumeEnds.length).toBe(2);
      for (const resume of resumeEnds) expect(resume).not.toHaveProperty("result");
      tasks.delete(wf.id);
      // Two steps and the two resumes that follow them.
      expect(tasks.size).toBe(4);
      for (const types of tasks.values()) expect(types).toEqual(["added", "started", "completed"]);
      const resumes = log.filter((e) => e.type === "added" && e.taskName.startsWith(RESUME));
      expect(resumes.map((e) => e.taskName)).toEqual([
        `${RESUME}workflow-events.two-steps`,
        `${RESUME}workflow-events.two-steps`,
      ]);
      const stepIds = done.steps.map((s) => s.taskId);
      const addedSteps = log.filter((e) => e.type === "added" && stepIds.includes(e.taskId));
      expect(addedSteps.map((e) => e.taskId)).toEqual(stepIds);
    });

    it("EV-21 a fan-out appends one `added` per step when added, and one for the single resume after the last", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const wf = await queue.addWorkflow(fanOut(5));
      const added = await logOf(backend, queue.name);
      expect(added.map((e) => `${e.type}:${e.taskId}`)).toEqual([
        `workflow:added:${wf.id}`,
        ...wf.steps.map((s) => `added:${s.taskId}`),
      ]);
      await h.worker(queue).work({ oneshot: true });
      await queue.waitForWorkflow(wf, { timeout: 10 });
      const log = await logOf(backend, queue.name);
      const resumes = log.filter((e) => e.taskName.startsWith(RESUME));
      expect(resumes.map((e) => e.type)).toEqual(["added", "started", "completed"]);
      expect(log.at(-1)).toMatchObject({ type: "workflow:completed", taskId: wf.id });
      // The resume is added by the settle of the last step: after every step's end.
      const lastStepEnd = Math.max(
        ...log.flatMap((e, i) =>
          e.type === "completed" && !e.taskName.startsWith(RESUME) ? [i] : [],
        ),
      );
      expect(log.indexOf(resumes[0]!)).toBeGreaterThan(lastStepEnd);
    });

    it("EV-22 cancelWorkflow appends `cancelled` for each step it cancels, and nothing for a running one", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const wf = await queue.addWorkflow(fanOut(3));
      const [claim] = await backend.claim(queue.name, 1);
      const running = claim!.record.id;
      await queue.cancelWorkflow(wf);
      const log = await logOf(backend, queue.name);
      const waiting = wf.steps.map((s) => s.taskId).filter((id) => id !== running);
      expect(log.slice(0, 4).map((e) => e.type)).toEqual([
        "workflow:added",
        "added",
        "added",
        "added",
      ]);
      expect(log.at(-1)).toMatchObject({
        type: "workflow:cancelled",
        taskId: wf.id,
        status: "cancelled",
      });
      const cancelled = log.slice(4, -1);
      expect(cancelled.map((e) => e.type)).toEqual(["cancelled", "cancelled"]);
      expect(cancelled.map((e) => e.taskId).sort()).toEqual([...waiting].sort());
      for (const event of cancelled) {
        expect(event).toMatchObject({ status: "cancelled", taskName: "workflow-events.add" });
      }
    });

    it("EV-23 cancelling a workflow's last waiting step appends its `cancelled`, then the `added` of the resume it adds", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const wf = await queue.addWorkflow(twoSteps(1));
      const stepId = wf.steps[0]!.taskId;
      await queue.cancel(stepId);
      const log = await logOf(backend, queue.name);
      expect(log.map((e) => e.type)).toEqual(["workflow:added", "added", "cancelled", "added"]);
      expect(log[2]!.taskId).toBe(stepId);
      expect(log[3]).toMatchObject({
        taskName: `${RESUME}workflow-events.two-steps`,
        status: "pending",
      });
      const [resume] = await queue.getPending();
      expect(log[3]!.taskId).toBe(resume!.id);
    });

    it("EV-24 a resume whose workflow was cancelled meanwhile adds no steps, and appends no `added` for them", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const wf = await queue.addWorkflow(twoSteps(1));
      await h.worker(queue).work({ maxTasks: 1 });
      const [resume] = await queue.getPending();
      expect(resume?.name).toBe(`${RESUME}workflow-events.two-steps`);
      await queue.cancelWorkflow(wf);
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.getTask(resume!))?.status).toBe("completed");
      expect(await queue.size()).toBe(0);
      const log = await logOf(backend, queue.name);
      const tasks = byTask(log);
      expect([...tasks.keys()].sort()).toEqual([wf.id, wf.steps[0]!.taskId, resume!.id].sort());
      expect(tasks.get(resume!.id)).toEqual(["added", "started", "completed"]);
      expect(tasks.get(wf.id)).toEqual(["workflow:added", "workflow:cancelled"]);
    });

    it("EV-25 a backend answers `stale`, writing nothing, when a step it would cancel has no event: the caller read too early", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const wf = await queue.addWorkflow(fanOut(2));
      const [known, unknown] = wf.steps.map((s) => s.taskId);
      const before = await logOf(backend, queue.name);
      const at = Date.now();
      const answer = await backend.cancelWorkflow(queue.name, wf.id, {
        at,
        expiresAt: null,
        stepExpiresAt: null,
        events: new Map([[known!, `["${known}","cancelled","workflow-events.add",1,${at},null]`]]),
      });
      expect(answer).toBe("stale");
      expect((await queue.getWorkflow(wf))?.status).toBe("running");
      const tasks = await queue.getTask([known!, unknown!]);
      expect(tasks.map((t) => t?.status)).toEqual(["pending", "pending"]);
      expect(await logOf(backend, queue.name)).toEqual(before);
      // With every waiting step's event, it cancels.
      expect((await queue.cancelWorkflow(wf)).status).toBe("cancelled");
      const after = await logOf(backend, queue.name);
      expect(after.filter((e) => e.type === "cancelled")).toHaveLength(2);
      expect(after.filter((e) => e.type === "workflow:cancelled")).toHaveLength(1);
    });

    it("EV-26 a workflow's own end: `workflow:failed` with its error; one done when added appends added and completed together, once", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const failing = await queue.addWorkflow(throwing());
      await h.worker(queue).work({ oneshot: true });
      expect((await queue.waitForWorkflow(failing, { timeout: 10 })).status).toBe("failed");
      const failed = (await logOf(backend, queue.name)).filter((e) => e.taskId === failing.id);
      expect(failed.map((e) => e.type)).toEqual(["workflow:added", "workflow:failed"]);
      expect(failed[1]).toMatchObject({
        status: "failed",
        taskName: "workflow-events.throwing",
        error: { type: "RangeError", message: "gave up after 2" },
      });
      const done = immediate(4);
      expect((await queue.addWorkflow(done)).status).toBe("completed");
      await queue.addWorkflow(done);
      const log = (await logOf(backend, queue.name)).filter((e) => e.taskId === done.id);
      expect(log.map((e) => `${e.type}:${e.status}`)).toEqual([
        "workflow:added:running",
        "workflow:completed:completed",
      ]);
    });
  });
}
