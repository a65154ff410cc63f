/**
 * @module execution/workflow-resume
 * The attempt of a resume task: read the workflow and its step outcomes,
 * replay it, and turn what the replay ended with into the attempt's outcome —
 * the steps it asks for as the tasks to add, and the workflow record to
 * write with them. The backend writes both only onto the state replayed here
 * (the step count), so a resume that lost a race, or one whose workflow was
 * cancelled meanwhile, changes nothing. Also where the first run of a new
 * workflow is turned into its first record.
 */

import type { StoredWorkflow } from "../backends/backend.js";
import { isoAt } from "../clock.js";
import { checkPayloadSize } from "../task/payload-limit.js";
import { errorToData } from "../task/stored-error.js";
import type { TaskData } from "../task/task-record.js";
import type { WorkflowData } from "../task/workflow-record.js";
import type { WorkflowDefinition } from "../task/workflow-registry.js";
import { completedRecord } from "./outcome.js";
import { type ReplayOutcome, replayWorkflow } from "./workflow-replay.js";

/** Reads stored workflows: what a resume needs of the backend. */
export interface WorkflowSource {
  getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, StoredWorkflow>>;
}

/** The workflow record a replay leaves, and the step tasks to add with it. */
export function advance(
  workflow: WorkflowData,
  replay: ReplayOutcome,
  now: number,
): { record: WorkflowData; steps: TaskData[] } {
  const base = { ...workflow, steps: replay.steps, effects: replay.effects };
  switch (replay.kind) {
    case "waiting":
      return { record: { ...base, pending: replay.pending }, steps: replay.newTasks };
    case "completed":
      return {
        record: {
          ...base,
          status: "completed",
          pending: [],
          result: replay.result,
          error: null,
          finishedAt: isoAt(now),
        },
        steps: [],
      };
    case "failed":
      return {
        record: {
          ...base,
          status: "failed",
          pending: [],
          result: null,
          error: errorToData(replay.error),
          finishedAt: isoAt(now),
        },
        steps: [],
      };
  }
}

/**
 * Refuses (`PayloadTooLargeError`) what a replay of `before` would store over
 * `limit` bytes, as a task's arguments and result are refused: the arguments
 * of each step it asks for, the value of each side effect it recorded, and
 * the workflow's result. `where` starts each message.
 */
export function checkWorkflowPayloads(
  before: WorkflowData,
  after: { readonly record: WorkflowData; readonly steps: readonly TaskData[] },
  limit: number,
  where: string,
): void {
  const named = `workflow '${before.name}' (id ${before.id})`;
  for (const step of after.steps) {
    checkPayloadSize(step.args, limit, `${where}: the arguments of step ${step.name} of ${named}`);
  }
  after.record.effects.slice(before.effects.length).forEach((value, i) => {
    checkPayloadSize(
      value,
      limit,
      `${where}: the value of side effect ${before.effects.length + i} (counted from 0, as steps are) of ${named}`,
    );
  });
  if (after.record.status === "completed") {
    checkPayloadSize(after.record.result, limit, `${where}: the result of ${named}`);
  }
}

/**
 * `advanced`, or — when it would store something over the payload limit —
 * the workflow failed with that `PayloadTooLargeError`, keeping the steps and
 * side effects it had: the replay is deterministic, so retrying the resume
 * would only fail again.
 */
function withinPayloadLimit(
  before: WorkflowData,
  advanced: { record: WorkflowData; steps: TaskData[] },
  limit: number,
  now: number,
): { record: WorkflowData; steps: TaskData[] } {
  try {
    checkWorkflowPayloads(before, advanced, limit, "workflow resume");
    return advanced;
  } catch (error) {
    const failed: ReplayOutcome = {
      kind: "failed",
      steps: before.steps,
      effects: before.effects,
      error,
    };
    return advance(before, failed, now);
  }
}

/** The longest error message a resume's result repeats (the workflow's record keeps it whole). */
const MAX_WHY_CHARS = 2000;

