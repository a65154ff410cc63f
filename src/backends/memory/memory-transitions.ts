/**
 * @module backends/memory/memory-transitions
 * How records enter and move through one in-memory queue (claims aside, see
 * `./memory-claims.ts`): added as new work; settled at the end of an attempt
 * (fenced, with its chained tasks, in one synchronous step); promoted when
 * due; cancelled before they start; deleted once finished. Nothing here waits
 * or wakes anyone: the caller notifies from what these return.
 */
import { isoAt } from "../../clock.js";
import { readStoredRecord } from "../../task/task-codec.js";
import type { TaskData } from "../../task/task-record.js";
import type { WorkflowData } from "../../task/workflow-record.js";
import type {
  AddMode,
  Settlement,
  SettleResult,
  WorkflowCancellation,
  WorkflowRetry,
  WorkflowStepEnd,
} from "../backend.js";
import { checkNewWork, routeOf } from "../record-route.js";
import { checkRescheduled, mayReschedule } from "../reschedule-rule.js";
import type { CountBounds, MemoryQueueState, TaskEntry } from "./memory-queue-state.js";

/** What a change made claimable, due or finished, for the caller to announce. */
export interface Changes {
  /** A record became claimable: `claim` waiters and the inline runner should look. */
  claimable: boolean;
  /** The earliest time a record now waits for, if any started waiting. */
  nextDue: number | undefined;
  /** Ids that finished. */
  finished: string[];
}

export const noChanges = (): Changes => ({ claimable: false, nextDue: undefined, finished: [] });

function noteDue(changes: Changes, at: number): void {
  if (changes.nextDue === undefined || at < changes.nextDue) changes.nextDue = at;
}

/** Stores `record` under its id, routed as `add` routes new work (a timed record waits even if its time has passed). */
export function storeNew(state: MemoryQueueState, record: TaskData, changes: Changes): void {
  const entry = state.put(record);
  const route = routeOf(record, null);
  if (route.kind === "due") {
    state.due.add(record.id, route.at);
    noteDue(changes, route.at);
  } else if (route.kind === "claimable") {
    if (state.enqueue(entry)) changes.claimable = true;
  } else {
    changes.finished.push(record.id);
  }
}

/** Adds new work (see `TaskStore.add`); returns per record whether it was stored. */
export function addRecords(
  state: MemoryQueueState,
  records: readonly TaskData[],
  mode: AddMode,
  now: number,
): { results: boolean[]; changes: Changes } {
  const read = records.map((given) =>
    readStoredRecord(
      typeof given?.id === "string" ? given.id : "",
      given,
      "task record added to memory",
      now,
    ),
  );
  checkNewWork(
    read.filter((r) => !r.malformed).map((r) => r.record),
    "add",
  );
  const changes = noChanges();
  const seen = new Set<string>();
  const results = read.map(({ record }) => {
    const { id } = record;
    const again = seen.has(id);
    seen.add(id);
    if (again) return false;
    if (mode === "unique" ? state.entries.has(id) : state.claims.has(id)) return false;
    if (mode === "rerun" && !rerunnable(state, record, now)) return false;
    storeNew(state, record, changes);
    return true;
  });
  return { results, changes };
}

/**
 * Whether a `rerun` add may store `record`: the queue holds no record of it
 * (an expired record counts as gone), or a finished one, or one waiting for
 * its automatic retry — the one it was made from, one manual re-run less,
 * not one another rerun has put there since. Claimed ones are refused before this.
 */
function rerunnable(state: MemoryQueueState, record: TaskData, now: number): boolean {
  const entry = state.entries.get(record.id);
  if (!entry || state.isExpired(entry, now)) return true;
  const stored = entry.record;
  if (stored.finishedAt === null && stored.status !== "retrying") return false;
  return (stored.manualRetryCount ?? 0) === (record.manualRetryCount ?? 0) - 1;
}

/** Whether settlement `s` may be written: its claim is current. `null` when it was written already (a resend). */
function mayWrite(
  state: MemoryQueueState,
  entry: TaskEntry | undefined,
  s: Settlement,
  now: number,
): boolean | null {
  if (!entry) return false;
  // A claimed record is not finished, so it cannot have expired.
  if (entry.claimFence === s.fence && s.fence !== 0) return true;
  if (state.isExpired(entry, now)) return false;
  return entry.settledFence === s.fence ? null : false;
}

