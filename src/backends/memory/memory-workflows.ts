/**
 * @module backends/memory/memory-workflows
 * One queue's workflow records in memory, keyed by id. Records are replaced,
 * never changed in place, so a caller holding one never sees it move.
 */
import type { WorkflowData } from "../backend.js";

export class MemoryWorkflows {
  readonly #byId = new Map<string, WorkflowData>();

  /** Stores the workflow, replacing any with its id. */
  store(workflow: WorkflowData): void {
    this.#byId.set(workflow.id, workflow);
  }

  /** The stored workflows among `ids` (missing ones left out). */
  getMany(ids: readonly string[]): Map<string, WorkflowData> {
    const found = new Map<string, WorkflowData>();
    for (const id of ids) {
      const workflow = this.#byId.get(id);
      if (workflow) found.set(id, workflow);
    }
    return found;
  }

  all(): WorkflowData[] {
    return [...this.#byId.values()];
  }

  /** Workflows neither completed nor failed. */
  unfinished(): WorkflowData[] {
    return this.all().filter((w) => !w.completed && (w.error ?? null) === null);
  }

  delete(id: string): boolean {
    return this.#byId.delete(id);
  }

  /** Takes `taskId` out of the workflow's pending ids; returns how many are left, or -1 when it was not pending. */
  markTaskComplete(workflowId: string, taskId: string): number {
    const workflow = this.#byId.get(workflowId);
    const pendingIds = workflow?.pendingTaskIds;
    if (!workflow || !pendingIds?.includes(taskId)) return -1;
    const remaining = pendingIds.filter((id) => id !== taskId);
    this.#byId.set(workflowId, { ...workflow, pendingTaskIds: remaining });
    return remaining.length;
  }
}
