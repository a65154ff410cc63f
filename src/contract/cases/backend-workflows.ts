/**
 * Workflow storage, called on the backend directly: a workflow stored with
 * its first steps; a step's end recorded with the workflow, which gets
 * exactly one resume task after its last step; a resume's write applied only
 * to the state it replayed; cancel, delete, expiry, paging and `clear`.
 */

import { describe, expect, it } from "vitest";
import type { Backend, ClaimedTask, Settlement } from "../../backends/backend.js";
import { type TaskData, task } from "../../index.js";
import { newWorkflowData } from "../../task/define-workflow.js";
import type { WorkflowData } from "../../task/workflow-record.js";
import type { ContractHarness } from "../harness.js";
import { finishedRecord, iso, retryingRecord } from "../support/records.js";

const step = task({ name: "backend-workflows.step" }, (n: number) => n);
const resumeTask = task({ name: "backend-workflows.resume" }, (id: string) => id);
const HOUR = 3_600_000;

/** A running workflow waiting for `steps` (step records, pending). */
function waitingOn(steps: readonly TaskData[], name = "backend-workflows.flow"): WorkflowData {
  const record = newWorkflowData(crypto.randomUUID(), name, [1], {}, Date.now());
  return {
    ...record,
    steps: steps.map((s, index) => ({
      taskId: s.id,
      index,
      yield: 0,
      name: s.name,
      argsHash: `h${index}`,
    })),
    pending: steps.map((s) => s.id),
  };
}

const stepData = (workflowId: string, n: number): TaskData => ({
  ...step(n).toJSON(),
  status: "pending",
  workflowId,
});
const resumeOf = (workflowId: string, after: string): TaskData => ({
  ...resumeTask(workflowId).toJSON(),
  id: `${after.slice(0, 30)}-r`,
  status: "pending",
});

/** The settlement that ends a step's claim finished, with its workflow part. */
function stepEnd(claim: ClaimedTask, record = finishedRecord(claim.record)): Settlement {
  return {
    fence: claim.fence,
    record,
    children: [],
    expiresAt: null,
    workflowStep: {
      workflowId: claim.record.workflowId!,
      resume: resumeOf(claim.record.workflowId!, claim.record.id),
    },
  };
}

