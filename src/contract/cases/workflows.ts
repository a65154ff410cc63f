/**
 * Workflows through the Queue and workers: sequential steps, fan-out and
 * fan-in, nesting, failed steps handled in code, a throwing body, the
 * determinism guard, recorded side effects, waiting, cancelling, and one
 * resume after the last of parallel steps however many workers settle them.
 */

import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  all,
  InvalidOptionError,
  NonDeterministicWorkflowError,
  run,
  sideEffect,
  step,
  TaskStateError,
  task,
  WaitTimeoutError,
  Workflow,
  WorkflowNotFoundError,
  workflow,
} from "../../index.js";
import type { ContractHarness } from "../harness.js";
import { scheduledRecord, settleClaim } from "../support/records.js";
import { type Gate, gate, PerTest, until } from "../support/until.js";

const add = task({ name: "workflows.add" }, (a: number, b: number) => a + b);
const fail = task({ name: "workflows.fail" }, (why: string): number => {
  throw new RangeError(why);
});
const slow = task({ name: "workflows.slow" }, async (ms: number) => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
});

/** Replays per workflow id (the body runs once per resume, and once when added). */
const replays = new PerTest<{ count: number }>(() => ({ count: 0 }));

/** Each attempt of a `flaky` step, and the gate its first attempt waits at before it throws. */
const flakyRuns = new PerTest<{ attempts: number; release: Gate }>(() => ({
  attempts: 0,
  release: gate(),
}));
const flaky = task(
  { name: "workflows.flaky", retry: 2, retryDelay: 0 },
  async (token: string): Promise<string> => {
    const runs = flakyRuns.get(token);
    if (++runs.attempts === 1) {
      await runs.release.opened;
      throw new Error("first attempt fails");
    }
    return "ran again";
  },
);
const retried = workflow({ name: "workflows.retried" }, function* (token: string) {
  const only = yield* step(flaky(token));
  return only.result;
});

const sequential = workflow({ name: "workflows.sequential" }, function* (x: number) {
  const first = yield* step(add(x, 1));
  const second = yield* step(add(first.result!, 10));
  return second.result;
});
const fanOut = workflow({ name: "workflows.fan-out" }, function* (n: number) {
  const done = yield* all(Array.from({ length: n }, (_, i) => add(i, 1000)));
  return done.map((t) => t.result);
});
const pair = workflow({ name: "workflows.pair" }, function* (token: string) {
  replays.get(token).count++;
  const [a, b] = yield* all([add(1, 1), add(2, 2)]);
  return a.result! + b.result!;
});
const innermost = workflow({ name: "workflows.innermost" }, function* (x: number) {
  const t = yield* step(add(x, 1));
  return t.result! * 10;
});
const middle = workflow({ name: "workflows.middle" }, function* (x: number) {
  const inner = yield* run(innermost(x));
  const t = yield* step(add(inner, 100));
  return t.result!;
});
const outer = workflow({ name: "workflows.outer" }, function* (x: number) {
  const nested = yield* run(middle(x));
  return nested + 1;
});
const recovering = workflow({ name: "workflows.recovering" }, function* () {
  const attempt = yield* step(fail("card declined"));
  if (attempt.status !== "failed") return "paid";
  const refund = yield* step(add(0, 0));
  return `rolled back (${attempt.error?.message}; refund ${refund.status})`;
});
const exploding = workflow({ name: "workflows.exploding" }, function* () {
  const t = yield* step(add(5, 5));
  throw new RangeError(`user code exploded after ${t.result}`);
});
/** What the body asks for depends on this: changing it between resumes is a changed deploy. */
const variant = new PerTest<{ arg: number }>(() => ({ arg: 1 }));
const changing = workflow({ name: "workflows.changing" }, function* (token: string) {
  yield* step(add(variant.get(token).arg, 0));
  yield* step(add(0, 0));
  return "done";
});
/** How many steps the body asks for: fewer on a later resume is a shorter body deployed. */
const length = new PerTest<{ steps: number; throws: boolean }>(() => ({ steps: 2, throws: false }));
const shortening = workflow({ name: "workflows.shortening" }, function* (token: string) {
  const { steps, throws } = length.get(token);
  // Asked for together, so every one is recorded at the first run.
  yield* all(Array.from({ length: steps }, (_, i) => add(i, 0)));
  if (throws) throw new RangeError("the new body gives up here");
  return `asked for ${steps}`;
});
const draws = new PerTest<{ count: number }>(() => ({ count: 0 }));
const effects = workflow({ name: "workflows.effects" }, function* (token: string) {
  const drawn = yield* sideEffect(() => ++draws.get(token).count);
  yield* step(add(drawn, 0));
  const again = yield* sideEffect(() => ++draws.get(token).count);
  yield* step(add(again, 0));
  return [drawn, again];
});
const waiting = workflow({ name: "workflows.waiting" }, function* (ms: number) {
  const t = yield* step(slow(ms));
  return t.result;
});
// biome-ignore lint/correctness/useYield: a workflow that asks for no step is valid and completes when added.
const immediate = workflow({ name: "workflows.immediate" }, function* (x: number) {
  return x * 2;
});