/** Writes settlements (see `TaskStore.settle`), each all or nothing; returns one result per settlement. */
export function settleRecords(
  state: MemoryQueueState,
  settlements: readonly Settlement[],
  now: number,
  bounds: CountBounds,
): { results: SettleResult[]; changes: Changes; events: string[] } {
  // Route everything first: a bad record is refused before anything is written.
  const routes = settlements.map((s) => routeOf(s.record, now));
  const changes = noChanges();
  const events: string[] = [];
  const results = settlements.map((s, i): SettleResult => {
    let record = s.record;
    const { id } = record;
    const entry = state.entries.get(id);
    const verdict = mayWrite(state, entry, s, now);
    if (verdict === null) return "settled";
    if (!verdict) return "lost";
    if (s.events) events.push(...s.events);
    // A resume whose workflow moved on (cancelled, or resumed by another) adds no steps.
    const addChildren = s.workflow === undefined || state.workflows.write(s.workflow, now);
    if (s.workflow && addChildren && s.workflow.record.finishedAt !== null) {
      changes.finished.push(s.workflow.record.id);
    }
    state.unlink(id, entry!);
    entry!.settledFence = s.fence;
    const route = routes[i]!;
    let resumed = false;
    if (route.kind === "finished") {
      if (s.expiresAt !== null) state.expireAt(entry!, s.expiresAt, record.status);
      changes.finished.push(id);
      if (s.workflowStep) resumed = stepEnded(state, s.workflowStep, record, now, changes);
    } else if (route.kind === "due") {
      state.due.add(id, route.at);
      noteDue(changes, route.at);
    } else {
      if (record.status !== "pending") record = { ...record, status: "pending" };
      entry!.record = record;
      if (state.enqueue(entry!)) changes.claimable = true;
    }
    entry!.record = record;
    if (addChildren) {
      s.children.forEach((child, j) => {
        if (state.entries.has(child.id)) return;
        storeNew(state, child, changes);
        const event = s.childEvents?.[j];
        if (event !== undefined) events.push(event);
      });
    }
    if (resumed && s.workflowStep?.resumeEvent !== undefined)
      events.push(s.workflowStep.resumeEvent);
    if (s.workflow && addChildren && s.workflow.event !== undefined) events.push(s.workflow.event);
    return "settled";
  });
  state.bound(bounds);
  state.expire(now);
  return { results, changes, events };
}

/** Makes every record due by `now` claimable; returns their ids, earliest first. */
export function promoteDue(state: MemoryQueueState, now: number): string[] {
  const moved = state.due.takeDue(now);
  for (const id of moved) makeClaimable(state, id);
  return moved;
}

/** Makes the waiting records among `ids` claimable whatever their time (a test queue runs retries at once). */
export function promoteIds(state: MemoryQueueState, ids: readonly string[]): string[] {
  const moved = ids.filter((id) => state.due.delete(id));
  for (const id of moved) makeClaimable(state, id);
  return moved;
}

function makeClaimable(state: MemoryQueueState, id: string): void {
  const entry = state.entries.get(id);
  if (!entry) return;
  entry.record = { ...entry.record, status: "pending" };
  state.enqueue(entry);
}

/**
 * A workflow step ended finished: its workflow stops waiting for it, and is
 * resumed after its last step. Returns whether the resume was added.
 */
function stepEnded(
  state: MemoryQueueState,
  end: WorkflowStepEnd,
  finished: TaskData,
  now: number,
  changes: Changes,
): boolean {
  const resume = state.workflows.stepEnded(end, finished, now);
  if (!resume || state.entries.has(resume.id)) return false;
  storeNew(state, resume, changes);
  return true;
}

/**
 * Whether `id` waits to run, claimable or for a time, and is not claimed —
 * or, with `running`, is claimed: what a cancel cancels.
 */
function isCancellable(state: MemoryQueueState, id: string, running: boolean): boolean {
  const entry = state.entries.get(id);
  if (!entry || entry.record.finishedAt !== null) return false;
  if (entry.claimFence !== 0) return running;
  return state.isWaitingForClaim(entry) || state.due.has(id);
}

/**
 * Cancels a claimable or waiting task that is not claimed — or, with
 * `running`, a claimed one, whose claim ends (its slot is freed; its
 * holder's renewal and settle find it lost); returns its cancelled record,
 * or `null`. `resumed` is set when the cancel ended the last step of a
 * workflow and added its resume.
 */