/** Claims every claimable task of `q`. */
async function claimAll(backend: Backend, q: string): Promise<ClaimedTask[]> {
  const all: ClaimedTask[] = [];
  for (;;) {
    const batch = await backend.claim(q, 100);
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

export function backendWorkflowCases(h: ContractHarness): void {
  const setup = async () => ({ backend: await h.backend(), q: h.queue().name });

  /** A stored workflow waiting on `n` steps, with those steps claimed. */
  const started = async (backend: Backend, q: string, n: number) => {
    const id = crypto.randomUUID();
    const steps = Array.from({ length: n }, (_, i) => stepData(id, i));
    const record = { ...waitingOn(steps), id };
    expect(await backend.addWorkflow(q, record, steps, null)).toBe(true);
    const claims = await claimAll(backend, q);
    expect(claims.map((c) => c.record.id).sort()).toEqual(steps.map((s) => s.id).sort());
    return { record, steps, claims };
  };

  describe("backend: workflows", () => {
    it("addWorkflow stores the record and adds its steps as claimable; the same id again writes nothing", async () => {
      const { backend, q } = await setup();
      const id = crypto.randomUUID();
      const steps = [stepData(id, 1), stepData(id, 2)];
      const record = { ...waitingOn(steps), id };
      expect(await backend.addWorkflow(q, record, steps, null)).toBe(true);
      expect(await backend.size(q)).toBe(2);
      const stored = (await backend.getWorkflows(q, [id, "unknown"])).get(id)!;
      expect(stored.record).toEqual(record);
      expect(stored.outcomes.size).toBe(0);
      expect(
        await backend.addWorkflow(q, { ...record, name: "other" }, [stepData(id, 3)], null),
      ).toBe(false);
      expect(await backend.size(q)).toBe(2);
      expect((await backend.getWorkflows(q, [id])).get(id)?.record.name).toBe(record.name);
      // Another queue does not see it.
      expect((await backend.getWorkflows(h.queue().name, [id])).size).toBe(0);
    });

    it("a workflow that finished in its first run is stored finished, announced, and expires", async () => {
      const { backend, q } = await setup();
      const heard: string[] = [];
      const stop = await backend.watchFinished(q, (finished) => heard.push(...finished));
      const done: WorkflowData = {
        ...newWorkflowData(crypto.randomUUID(), "backend-workflows.flow", [], {}, Date.now()),
        status: "completed",
        result: 13,
        finishedAt: iso(),
      };
      expect(await backend.addWorkflow(q, done, [], Date.now() + 60_000)).toBe(true);
      await expect.poll(() => heard).toContain(done.id);
      stop();
      expect((await backend.getWorkflows(q, [done.id])).get(done.id)?.record).toEqual(done);
      const expired = { ...done, id: crypto.randomUUID() };
      await backend.addWorkflow(q, expired, [], Date.now() - 1);
      expect((await backend.getWorkflows(q, [expired.id])).size).toBe(0);
      expect(await backend.pruneExpired(q, Date.now())).toBeGreaterThanOrEqual(1);
    });

    it("a step that ends finished is kept with its workflow; after the last one, one resume task is added", async () => {
      const { backend, q } = await setup();
      const { record, steps, claims } = await started(backend, q, 2);
      const [first, second] = claims;
      expect(await backend.settle(q, [stepEnd(first!)], Date.now())).toEqual(["settled"]);
      let stored = (await backend.getWorkflows(q, [record.id])).get(record.id)!;
      expect(stored.record.pending).toEqual(
        steps.map((s) => s.id).filter((s) => s !== first!.record.id),
      );
      expect(stored.outcomes.get(first!.record.id)?.status).toBe("completed");
      expect(await backend.size(q)).toBe(0);
      // Sent again (a lost reply): settled, and still no resume.
      expect(await backend.settle(q, [stepEnd(first!)], Date.now())).toEqual(["settled"]);
      expect(await backend.size(q)).toBe(0);
      expect(await backend.settle(q, [stepEnd(second!)], Date.now())).toEqual(["settled"]);
      stored = (await backend.getWorkflows(q, [record.id])).get(record.id)!;
      expect(stored.record.pending).toEqual([]);
      expect(stored.outcomes.size).toBe(2);
      const [resume] = await backend.claim(q, 10);
      expect(resume?.record.id).toBe(resumeOf(record.id, second!.record.id).id);
      expect(await backend.settle(q, [stepEnd(second!)], Date.now())).toEqual(["settled"]);
      expect(await backend.size(q)).toBe(0);
    });

    it("a step that will be retried, or a step of a workflow that is not running, changes nothing", async () => {
      const { backend, q } = await setup();
      const { record, claims } = await started(backend, q, 1);
      const [claim] = claims;
      const retrying = retryingRecord(claim!.record, Date.now() + HOUR);
      expect(await backend.settle(q, [stepEnd(claim!, retrying)], Date.now())).toEqual(["settled"]);
      expect((await backend.getWorkflows(q, [record.id])).get(record.id)?.record.pending).toEqual([
        claim!.record.id,
      ]);
      expect(
        await backend.cancelWorkflow(q, record.id, {
          at: Date.now(),
          expiresAt: null,
          stepExpiresAt: null,
        }),
      ).toMatchObject({ status: "cancelled" });
      const other = await started(backend, q, 1);
      await backend.cancelWorkflow(q, other.record.id, {
        at: Date.now(),
        expiresAt: null,
        stepExpiresAt: null,
      });
      expect(await backend.settle(q, [stepEnd(other.claims[0]!)], Date.now())).toEqual(["settled"]);
      expect(await backend.size(q)).toBe(0);
      expect(
        (await backend.getWorkflows(q, [other.record.id])).get(other.record.id)?.outcomes.size,
      ).toBe(0);
    });

    it("two steps settled in one call, the last two of a fan-out, add exactly one resume", async () => {
      const { backend, q } = await setup();
      const { claims } = await started(backend, q, 2);
      expect(
        await backend.settle(
          q,
          claims.map((c) => stepEnd(c)),
          Date.now(),
        ),
      ).toEqual(["settled", "settled"]);
      expect(await backend.size(q)).toBe(1);
    });

    it("a resume's write is applied with its new steps only to the state it replayed", async () => {
      const { backend, q } = await setup();
      const { record, claims } = await started(backend, q, 1);
      await backend.settle(q, [stepEnd(claims[0]!)], Date.now());
      const [resume] = await backend.claim(q, 1);
      const next = stepData(record.id, 9);
      const later: WorkflowData = {
        ...record,
        steps: [
          ...record.steps,
          { taskId: next.id, index: 1, yield: 1, name: next.name, argsHash: "h" },
        ],
        pending: [next.id],
      };
      const write = (expectedSteps: number): Settlement => ({
        fence: resume!.fence,
        record: finishedRecord(resume!.record),
        children: [next],
        expiresAt: null,
        workflow: { record: later, expectedSteps, expiresAt: null },
      });
      // Replayed from a different state: the resume settles, its workflow part does not.
      expect(await backend.settle(q, [write(5)], Date.now())).toEqual(["settled"]);
      expect(await backend.size(q)).toBe(0);
      expect(
        (await backend.getWorkflows(q, [record.id])).get(record.id)?.record.steps,
      ).toHaveLength(1);
    });

    it("a resume's write stores the new steps and record, or finishes the workflow (announced, expiring)", async () => {
      const { backend, q } = await setup();
      const { record, claims } = await started(backend, q, 1);
      await backend.settle(q, [stepEnd(claims[0]!)], Date.now());
      let [resume] = await backend.claim(q, 1);
      const next = stepData(record.id, 9);
      const later: WorkflowData = {
        ...record,
        steps: [
          ...record.steps,
          { taskId: next.id, index: 1, yield: 1, name: next.name, argsHash: "h" },
        ],
        pending: [next.id],
      };
      expect(
        await backend.settle(
          q,
          [
            {
              fence: resume!.fence,
              record: finishedRecord(resume!.record),
              children: [next],
              expiresAt: null,
              workflow: { record: later, expectedSteps: 1, expiresAt: null },
            },
          ],
          Date.now(),
        ),
      ).toEqual(["settled"]);
      expect((await backend.getWorkflows(q, [record.id])).get(record.id)?.record).toEqual(later);
      const [nextClaim] = await backend.claim(q, 1);
      expect(nextClaim?.record.id).toBe(next.id);
      await backend.settle(q, [stepEnd(nextClaim!)], Date.now());
      [resume] = await backend.claim(q, 1);
      const heard: string[] = [];
      const stop = await backend.watchFinished(q, (finished) => heard.push(...finished));
      const done: WorkflowData = {
        ...later,
        pending: [],
        status: "completed",
        result: { n: 1 },
        finishedAt: iso(),
      };
      await backend.settle(
        q,
        [
          {
            fence: resume!.fence,
            record: finishedRecord(resume!.record),
            children: [],
            expiresAt: null,
            workflow: { record: done, expectedSteps: 2, expiresAt: Date.now() + HOUR },
          },
        ],
        Date.now(),
      );
      await expect.poll(() => heard).toContain(record.id);
      stop();
      const stored = (await backend.getWorkflows(q, [record.id])).get(record.id)!;
      expect(stored.record).toEqual(done);
      expect(stored.outcomes.size).toBe(2);
      expect((await backend.listWorkflows(q, { running: true })).workflows).toEqual([]);
      expect((await backend.listWorkflows(q)).workflows.map((w) => w.id)).toEqual([record.id]);
    });

    it("retryWorkflow runs only the failed run it read again: its record running, no expiry, outcomes dropped, tasks added once", async () => {
      const { backend, q } = await setup();
      const { record, claims } = await started(backend, q, 2);
      const [kept, redone] = claims;
      await backend.settle(
        q,
        [stepEnd(kept!), stepEnd(redone!, finishedRecord(redone!.record, "failed"))],
        Date.now(),
      );
      const [resume] = await backend.claim(q, 1);
      const failed: WorkflowData = {
        ...record,
        pending: [],
        status: "failed",
        error: { type: "Error", message: "step 1 failed", stack: null, cause: null },
        finishedAt: iso(),
      };
      const expiresAt = Date.now() + 400;
      await backend.settle(
        q,
        [
          {
            fence: resume!.fence,
            record: finishedRecord(resume!.record),
            children: [],
            expiresAt: null,
            workflow: { record: failed, expectedSteps: 2, expiresAt },
          },
        ],
        Date.now(),
      );
      expect(await backend.size(q)).toBe(0);
      const renamed = crypto.randomUUID();
      const running: WorkflowData = {
        ...record,
        steps: record.steps.map((s, i) => (i === 1 ? { ...s, taskId: renamed } : s)),
        pending: [],
        retryCount: 1,
      };
      const replay = { ...resumeOf(record.id, renamed), id: crypto.randomUUID() };
      const retry = {
        record: running,
        failedAt: failed.finishedAt!,
        tasks: [replay],
        replaced: [redone!.record.id],
      };
      expect(await backend.retryWorkflow(q, crypto.randomUUID(), retry)).toBeNull();
      // Another failed run than the one read (its finish time differs): nothing written.
      expect(
        await backend.retryWorkflow(q, record.id, { ...retry, failedAt: iso(Date.now() - HOUR) }),
      ).toBe(false);
      expect(await backend.size(q)).toBe(0);
      const failedBefore = (await backend.getStats(q)).failed;
      expect(await backend.retryWorkflow(q, record.id, retry)).toBe(true);
      const stored = (await backend.getWorkflows(q, [record.id])).get(record.id)!;
      expect(stored.record).toEqual(running);
      expect([...stored.outcomes.keys()]).toEqual([kept!.record.id]);
      // The step asked for again loses its finished record; the one that completed keeps its.
      const steps = await backend.getTasks(q, [kept!.record.id, redone!.record.id]);
      expect([...steps.keys()]).toEqual([kept!.record.id]);
      expect((await backend.getStats(q)).failed).toBe(failedBefore - 1);
      expect((await backend.runningWorkflows(q, [record.id])).has(record.id)).toBe(true);
      expect(
        (await backend.listWorkflows(q, { running: true })).workflows.map((w) => w.id),
      ).toEqual([record.id]);
      // Running again: a second retry of the same failed run is refused, and adds nothing.
      expect(
        await backend.retryWorkflow(q, record.id, { ...retry, tasks: [stepData(record.id, 2)] }),
      ).toBe(false);
      expect(await backend.size(q)).toBe(1);
      // The failed run's expiry no longer applies.
      await new Promise((resolve) => setTimeout(resolve, expiresAt + 100 - Date.now()));
      await backend.pruneExpired(q, Date.now());
      expect((await backend.getWorkflows(q, [record.id])).has(record.id)).toBe(true);
      // The task added (the resume that replays it) is claimable.
      const [claim] = await backend.claim(q, 1);
      expect(claim?.record.id).toBe(replay.id);
    });

    it("cancelWorkflow cancels the running workflow and its steps that have not started", async () => {
      const { backend, q } = await setup();
      const id = crypto.randomUUID();
      const steps = [stepData(id, 1), stepData(id, 2)];
      await backend.addWorkflow(q, { ...waitingOn(steps), id }, steps, null);
      const [running] = await backend.claim(q, 1);
      const cancelled = await backend.cancelWorkflow(q, id, {
        at: Date.now(),
        expiresAt: Date.now() + HOUR,
        stepExpiresAt: null,
      });
      expect(cancelled).toMatchObject({ id, status: "cancelled", pending: [] });
      expect((cancelled as WorkflowData).finishedAt).not.toBeNull();
      const tasks = await backend.getTasks(
        q,
        steps.map((s) => s.id),
      );
      expect(tasks.get(running!.record.id)?.status).toBe("processing");
      const waiting = steps.find((s) => s.id !== running!.record.id)!;
      expect(tasks.get(waiting.id)?.status).toBe("cancelled");
      expect(await backend.size(q)).toBe(0);
      expect(
        await backend.cancelWorkflow(q, id, {
          at: Date.now(),
          expiresAt: null,
          stepExpiresAt: null,
        }),
      ).toBe("finished");
      expect(
        await backend.cancelWorkflow(q, "unknown", {
          at: Date.now(),
          expiresAt: null,
          stepExpiresAt: null,
        }),
      ).toBeNull();
      expect((await backend.getWorkflows(q, [id])).get(id)?.record.status).toBe("cancelled");
    });

    it("runningWorkflows names those of the ids the queue holds that still run, each once", async () => {
      const { backend, q } = await setup();
      const ids = [crypto.randomUUID(), crypto.randomUUID()];
      for (const id of ids) {
        const steps = [stepData(id, 1)];
        await backend.addWorkflow(q, { ...waitingOn(steps), id }, steps, null);
      }
      expect(await backend.runningWorkflows(q, [])).toEqual(new Set());
      expect(await backend.runningWorkflows(q, [...ids, "unknown", ids[0]!])).toEqual(new Set(ids));
      await backend.cancelWorkflow(q, ids[0]!, {
        at: Date.now(),
        expiresAt: null,
        stepExpiresAt: null,
      });
      expect(await backend.runningWorkflows(q, [...ids, "unknown"])).toEqual(new Set([ids[1]]));
      // Another queue's workflow of the same id is not this queue's.
      expect(await backend.runningWorkflows(h.queue().name, ids)).toEqual(new Set());
    });

    it("cancelling a step task ends it as a step: the workflow is resumed after its last step", async () => {
      const { backend, q } = await setup();
      const id = crypto.randomUUID();
      const steps = [stepData(id, 1)];
      await backend.addWorkflow(q, { ...waitingOn(steps), id }, steps, null);
      const cancelled = await backend.cancel(q, steps[0]!.id, {
        at: Date.now(),
        expiresAt: null,
        workflowStep: { workflowId: id, resume: resumeOf(id, steps[0]!.id) },
      });
      expect(cancelled?.status).toBe("cancelled");
      const stored = (await backend.getWorkflows(q, [id])).get(id)!;
      expect(stored.outcomes.get(steps[0]!.id)?.status).toBe("cancelled");
      expect(stored.record.pending).toEqual([]);
      expect((await backend.claim(q, 1))[0]?.record.id).toBe(resumeOf(id, steps[0]!.id).id);
    });

    it("deleteWorkflow deletes a finished workflow only", async () => {
      const { backend, q } = await setup();
      const { record } = await started(backend, q, 1);
      expect(await backend.deleteWorkflow(q, record.id)).toBe("running");
      await backend.cancelWorkflow(q, record.id, {
        at: Date.now(),
        expiresAt: null,
        stepExpiresAt: null,
      });
      expect(await backend.deleteWorkflow(q, record.id)).toBe(true);
      expect(await backend.deleteWorkflow(q, record.id)).toBe(false);
      expect((await backend.getWorkflows(q, [record.id])).size).toBe(0);
    });

    it("listWorkflows pages through every workflow, or the running ones; clear removes them", async () => {
      const { backend, q } = await setup();
      const made: string[] = [];
      for (let i = 0; i < 25; i++) made.push((await started(backend, q, 1)).record.id);
      await backend.cancelWorkflow(q, made[0]!, {
        at: Date.now(),
        expiresAt: null,
        stepExpiresAt: null,
      });
      const seen = new Set<string>();
      let cursor: string | null = null;
      do {
        const page = await backend.listWorkflows(q, { cursor, limit: 7 });
        for (const w of page.workflows) seen.add(w.id);
        cursor = page.cursor;
      } while (cursor !== null);
      expect([...seen].sort()).toEqual([...made].sort());
      const running = new Set<string>();
      cursor = null;
      do {
        const page = await backend.listWorkflows(q, { cursor, limit: 7, running: true });
        for (const w of page.workflows) running.add(w.id);
        cursor = page.cursor;
      } while (cursor !== null);
      expect(running.size).toBe(24);
      expect(running.has(made[0]!)).toBe(false);
      await backend.clear(q);
      expect((await backend.getWorkflows(q, made)).size).toBe(0);
      expect((await backend.listWorkflows(q)).workflows).toEqual([]);
    });
  });
}