export function workflowCases(h: ContractHarness): void {
  const drain = async (queue: ReturnType<ContractHarness["queue"]>) => {
    await h.worker(queue).work({ oneshot: true });
  };

  describe("workflows", () => {
    it("sequential steps: each step gets the previous result; the workflow completes with the last", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(sequential(2));
      expect(wf).toBeInstanceOf(Workflow);
      expect(wf.status).toBe("running");
      expect(wf.steps).toHaveLength(1);
      expect(await queue.size()).toBe(1);
      expect((await queue.getPendingWorkflows()).map((w) => w.id)).toEqual([wf.id]);
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect(done.status).toBe("completed");
      const result: number | null = done.result;
      expect(result).toBe(13);
      expect(done.finishedAt).not.toBeNull();
      expect(done.steps.map((s) => s.name)).toEqual(["workflows.add", "workflows.add"]);
      const [firstStep] = await queue.getTask([done.steps[0]!.taskId]);
      expect(firstStep?.workflowId).toBe(wf.id);
      expect(await queue.getPendingWorkflows()).toEqual([]);
      expect((await queue.getAllWorkflows()).map((w) => w.id)).toEqual([wf.id]);
      // The steps as they stand; once a step's own record is gone, the one the workflow kept.
      expect((await queue.getWorkflowSteps(wf)).map((t) => t?.result)).toEqual([3, 13]);
      expect(await queue.delete(done.steps[0]!.taskId)).toBe(true);
      const steps = await queue.getWorkflowSteps(wf.id);
      expect(steps.map((t) => [t?.id, t?.status, t?.result])).toEqual([
        [done.steps[0]!.taskId, "completed", 3],
        [done.steps[1]!.taskId, "completed", 13],
      ]);
      await expect(queue.getWorkflowSteps(randomUUID())).rejects.toThrow(WorkflowNotFoundError);
    });

    it("a fan-out of 50 runs in parallel and fans in, in input order", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(fanOut(50));
      expect(await queue.size()).toBe(50);
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect(done.result).toEqual(Array.from({ length: 50 }, (_, i) => i + 1000));
      expect(new Set(done.steps.map((s) => s.yield))).toEqual(new Set([0]));
    });

    it("an empty fan-out, or a body that asks for no step, completes when added", async () => {
      const queue = h.queue();
      const empty = await queue.addWorkflow(fanOut(0));
      expect(empty.status).toBe("completed");
      expect(empty.result).toEqual([]);
      const direct = await queue.addWorkflow(immediate(21));
      expect([direct.status, direct.result]).toEqual(["completed", 42]);
      expect(await queue.size()).toBe(0);
      expect((await queue.waitForWorkflow(direct, { timeout: 0 })).result).toBe(42);
    });

    it("waitForWorkflow's timeout on a workflow whose step workers put back as undefined names the step's task", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const wf = await queue.addWorkflow(sequential(1));
      // A worker that does not define the step's task puts it back, as its gate does.
      const [claim] = await backend.claim(queue.name, 1);
      expect(claim?.record.workflowId).toBe(wf.id);
      const putBack = {
        ...scheduledRecord(claim!.record, Date.now() + 60_000),
        startedAt: null,
        meta: { ...claim!.record.meta, "sheppy.unknownSince": new Date().toISOString() },
      };
      expect(await settleClaim(backend, queue.name, claim!, putBack)).toBe("settled");
      const error = await queue.waitForWorkflow(wf, { timeout: 0.1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      expect((error as WaitTimeoutError).message).toContain(
        `; the workers that claimed the steps of it do not define task '${claim!.record.name}': put back for a worker that does`,
      );
    });

    it("waitForWorkflow's timeout on a workflow none of whose steps has finished asks whether a worker serves the queue", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(sequential(1));
      const error = await queue.waitForWorkflow(wf, { timeout: 0.1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      const timeout = error as WaitTimeoutError;
      expect(timeout.message).toMatch(
        /^Did not complete within 0\.1 seconds \(1 workflow\(s\) unfinished: /,
      );
      expect(timeout.unfinished).toEqual([wf.id]);
      expect(timeout.message).toContain(
        `none of their steps has finished — is a worker serving queue '${queue.name}' running (sheppy work)?`,
      );
    });

    it("waitForWorkflow's timeout on a workflow whose step a worker is running does not ask whether a worker serves the queue", async () => {
      const queue = h.queue();
      const backend = await queue.connect();
      const wf = await queue.addWorkflow(sequential(1));
      // Its first step claimed, as a worker running it has.
      const [claim] = await backend.claim(queue.name, 1);
      expect(claim?.record.workflowId).toBe(wf.id);
      const error = await queue.waitForWorkflow(wf, { timeout: 0.1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WaitTimeoutError);
      expect((error as WaitTimeoutError).unfinished).toEqual([wf.id]);
      expect((error as WaitTimeoutError).message).not.toContain("is a worker serving queue");
    });

    it("nested workflows, two levels deep, run inline in the caller's steps", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(outer(5));
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect(done.result).toBe(161);
      expect(done.steps).toHaveLength(2);
      expect((await queue.getAllWorkflows()).map((w) => w.id)).toEqual([wf.id]);
    });

    it("a failed step comes back to the body, which handles it; the workflow completes", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(recovering());
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect(done.status).toBe("completed");
      expect(done.result).toBe("rolled back (card declined; refund completed)");
    });

    it("a step of a workflow that has ended is not run again: retry refuses it, retryAll skips it, its outcome stays", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(recovering());
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect(done.status).toBe("completed");
      const [declined, refund] = done.steps.map((s) => s.taskId) as [string, string];
      expect((await queue.getTask(declined))?.status).toBe("failed");
      const refused = await queue.retry(declined).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TaskStateError);
      expect(refused).toMatchObject({ reason: "workflow-step", id: declined, status: "failed" });
      expect((refused as Error).message).toBe(
        `Cannot retry task ${declined}: it is a step of workflow ${wf.id}, which has ended (or is gone), and a step of an ended workflow is never run again; retry the workflow instead when it failed (queue.retryWorkflow, sheppy workflow retry), which runs its failed last steps again, or start it anew`,
      );
      await expect(queue.retry(refund, { force: true })).rejects.toThrow(TaskStateError);
      expect(await queue.retryAll()).toEqual({ retried: 0, skipped: 1, endedWorkflowSteps: 1 });
      await drain(queue);
      const steps = await queue.getTask([declined, refund]);
      expect(steps.map((t) => t?.status)).toEqual(["failed", "completed"]);
      expect(steps[0]?.error?.message).toBe("card declined");
    });

    it("a throw in the body fails the workflow; its error is stored as data and read back", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(exploding());
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect(done.status).toBe("failed");
      expect(done.result).toBeNull();
      expect(done.error?.type).toBe("RangeError");
      expect(done.error?.message).toBe("user code exploded after 10");
      expect(done.error?.toError()).toBeInstanceOf(RangeError);
      const again = (await queue.getWorkflow(wf.id))!;
      expect(again.error?.toJSON()).toEqual(done.error?.toJSON());
    });

    /** Runs `queue` dry and expects workflow `wf` failed by the determinism guard, its message matching `pattern`. */
    const expectChangedBody = async (
      queue: ReturnType<ContractHarness["queue"]>,
      wf: { id: string },
      pattern: string,
    ) => {
      await drain(queue);
      const done = await queue.waitForWorkflow(wf.id, { timeout: 10 });
      expect(done.status).toBe("failed");
      expect(done.error?.type).toBe(NonDeterministicWorkflowError.name);
      expect(done.error?.message).toMatch(new RegExp(pattern));
    };

    it("the determinism guard: a body that asks for another step on replay fails the workflow, saying which", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const wf = await queue.addWorkflow(changing(token));
      variant.get(token).arg = 2;
      await expectChangedBody(
        queue,
        wf,
        `^workflow 'workflows\\.changing' \\(id ${wf.id}\\) asked for a different step 0 on replay: the arguments of task 'workflows\\.add' changed \\(were \\[1,0\\], now \\[2,0\\]\\)\\.`,
      );
    });

    it("the determinism guard: a fan-out asked for with fewer steps than before fails the workflow before any of them is asked for, saying which", async () => {
      for (const throws of [false, true]) {
        const queue = h.queue();
        const token = randomUUID();
        const wf = await queue.addWorkflow(shortening(token));
        length.get(token).steps = 1;
        length.get(token).throws = throws;
        await expectChangedBody(
          queue,
          wf,
          `^workflow 'workflows\\.shortening' \\(id ${wf.id}\\) asked on replay for 1 step\\(s\\) at yield 0 \\(task 'workflows\\.add'\\), where it asked for 2 before \\(steps 0 to 1: tasks 'workflows\\.add', 'workflows\\.add'\\); a step added or removed before this yield moves every later one\\. A workflow body must`,
        );
      }
    });

    it("sideEffect records its value on the first run and replays it on every resume", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const wf = await queue.addWorkflow(effects(token));
      await drain(queue);
      const done = await queue.waitForWorkflow(wf, { timeout: 10 });
      expect(done.result).toEqual([1, 2]);
      expect(draws.get(token).count).toBe(2);
    });

    it("waitForWorkflow: a timeout throws WaitTimeoutError; an unknown id without one is WorkflowNotFoundError", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(waiting(5));
      await expect(queue.waitForWorkflow(wf, { timeout: 0.1 })).rejects.toThrow(WaitTimeoutError);
      await expect(queue.waitForWorkflow(randomUUID())).rejects.toThrow(WorkflowNotFoundError);
      const waited = queue.waitForWorkflow(wf, { timeout: 10 });
      await drain(queue);
      expect((await waited).result).toBe(5);
    });

    it("cancel: the workflow and its waiting steps are cancelled; it cannot be cancelled twice; then it can be deleted", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(fanOut(3));
      // Its id where a task's goes: told where it goes.
      await expect(queue.cancel(wf.id, { force: true })).rejects.toThrow(
        `Cannot cancel task ${wf.id}: it is a workflow of queue '${queue.name}', not a task; cancel it with queue.cancelWorkflow (sheppy workflow cancel)`,
      );
      const cancelled = await queue.cancelWorkflow(wf);
      expect(cancelled.status).toBe("cancelled");
      expect(cancelled.isFinished).toBe(true);
      expect(await queue.size()).toBe(0);
      const steps = await queue.getTask(cancelled.steps.map((s) => s.taskId));
      expect(steps.map((t) => t?.status)).toEqual(["cancelled", "cancelled", "cancelled"]);
      await expect(queue.cancelWorkflow(wf)).rejects.toThrow(TaskStateError);
      await expect(queue.cancelWorkflow(wf)).rejects.toMatchObject({
        reason: "finished",
        id: wf.id,
        status: "cancelled",
      });
      await expect(queue.cancelWorkflow(randomUUID())).rejects.toThrow(WorkflowNotFoundError);
      expect((await queue.waitForWorkflow(wf, { timeout: 0 })).status).toBe("cancelled");
      const running = await queue.addWorkflow(fanOut(1));
      await expect(queue.deleteWorkflow(running)).rejects.toMatchObject({
        name: "TaskStateError",
        reason: "running",
      });
      expect(await queue.deleteWorkflow(wf)).toBe(true);
      expect(await queue.deleteWorkflow(wf)).toBe(false);
      expect(await queue.getWorkflow(wf)).toBeNull();
    });

    it("a step running when its workflow is cancelled finishes, and its retry is cancelled, never run", async () => {
      const queue = h.queue();
      const token = randomUUID();
      const wf = await queue.addWorkflow(retried(token));
      const runs = flakyRuns.get(token);
      const worker = h.worker(queue, { concurrency: 1 });
      const working = worker.work();
      await until(() => runs.attempts === 1, { what: "the step's first attempt started" });
      expect((await queue.cancelWorkflow(wf)).status).toBe("cancelled");
      runs.release.open();
      const [stepId] = wf.steps.map((s) => s.taskId);
      await until(async () => (await queue.getTask(stepId!))?.status === "cancelled", {
        what: "the step's retry cancelled",
      });
      await worker.close();
      await working;
      expect(runs.attempts).toBe(1);
      const stored = await queue.getTask(stepId!);
      expect(stored?.finishedAt).not.toBeNull();
      expect(stored?.error?.message).toBe("first attempt fails");
      expect((await queue.getWorkflow(wf))?.status).toBe("cancelled");
      expect(await queue.size()).toBe(0);
    });

    it("getAllWorkflows lists oldest first, those added within one millisecond in the order they were added", async () => {
      const queue = h.queue();
      const added = [];
      for (let i = 0; i < 20; i++) added.push((await queue.addWorkflow(fanOut(1))).id);
      expect((await queue.getAllWorkflows()).map((w) => w.id)).toEqual(added);
      expect((await queue.getPendingWorkflows()).map((w) => w.id)).toEqual(added);
    });

    it("adding a workflow whose id the queue holds returns the stored one and adds nothing", async () => {
      const queue = h.queue();
      const wf = sequential(1);
      const first = await queue.addWorkflow(wf);
      const second = await queue.addWorkflow(wf);
      expect(second.id).toBe(first.id);
      expect(await queue.size()).toBe(1);
    });

    it("addWorkflow with an id of the caller's stores it under that id; again, it returns the held one (running or finished); deleted, the id starts a new workflow with new steps", async () => {
      const queue = h.queue();
      const id = `order-${randomUUID()}`;
      const first = await queue.addWorkflow(sequential(2), { id });
      expect([first.id, first.status, first.args]).toEqual([id, "running", [2]]);
      const [step] = await queue.getTask([first.steps[0]!.taskId]);
      expect(step?.workflowId).toBe(id);
      // Other arguments, same id: nothing starts, the held workflow comes back.
      const again = await queue.addWorkflow(sequential(5), { id });
      expect([again.id, again.args, again.steps.map((s) => s.taskId)]).toEqual([
        id,
        [2],
        first.steps.map((s) => s.taskId),
      ]);
      expect(await queue.size()).toBe(1);
      await drain(queue);
      const done = await queue.waitForWorkflow(id, { timeout: 10 });
      expect(done.result).toBe(13);
      const finished = await queue.addWorkflow(sequential(5), { id });
      expect([finished.status, finished.result]).toEqual(["completed", 13]);
      expect(await queue.size()).toBe(0);

      // Deleted, the id is free again; its steps' records are still held, and the new workflow's steps are other tasks.
      expect(await queue.deleteWorkflow(id)).toBe(true);
      expect((await queue.getTask(done.steps[0]!.taskId))?.status).toBe("completed");
      const reborn = await queue.addWorkflow(sequential(5), { id });
      expect([reborn.id, reborn.status, reborn.args]).toEqual([id, "running", [5]]);
      const oldSteps = new Set(done.steps.map((s) => s.taskId));
      expect(reborn.steps.some((s) => oldSteps.has(s.taskId))).toBe(false);
      await drain(queue);
      expect((await queue.waitForWorkflow(id, { timeout: 10 })).result).toBe(16);
    });

    it("addWorkflow refuses an id no task could have, and an unknown option, with a one-line InvalidOptionError; nothing is added", async () => {
      const queue = h.queue();
      const refusals: [unknown, RegExp][] = [
        [{ id: "" }, /^queue\.addWorkflow\(\): id must be .*; got ""$/],
        [{ id: "a\u0000b" }, /^queue\.addWorkflow\(\): id must be /],
        [{ id: "x".repeat(300) }, /^queue\.addWorkflow\(\): id must be /],
        [{ id: 42 }, /^queue\.addWorkflow\(\): id must be .*; got 42$/],
        [{ idd: "order-1" }, /^queue\.addWorkflow\(\): unknown option 'idd'; did you mean 'id'\?/],
      ];
      for (const [options, message] of refusals) {
        const error = await queue
          .addWorkflow(sequential(1), options as never)
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as Error).message).toMatch(message);
        expect((error as Error).message).not.toContain("\n");
      }
      expect(await queue.getAllWorkflows()).toEqual([]);
      expect(await queue.size()).toBe(0);
    });

    it("a resume task cannot be cancelled by itself: its workflow is cancelled instead", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(sequential(1));
      await h.worker(queue).work({ maxTasks: 1 });
      const [resume] = await queue.getPending();
      expect(resume?.name).toBe("workflow:workflows.sequential");
      await expect(queue.cancel(resume!)).rejects.toThrow(
        `Cannot cancel task ${resume!.id}: it resumes workflow ${wf.id}; cancel the workflow instead`,
      );
      await drain(queue);
      expect((await queue.waitForWorkflow(wf, { timeout: 10 })).result).toBe(12);
    });

    it("a resume task left pending by a workflow cancelled since can be cancelled, then deleted", async () => {
      const queue = h.queue();
      const wf = await queue.addWorkflow(sequential(1));
      await h.worker(queue).work({ maxTasks: 1 });
      const [resume] = await queue.getPending();
      expect(resume?.name).toBe("workflow:workflows.sequential");
      expect((await queue.cancelWorkflow(wf)).status).toBe("cancelled");
      const cancelled = await queue.cancel(resume!);
      expect(cancelled.status).toBe("cancelled");
      expect(await queue.delete(resume!)).toBe(true);
      expect(await queue.size()).toBe(0);
      expect((await queue.getWorkflow(wf))?.status).toBe("cancelled");
    });

    it("a workflow no worker defines fails with UnknownTaskError once its resume's grace is over", async () => {
      const queue = h.queue();
      const backend = await h.backend();
      const id = randomUUID();
      const stepData = {
        ...add(1, 2).toJSON(),
        id: randomUUID(),
        status: "pending" as const,
        workflowId: id,
        meta: { "sheppy.workflow": "workflows.defined-nowhere" },
      };
      const record = {
        ...immediate(1).toJSON(),
        id,
        name: "workflows.defined-nowhere",
        steps: [{ taskId: stepData.id, index: 0, yield: 0, name: stepData.name, argsHash: "x" }],
        pending: [stepData.id],
      };
      await backend.addWorkflow(queue.name, record, [stepData], null);
      await h.worker(queue, { unknownTaskGrace: 0 }).work({ oneshot: true });
      const failed = await queue.waitForWorkflow(id, { timeout: 10 });
      expect(failed.status).toBe("failed");
      expect(failed.error?.type).toBe("UnknownTaskError");
      expect(failed.error?.message).toBe(
        "no workflow named 'workflows.defined-nowhere' is defined in this worker; load the module that defines it (sheppy work --tasks takes workflow modules too)",
      );
    });

    it("two workers settling the last two parallel steps together resume the workflow exactly once (100 workflows)", async () => {
      const queue = h.queue();
      const other = h.sibling(queue);
      const tokens = Array.from({ length: 100 }, () => randomUUID());
      const added = [];
      for (const token of tokens) added.push(await queue.addWorkflow(pair(token)));
      await Promise.all([
        h.worker(queue, { concurrency: 1 }).work({ oneshot: true }),
        h.worker(other, { concurrency: 1 }).work({ oneshot: true }),
      ]);
      const done = await queue.waitForWorkflow(added, { timeout: 20 });
      expect(done.map((w) => w.result)).toEqual(tokens.map(() => 6));
      // Added once, resumed once: two runs of the body each, never three.
      expect(tokens.map((token) => replays.get(token).count)).toEqual(tokens.map(() => 2));
    });
  });
}
