/**
 * @module backends/sql/settle-plan
 * What a settle writes, decided in TypeScript from the rows it has locked —
 * the same steps, in the same order, as the memory reference
 * (`../memory/memory-transitions.ts`): per settlement, its verdict (the
 * claim is current → write; its fence was settled already → "settled", a
 * resend; else "lost"), the workflow write a resume carries (only onto the
 * state it replayed), the record routed by its status, a step's end (kept
 * with its workflow; the resume added after the last step waited for), and
 * its chained tasks. Locked rows are updated in memory as it goes, so a
 * batch that touches one workflow twice sees its own changes. Nothing here
 * talks to the database: each backend's settle locks (or reads inside its
 * write transaction), calls {@link planSettle}, and writes the plan.
 */
import { encodeWorkflowData } from "../../task/workflow-codec.js";
import type { Settlement, SettleResult, WorkflowStepEnd } from "../backend.js";
import { routeOf } from "../record-route.js";
import {
  CLAIMABLE,
  CLAIMED,
  FINISHED,
  type StoredColumns,
  storedColumns,
} from "./stored-columns.js";

/** A settlement with its records routed and encoded: everything that can fail does so before any write. */
export interface PreparedSettlement {
  readonly settlement: Settlement;
  readonly columns: StoredColumns;
  /** The record's expiry, when it is finished; else `null`. */
  readonly expiresAt: number | null;
  readonly children: readonly StoredColumns[];
  readonly resume: StoredColumns | null;
  /** The encoded workflow record a resume leaves. */
  readonly workflowData: string | null;
}

/** A locked task row, as a settle needs it. */
export interface LockedTask {
  state: number;
  fence: number;
  settledFence: number;
  expiresAt: number | null;
}

/** A locked workflow row; `changed` once the plan rewrote it. */
export interface LockedWorkflow {
  status: string;
  stepCount: number;
  pending: string[];
  expiresAt: number | null;
  /** New JSON (a resume's write); `null` keeps the stored one. */
  data: string | null;
  finishedAt: string | null;
  changed: boolean;
}

/** A settled record to write: its columns, expiry and the fence it settles. */
export interface TaskWrite extends StoredColumns {
  readonly expiresAt: number | null;
  readonly fence: number;
}

export interface StepOutcome {
  readonly workflowId: string;
  readonly taskId: string;
  readonly data: string;
}

export interface SettlePlan {
  readonly results: SettleResult[];
  readonly writes: TaskWrite[];
  /** New rows, in order: chained tasks and resumes (each only if its id is new). */
  readonly inserts: StoredColumns[];
  readonly outcomes: StepOutcome[];
  /** Task and workflow ids that finished, to announce. */
  readonly finished: string[];
  /** A written record became claimable. */
  claimable: boolean;
  /** Written records with an expiry (the maxFinished bound counts them). */
  expiring: number;
  /** Event bodies of the settlements written now, in order: appended in the same transaction (see {@link eventsWritten}). */
  readonly events: PlannedEvent[];
}

/** An event body of a settle, and the new row it is about when it holds only if that row is inserted. */
export interface PlannedEvent {
  readonly body: string;
  /** The id of a chained task or resume in `inserts`: the body is appended only if its row was new. */
  readonly ifInserted?: string;
}

/** The bodies of `events` to append, given the ids of the rows the plan's inserts actually added. */
export function eventsWritten(
  events: readonly PlannedEvent[],
  inserted: ReadonlySet<string>,
): string[] {
  return events.flatMap((event) =>
    event.ifInserted === undefined || inserted.has(event.ifInserted) ? [event.body] : [],
  );
}

/** Routes and encodes every record of a settle call; throws (writing nothing) when one cannot be stored. */
export function prepareSettlements(
  settlements: readonly Settlement[],
  now: number,
): PreparedSettlement[] {
  return settlements.map((settlement) => {
    const route = routeOf(settlement.record, now);
    // A retry or put-off start whose time has come is stored as what it is now: pending.
    const record =
      route.kind === "claimable" && settlement.record.status !== "pending"
        ? { ...settlement.record, status: "pending" as const }
        : settlement.record;
    const step = settlement.workflowStep;
    return {
      settlement,
      columns: storedColumns(record, route),
      expiresAt: route.kind === "finished" ? settlement.expiresAt : null,
      children: settlement.children.map((child) => storedColumns(child, routeOf(child, null))),
      resume: step ? storedColumns(step.resume, routeOf(step.resume, null)) : null,
      workflowData: settlement.workflow ? encodeWorkflowData(settlement.workflow.record) : null,
    };
  });
}

/** Whether a locked workflow is there for this call (present and not expired by `now`). */
function live(workflow: LockedWorkflow | undefined, now: number): workflow is LockedWorkflow {
  return workflow !== undefined && (workflow.expiresAt === null || workflow.expiresAt > now);
}