export function cancelTask(
  state: MemoryQueueState,
  id: string,
  at: number,
  expiresAt: number | null,
  changes: Changes,
  options: { workflowStep?: WorkflowStepEnd | undefined; running?: boolean | undefined } = {},
  resumed?: { added: boolean },
): TaskData | null {
  const { workflowStep } = options;
  if (!isCancellable(state, id, options.running === true)) return null;
  const entry = state.entries.get(id)!;
  const wasClaimed = entry.claimFence !== 0;
  state.unlink(id, entry);
  // A freed slot or room under a cap: a held task or a waiting claim may go on.
  if (wasClaimed) changes.claimable = true;
  const cancelled: TaskData = { ...entry.record, status: "cancelled", finishedAt: isoAt(at) };
  entry.record = cancelled;
  if (expiresAt !== null) state.expireAt(entry, expiresAt, cancelled.status);
  changes.finished.push(id);
  if (workflowStep && stepEnded(state, workflowStep, cancelled, at, changes) && resumed)
    resumed.added = true;
  return cancelled;
}

/** Replaces waiting task `givenRead`'s record with `givenNext` (see `TaskStore.reschedule`); whether it did. */
export function rescheduleRecord(
  state: MemoryQueueState,
  givenRead: TaskData,
  givenNext: TaskData,
  now: number,
  changes: Changes,
): boolean {
  const { read, next } = checkRescheduled(givenRead, givenNext, "memory");
  const entry = state.entries.get(read.id);
  const stored = entry === undefined || state.isExpired(entry, now) ? undefined : entry.record;
  if (!mayReschedule(stored, state.claims.has(read.id), read)) return false;
  storeNew(state, next, changes);
  return true;
}

/** Deletes a finished record (expired ones pruned first); `false` when there is none or it has not finished. */
export function deleteFinished(state: MemoryQueueState, id: string, now: number): boolean {
  state.expire(now);
  const entry = state.entries.get(id);
  if (!entry || entry.record.finishedAt === null) return false;
  return state.remove(id);
}

/** Stores a new workflow and its first steps together; `false`, storing nothing, when the id is taken. */
export function addWorkflow(
  state: MemoryQueueState,
  record: WorkflowData,
  steps: readonly TaskData[],
  expiresAt: number | null,
  now: number,
  stepEvents?: readonly string[],
): { added: boolean; changes: Changes; events: string[] } {
  const changes = noChanges();
  const events: string[] = [];
  checkNewWork(steps, "addWorkflow");
  if (!state.workflows.add(record, expiresAt, now)) return { added: false, changes, events };
  steps.forEach((step, i) => {
    if (state.entries.has(step.id)) return;
    storeNew(state, step, changes);
    const event = stepEvents?.[i];
    if (event !== undefined) events.push(event);
  });
  if (record.finishedAt !== null) changes.finished.push(record.id);
  return { added: true, changes, events };
}

/** Runs a failed workflow again with the tasks that move it on (see `WorkflowStore.retryWorkflow`). */
export function retryWorkflow(
  state: MemoryQueueState,
  id: string,
  retry: WorkflowRetry,
  now: number,
): { retried: boolean | null; changes: Changes; events: string[] } {
  const changes = noChanges();
  checkNewWork(retry.tasks, "retryWorkflow");
  const { record, failedAt, replaced } = retry;
  const retried = state.workflows.reopen(id, { ...record, id }, failedAt, replaced, now);
  if (retried !== true) return { retried, changes, events: [] };
  for (const stepId of replaced) deleteFinished(state, stepId, now);
  const events = [...(retry.events?.workflow ?? [])];
  retry.tasks.forEach((task, i) => {
    if (state.entries.has(task.id)) return;
    storeNew(state, task, changes);
    const event = retry.events?.steps[i];
    if (event !== undefined) events.push(event);
  });
  return { retried, changes, events };
}

/** Cancels a running workflow and its steps that have not started. */
export function cancelWorkflow(
  state: MemoryQueueState,
  id: string,
  cancellation: WorkflowCancellation,
  now: number,
): { result: WorkflowData | "finished" | "stale" | null; changes: Changes; events: string[] } {
  const changes = noChanges();
  const events: string[] = [];
  const waitedFor = state.workflows.get(id, now)?.record.pending ?? [];
  const bodies = cancellation.events;
  if (bodies && state.workflows.get(id, now)?.record.status === "running") {
    // Every step it cancels must have its event: one missing was added after the caller's read.
    const unknown = waitedFor.some(
      (stepId) => !bodies.has(stepId) && isCancellable(state, stepId, false),
    );
    if (unknown) return { result: "stale", changes, events };
  }
  const result = state.workflows.cancel(id, cancellation.at, cancellation.expiresAt, now);
  if (typeof result !== "object" || result === null) return { result, changes, events };
  for (const stepId of waitedFor) {
    const cancelled = cancelTask(
      state,
      stepId,
      cancellation.at,
      cancellation.stepExpiresAt,
      changes,
    );
    const event = bodies?.get(stepId);
    if (cancelled && event !== undefined) events.push(event);
  }
  changes.finished.push(id);
  return { result, changes, events };
}