/** What a resume attempt produced: its own record, the steps to add, the workflow to write with them. */
export interface ResumeOutcome {
  readonly record: TaskData;
  readonly children: readonly TaskData[];
  readonly workflow?: { readonly record: WorkflowData; readonly expectedSteps: number };
}

/**
 * The outcome of a resume that ends failed for good — its retries used up, or
 * its workflow defined by no worker for the whole grace period: its
 * workflow fails with the same error, so it does not stay running with
 * nothing left to move it on. When the workflow cannot even be read, only the
 * resume fails (retrying it by hand moves the workflow on again).
 */
export async function failWorkflowOutcome(
  data: TaskData,
  failed: TaskData,
  error: unknown,
  queue: string,
  source: WorkflowSource | undefined,
  now: number,
): Promise<ResumeOutcome> {
  const workflowId = String(data.args[0]);
  try {
    const stored = (await source?.getWorkflows(queue, [workflowId]))?.get(workflowId);
    if (stored?.record.status !== "running") return { record: failed, children: [] };
    const record: WorkflowData = {
      ...stored.record,
      status: "failed",
      pending: [],
      result: null,
      error: errorToData(error),
      finishedAt: isoAt(now),
    };
    return {
      record: failed,
      children: [],
      workflow: { record, expectedSteps: stored.record.steps.length },
    };
  } catch {
    return { record: failed, children: [] };
  }
}

/** Replays the workflow `data` (a resume task) resumes; see the module header. */
export async function resumeWorkflow(
  data: TaskData,
  definition: WorkflowDefinition,
  queue: string,
  source: WorkflowSource,
  now: () => number,
  maxPayloadBytes: number,
): Promise<ResumeOutcome> {
  const workflowId = String(data.args[0]);
  const stored = (await source.getWorkflows(queue, [workflowId])).get(workflowId);
  if (stored?.record.status !== "running") {
    // Cancelled, finished by another resume, deleted or expired: nothing to do.
    const result = { workflow: stored?.record.status ?? "gone" };
    return { record: completedRecord(data, result, now()), children: [] };
  }
  const replay = replayWorkflow({
    definition,
    workflow: stored.record,
    outcomes: stored.outcomes,
    now,
  });
  const at = now();
  const { record, steps } = withinPayloadLimit(
    stored.record,
    advance(stored.record, replay, at),
    maxPayloadBytes,
    at,
  );
  // A failed workflow's error goes with the resume's result too, so a log of the resume can say why.
  const why = record.error
    ? { error: { type: record.error.type, message: record.error.message.slice(0, MAX_WHY_CHARS) } }
    : {};
  return {
    record: completedRecord(
      data,
      { workflow: record.status, steps: record.steps.length, ...why },
      at,
    ),
    children: steps,
    workflow: { record, expectedSteps: stored.record.steps.length },
  };
}

/**
 * A source that reads the workflows asked for in the same turn of the event
 * loop with one backend call: the resumes a claim took start together, and
 * each would otherwise send its own read.
 */
export function batchWorkflowReads(source: WorkflowSource): WorkflowSource {
  const batches = new Map<
    string,
    { ids: Set<string>; read: Promise<Map<string, StoredWorkflow>> }
  >();
  return {
    getWorkflows(queue, ids) {
      let batch = batches.get(queue);
      if (!batch) {
        const wanted = new Set<string>();
        const read = new Promise<Map<string, StoredWorkflow>>((resolve, reject) => {
          setImmediate(() => {
            batches.delete(queue);
            source.getWorkflows(queue, [...wanted]).then(resolve, reject);
          });
        });
        batch = { ids: wanted, read };
        batches.set(queue, batch);
      }
      for (const id of ids) batch.ids.add(id);
      return batch.read.then((all) => {
        const found = new Map<string, StoredWorkflow>();
        for (const id of ids) {
          const stored = all.get(id);
          if (stored) found.set(id, stored);
        }
        return found;
      });
    },
  };
}
