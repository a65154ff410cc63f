/**
 * @module backends/memory/memory-workflows
 * Workflows on one in-memory queue: their records, the finished records of
 * their steps, and how a step's end and a resume's settle change them. Each
 * change here runs inside one synchronous call of the backend, which is what
 * makes it atomic with the task change it goes with.
 */
import { isoAt } from "../../clock.js";
import type { TaskData } from "../../task/task-record.js";
import type { WorkflowData } from "../../task/workflow-record.js";
import type {
  PageRequest,
  StoredWorkflow,
  WorkflowPage,
  WorkflowStepEnd,
  WorkflowWrite,
} from "../backend.js";

/** What the memory backend keeps about one workflow. */
export interface WorkflowEntry {
  record: WorkflowData;
  readonly outcomes: Map<string, TaskData>;
  /** When the finished record expires; `null` while it runs or when it is kept. */
  expiresAt: number | null;
  /** Order of insertion: pages resume after the last one they returned. */
  readonly seq: number;
}

export class MemoryWorkflows {
  readonly entries = new Map<string, WorkflowEntry>();
  #seq = 0;

  /** The live entry of `id` (an expired one is gone for every caller; `expire` deletes it). */
  get(id: string, now: number): WorkflowEntry | undefined {
    const entry = this.entries.get(id);
    if (entry?.expiresAt != null && entry.expiresAt <= now) return undefined;
    return entry;
  }

  /** Stores a new workflow; `false` when the id is taken. */
  add(record: WorkflowData, expiresAt: number | null, now: number): boolean {
    if (this.get(record.id, now)) return false;
    // An expired record under the same id goes; the new one starts a fresh entry.
    this.entries.delete(record.id);
    this.entries.set(record.id, {
      record,
      outcomes: new Map(),
      expiresAt: record.finishedAt === null ? null : expiresAt,
      seq: ++this.#seq,
    });
    return true;
  }

  /**
   * A step ended with `finished`: kept with its workflow, which stops waiting
   * for it. Returns the resume task to add when it was the last step the
   * running workflow waited for, else `null`.
   */
  stepEnded(end: WorkflowStepEnd, finished: TaskData, now: number): TaskData | null {
    const entry = this.get(end.workflowId, now);
    if (entry?.record.status !== "running") return null;
    const pending = entry.record.pending;
    if (!pending.includes(finished.id)) return null;
    entry.outcomes.set(finished.id, finished);
    const left = pending.filter((id) => id !== finished.id);
    entry.record = { ...entry.record, pending: left };
    return left.length === 0 ? end.resume : null;
  }

  /**
   * Writes what a resume left, when the stored workflow is still the one it
   * replayed; returns whether it wrote (and so whether its children may be added).
   */
  write(write: WorkflowWrite, now: number): boolean {
    const entry = this.get(write.record.id, now);
    if (!entry) return false;
    const stored = entry.record;
    if (stored.status !== "running" || stored.steps.length !== write.expectedSteps) return false;
    entry.record = write.record;
    entry.expiresAt = write.record.finishedAt === null ? null : write.expiresAt;
    return true;
  }

  read(ids: readonly string[], now: number): Map<string, StoredWorkflow> {
    const found = new Map<string, StoredWorkflow>();
    for (const id of ids) {
      const entry = this.get(id, now);
      if (entry) found.set(id, { record: entry.record, outcomes: new Map(entry.outcomes) });
    }
    return found;
  }

  /**
   * A page of records in insertion order; the cursor is the insertion number
   * of the last one looked at, so entries deleted meanwhile shift nothing.
   */
  page(
    request: PageRequest & { readonly running?: boolean | undefined },
    now: number,
  ): WorkflowPage {
    const after = Number(request.cursor ?? 0) || 0;
    const limit = request.limit ?? 100;
    const workflows: WorkflowData[] = [];
    let last = after;
    for (const [id, entry] of this.entries) {
      if (entry.seq <= after) continue;
      if (workflows.length >= limit) return { workflows, cursor: String(last) };
      last = entry.seq;
      if (!this.get(id, now)) continue;
      if (request.running && entry.record.status !== "running") continue;
      workflows.push(entry.record);
    }
    return { workflows, cursor: null };
  }

  /** Marks a running workflow cancelled; returns the record, `"finished"`, or `null` when unknown. */
  cancel(
    id: string,
    at: number,
    expiresAt: number | null,
    now: number,
  ): WorkflowData | "finished" | null {
    const entry = this.get(id, now);
    if (!entry) return null;
    if (entry.record.status !== "running") return "finished";
    entry.record = { ...entry.record, status: "cancelled", pending: [], finishedAt: isoAt(at) };
    entry.expiresAt = expiresAt;
    return entry.record;
  }

  /**
   * Makes the failed run ended at `failedAt` run again as `record`, dropping
   * the outcomes of the steps `replaced` names; `false` when the workflow is
   * no longer that run, `null` when unknown.
   */
  reopen(
    id: string,
    record: WorkflowData,
    failedAt: string,
    replaced: readonly string[],
    now: number,
  ): boolean | null {
    const entry = this.get(id, now);
    if (!entry) return null;
    if (entry.record.status !== "failed" || entry.record.finishedAt !== failedAt) return false;
    for (const taskId of replaced) entry.outcomes.delete(taskId);
    entry.record = record;
    entry.expiresAt = null;
    return true;
  }

  delete(id: string, now: number): boolean | "running" {
    const entry = this.get(id, now);
    if (!entry) {
      this.entries.delete(id);
      return false;
    }
    if (entry.record.status === "running") return "running";
    return this.entries.delete(id);
  }

  /** Deletes expired workflow records; returns how many. */
  expire(now: number): number {
    let removed = 0;
    for (const [id, entry] of this.entries) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) {
        this.entries.delete(id);
        removed++;
      }
    }
    return removed;
  }
}