/** A new, empty plan. */
export function emptyPlan(): SettlePlan {
  return {
    results: [],
    writes: [],
    inserts: [],
    outcomes: [],
    finished: [],
    claimable: false,
    expiring: 0,
    events: [],
  };
}

/**
 * A step ended finished with the record `data`: while its workflow runs and
 * waits for it, the record is kept with the workflow, which stops waiting
 * for it; after the last step waited for, `resume` is added (returns
 * whether it was).
 */
export function endStep(
  plan: SettlePlan,
  workflows: ReadonlyMap<string, LockedWorkflow>,
  end: WorkflowStepEnd,
  taskId: string,
  data: string,
  resume: StoredColumns,
  now: number,
): boolean {
  const workflow = workflows.get(end.workflowId);
  if (!live(workflow, now) || workflow.status !== "running") return false;
  if (!workflow.pending.includes(taskId)) return false;
  plan.outcomes.push({ workflowId: end.workflowId, taskId, data });
  workflow.pending = workflow.pending.filter((id) => id !== taskId);
  workflow.changed = true;
  if (workflow.pending.length > 0) return false;
  plan.inserts.push(resume);
  return true;
}

/** The verdict on one settlement: write it, it was written already (a resend), or its claim is lost. */
export function verdictOf(
  row: LockedTask | undefined,
  fence: number,
  now: number,
): "write" | SettleResult {
  if (!row) return "lost";
  if (row.state === CLAIMED && row.fence === fence && fence !== 0) return "write";
  if (row.expiresAt !== null && row.expiresAt <= now) return "lost";
  return row.settledFence === fence ? "settled" : "lost";
}

/** Decides every settlement of a call against the locked rows; see the module header. */
export function planSettle(
  prepared: readonly PreparedSettlement[],
  tasks: ReadonlyMap<string, LockedTask>,
  workflows: ReadonlyMap<string, LockedWorkflow>,
  now: number,
): SettlePlan {
  const plan = emptyPlan();
  for (const p of prepared) {
    const s = p.settlement;
    const row = tasks.get(p.columns.id);
    const verdict = verdictOf(row, s.fence, now);
    if (verdict !== "write") {
      plan.results.push(verdict);
      continue;
    }
    // A resume whose workflow moved on (cancelled, or resumed by another) adds no steps.
    const addChildren = s.workflow === undefined || writeWorkflow(plan, workflows, p, now);
    plan.writes.push({ ...p.columns, expiresAt: p.expiresAt, fence: s.fence });
    row!.state = p.columns.state;
    row!.settledFence = s.fence;
    row!.fence = s.fence;
    row!.expiresAt = p.expiresAt;
    let resumed = false;
    if (p.columns.state === FINISHED) {
      plan.finished.push(p.columns.id);
      if (p.expiresAt !== null) plan.expiring++;
      if (s.workflowStep && p.resume) {
        resumed = endStep(
          plan,
          workflows,
          s.workflowStep,
          p.columns.id,
          p.columns.data,
          p.resume,
          now,
        );
      }
    } else if (p.columns.state === CLAIMABLE) {
      plan.claimable = true;
    }
    if (addChildren) plan.inserts.push(...p.children);
    for (const body of s.events ?? []) plan.events.push({ body });
    if (addChildren && s.childEvents) {
      p.children.forEach((child, i) => {
        const body = s.childEvents![i];
        if (body !== undefined) plan.events.push({ body, ifInserted: child.id });
      });
    }
    const resumeEvent = s.workflowStep?.resumeEvent;
    if (resumed && resumeEvent !== undefined)
      plan.events.push({ body: resumeEvent, ifInserted: p.resume!.id });
    // A resume's write that was applied: the workflow's own event (its end), last.
    if (s.workflow && addChildren && s.workflow.event !== undefined)
      plan.events.push({ body: s.workflow.event });
    plan.results.push("settled");
  }
  return plan;
}

/** Applies a resume's workflow write when the stored workflow is the state it replayed; returns whether it did. */
function writeWorkflow(
  plan: SettlePlan,
  workflows: ReadonlyMap<string, LockedWorkflow>,
  p: PreparedSettlement,
  now: number,
): boolean {
  const write = p.settlement.workflow!;
  const workflow = workflows.get(write.record.id);
  if (!live(workflow, now)) return false;
  if (workflow.status !== "running" || workflow.stepCount !== write.expectedSteps) return false;
  const { record } = write;
  workflow.data = p.workflowData;
  workflow.status = record.status;
  workflow.finishedAt = record.finishedAt;
  workflow.pending = [...record.pending];
  workflow.stepCount = record.steps.length;
  workflow.expiresAt = record.finishedAt === null ? null : write.expiresAt;
  workflow.changed = true;
  if (record.finishedAt !== null) plan.finished.push(record.id);
  return true;
}
