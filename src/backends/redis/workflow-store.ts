/**
 * @module backends/redis/workflow-store
 * Workflow records on Redis: the JSON in the queue's `workflows` hash, and
 * each workflow's pending task ids in a set of their own
 * (`{p:q}:wf:<id>:pending`), so marking one task done is atomic
 * (`workflow-task-done.lua`) without rewriting the JSON.
 */
import { BackendError } from "../../errors.js";
import type { WorkflowData } from "../backend.js";
import type { QueueKeys } from "./keys.js";
import { type RedisSession, runBatch } from "./session.js";

/** The set of a workflow's pending task ids. */
function pendingKey(k: QueueKeys, workflowId: string): string {
  return `${k.workflow}${workflowId}:pending`;
}

/** Workflows unfinished: neither completed nor failed. */
function isUnfinished(workflow: WorkflowData): boolean {
  return !workflow.completed && (workflow.error ?? null) === null;
}

export class WorkflowStore {
  constructor(private readonly session: RedisSession) {}

  /** Writes the workflow (replacing any stored one with its id). */
  async storeWorkflow(queue: string, workflow: WorkflowData): Promise<boolean> {
    const k = this.session.keys(queue);
    const { pendingTaskIds, ...rest } = workflow;
    // Pending ids live in a set of their own so marking one done is atomic; the JSON keeps a placeholder.
    const json = JSON.stringify(
      pendingTaskIds === undefined ? rest : { ...rest, pendingTaskIds: [] },
    );
    const pending = pendingKey(k, workflow.id);
    const multi = this.session.client.multi().hset(k.workflows, workflow.id, json).del(pending);
    if (pendingTaskIds && pendingTaskIds.length > 0) multi.sadd(pending, ...pendingTaskIds);
    const replies = await multi.exec();
    const failed = replies?.find(([error]) => error);
    if (!replies || failed)
      throw new BackendError(
        `storing workflow ${workflow.id} failed: ${failed?.[0]?.message ?? "aborted"}`,
      );
    return true;
  }

  async getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, WorkflowData>> {
    if (ids.length === 0) return new Map();
    const unique = [...new Set(ids)];
    const values = await this.session.client.hmget(this.session.keys(queue).workflows, ...unique);
    const entries = unique.flatMap((id, i) => (values[i] ? [[id, values[i]] as const] : []));
    const workflows = await this.#read(queue, entries);
    return new Map(workflows.map((w) => [w.id, w]));
  }

  async getAllWorkflows(queue: string): Promise<WorkflowData[]> {
    const all = await this.session.client.hgetall(this.session.keys(queue).workflows);
    return this.#read(queue, Object.entries(all));
  }

  async getPendingWorkflows(queue: string): Promise<WorkflowData[]> {
    return (await this.getAllWorkflows(queue)).filter(isUnfinished);
  }

  async deleteWorkflow(queue: string, id: string): Promise<boolean> {
    const k = this.session.keys(queue);
    const [[, removed] = [null, 0]] = (await this.session.client
      .multi()
      .hdel(k.workflows, id)
      .del(pendingKey(k, id))
      .exec()) ?? [[null, 0]];
    return removed === 1;
  }

  /** Takes `taskId` out of the workflow's pending ids; returns how many are left, or -1 when it was not pending. */
  async markWorkflowTaskComplete(
    queue: string,
    workflowId: string,
    taskId: string,
  ): Promise<number> {
    const k = this.session.keys(queue);
    return (await this.session.script(
      "workflowTaskDone",
      [k.workflows, pendingKey(k, workflowId)],
      [workflowId, taskId],
    )) as number;
  }

  /** Parses stored JSON and fills in each workflow's pending ids from its set. */
  async #read(
    queue: string,
    entries: readonly (readonly [string, string])[],
  ): Promise<WorkflowData[]> {
    const k = this.session.keys(queue);
    const workflows = entries.map(([, json]) => JSON.parse(json) as WorkflowData);
    const withPending = workflows.filter((w) => w.pendingTaskIds !== undefined);
    const members = await runBatch<string[]>(this.session.client, (p) => {
      for (const w of withPending) p.smembers(pendingKey(k, w.id));
    });
    withPending.forEach((w, i) => {
      w.pendingTaskIds = members[i]!;
    });
    return workflows;
  }
}
