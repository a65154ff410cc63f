/**
 * @module backends/redis/workflow-store
 * Workflows on Redis: storing a new one with its first steps, reading them
 * back with their step outcomes, listing, cancelling, deleting and pruning
 * expired ones. A step's end and a resume's write happen in `settle.lua` and
 * `cancel.lua`, atomically with the task change they go with. A workflow's
 * status, finish time and the steps it waits for are kept beside its JSON
 * (the scripts change them without rewriting JSON) and win over it on read.
 */
import { isoAt } from "../../clock.js";
import { SerializationError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import { decodeWorkflowData, encodeWorkflowData } from "../../task/workflow-codec.js";
import type { WorkflowData, WorkflowStatus } from "../../task/workflow-record.js";
import type {
  PageRequest,
  StoredWorkflow,
  WorkflowAddEvents,
  WorkflowCancellation,
  WorkflowPage,
  WorkflowRetry,
} from "../backend.js";
import { creationTimeOf } from "../task-listing.js";
import { claimSpec } from "./claim-spec.js";
import { encodeKeyedRecord, readRecord } from "./record-codec.js";
import { type RedisSession, runBatch } from "./session.js";

/** Expired workflows deleted per script call. */
const PRUNE_BATCH = 500;
const OUTCOME = "o:";

export class WorkflowStore {
  constructor(
    private readonly session: RedisSession,
    private readonly now: () => number,
    /** Most entries of a queue's event log; 0: events given to writes are dropped. */
    private readonly eventCap: number,
  ) {}

  async addWorkflow(
    queue: string,
    record: WorkflowData,
    steps: readonly TaskData[],
    expiresAt: number | null,
    events?: WorkflowAddEvents,
  ): Promise<boolean> {
    const k = this.session.keys(queue);
    this.session.register(queue);
    const finished = record.finishedAt !== null;
    const args: (string | number)[] = [
      k.task,
      k.workflow,
      k.workflowPending,
      this.session.requestToken(),
      record.id,
      encodeWorkflowData(record),
      record.status,
      record.steps.length,
      record.finishedAt ?? "",
      finished && expiresAt !== null ? expiresAt : "",
      k.finishedChannel,
      this.eventCap,
      ...(this.eventCap > 0 && events ? [events.workflow.length, ...events.workflow] : [0]),
      record.pending.length,
      ...record.pending,
    ];
    args.push(...stepArgs(steps, this.eventCap > 0 ? events : undefined));
    const stored = await this.session.script(
      "addWorkflow",
      [k.ids, k.pending, k.wake, k.workflows, k.runningWorkflows, k.workflowExpires, k.events],
      args,
    );
    return stored === 1;
  }

  async retryWorkflow(queue: string, id: string, retry: WorkflowRetry): Promise<boolean | null> {
    const k = this.session.keys(queue);
    const events = this.eventCap > 0 ? retry.events : undefined;
    const args: (string | number)[] = [
      k.task,
      k.workflow,
      k.workflowPending,
      this.session.requestToken(),
      id,
      encodeWorkflowData(retry.record),
      retry.record.steps.length,
      retry.failedAt,
      this.eventCap,
      ...(events ? [events.workflow.length, ...events.workflow] : [0]),
      retry.record.pending.length,
      ...retry.record.pending,
      retry.replaced.length,
      ...retry.replaced,
      ...stepArgs(retry.tasks, events),
    ];
    const answer = await this.session.script(
      "retryWorkflow",
      [
        k.ids,
        k.pending,
        k.wake,
        k.runningWorkflows,
        k.workflowExpires,
        k.events,
        k.done,
        k.counts,
        k.expires,
      ],
      args,
    );
    return answer === null ? null : answer === 1;
  }

  /** The live workflows among `ids`, with their outcomes (missing and expired ones left out). */
  async getWorkflows(queue: string, ids: readonly string[]): Promise<Map<string, StoredWorkflow>> {
    const k = this.session.keys(queue);
    const unique = [...new Set(ids)];
    // The steps waited for are read before the record: a step that ends in between (its outcome
    // written and its wait ended in one script) is then still waited for, or has its outcome
    // read — never neither, which a replay would take for a step to ask for again.
    const rows = await this.session.call("getWorkflows", (client) =>
      runBatch<Record<string, string> | string[]>(client, (p) => {
        for (const id of unique) {
          p.smembers(`${k.workflowPending}${id}`);
          p.hgetall(`${k.workflow}${id}`);
        }
      }),
    );
    const found = new Map<string, StoredWorkflow>();
    const now = this.now();
    unique.forEach((id, i) => {
      const waiting = new Set(rows[2 * i] as string[]);
      const fields = rows[2 * i + 1] as Record<string, string>;
      const stored = readWorkflow(id, fields, waiting, now);
      if (stored) found.set(id, stored);
    });
    return found;
  }

  async runningWorkflows(queue: string, ids: readonly string[]): Promise<ReadonlySet<string>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Set();
    const k = this.session.keys(queue);
    // The set of running workflows, kept beside their records by every write that starts or ends one.
    const member = await this.session.call("runningWorkflows", (client) =>
      client.smismember(k.runningWorkflows, ...unique),
    );
    return new Set(unique.filter((_, i) => member[i] === 1));
  }

  async listWorkflows(
    queue: string,
    page: PageRequest & { readonly running?: boolean | undefined } = {},
  ): Promise<WorkflowPage> {
    const k = this.session.keys(queue);
    const set = page.running ? k.runningWorkflows : k.workflows;
    const [cursor, ids] = await this.session.call("listWorkflows", (client) =>
      client.sscan(set, page.cursor ?? "0", "COUNT", page.limit ?? 100),
    );
    const found = await this.getWorkflows(queue, ids);
    const workflows = ids.flatMap((id) => {
      const record = found.get(id)?.record;
      return record && (!page.running || record.status === "running") ? [record] : [];
    });
    return { workflows, cursor: cursor === "0" ? null : cursor };
  }

  async cancelWorkflow(
    queue: string,
    id: string,
    cancellation: WorkflowCancellation,
  ): Promise<WorkflowData | "finished" | "stale" | null> {
    const k = this.session.keys(queue);
    const bodies = this.eventCap > 0 ? cancellation.events : undefined;
    const bodyArgs = bodies ? [bodies.size, ...[...bodies].flat()] : [""];
    const reply = (await this.session.script(
      "cancelWorkflow",
      [
        k.pending,
        k.scheduled,
        k.processing,
        k.done,
        k.counts,
        k.expires,
        k.runningWorkflows,
        k.workflowExpires,
        k.wake,
        k.events,
      ],
      [
        k.task,
        k.workflow,
        k.workflowPending,
        id,
        isoAt(cancellation.at),
        cancellation.expiresAt ?? "",
        cancellation.stepExpiresAt ?? "",
        k.finishedChannel,
        this.eventCap,
        this.eventCap > 0 ? (cancellation.event ?? "") : "",
        ...bodyArgs,
      ],
    )) as [string, string, string] | "finished" | "stale" | null;
    if (reply === null || reply === "finished" || reply === "stale") return reply;
    const [json, status, finishedAt] = reply;
    const record = decodeWorkflowData(json, `workflow record ${id} in Redis`);
    return { ...record, status: status as WorkflowStatus, finishedAt, pending: [] };
  }

  async deleteWorkflow(queue: string, id: string): Promise<boolean | "running"> {
    const k = this.session.keys(queue);
    const answer = await this.session.script(
      "deleteWorkflow",
      [k.workflows, k.runningWorkflows, k.workflowExpires],
      [k.workflow, k.workflowPending, id, this.now()],
    );
    return answer === 2 ? "running" : answer === 1;
  }

  /** Deletes every workflow of `queue` whose expiry is due by `now`; returns how many. */
  async pruneWorkflows(queue: string, now: number): Promise<number> {
    const k = this.session.keys(queue);
    let deleted = 0;
    for (;;) {
      const [count, seen] = (await this.session.script(
        "pruneWorkflows",
        [k.workflowExpires, k.workflows],
        [k.workflow, k.workflowPending, now, PRUNE_BATCH],
      )) as [number, number];
      deleted += count;
      if (seen < PRUNE_BATCH) return deleted;
    }
  }
}

/** The arguments that add `tasks` with a workflow: (id, json, created, status, claim spec, event body) each. */
function stepArgs(
  tasks: readonly TaskData[],
  events: WorkflowAddEvents | undefined,
): (string | number)[] {
  return tasks.flatMap((task, i) => [
    task.id,
    encodeKeyedRecord(task),
    creationTimeOf(task),
    task.status,
    claimSpec(task),
    events?.steps[i] ?? "",
  ]);
}

/**
 * A stored workflow from its hash fields: the JSON, with the status, finish
 * time and waited-for steps the scripts keep beside it; `null` when there is
 * none or it has expired.
 */
function readWorkflow(
  id: string,
  fields: Record<string, string>,
  waiting: ReadonlySet<string>,
  now: number,
): StoredWorkflow | null {
  const json = fields.d;
  if (json === undefined) return null;
  if (fields.x !== undefined && Number(fields.x) <= now) return null;
  const where = `workflow record ${id} in Redis`;
  const stored = decodeWorkflowData(json, where);
  const status = (fields.st ?? stored.status) as WorkflowStatus;
  const record: WorkflowData = {
    ...stored,
    status,
    finishedAt: fields.fa ?? stored.finishedAt,
    pending: status === "running" ? stored.pending.filter((step) => waiting.has(step)) : [],
  };
  const outcomes = new Map<string, TaskData>();
  for (const [field, value] of Object.entries(fields)) {
    if (!field.startsWith(OUTCOME)) continue;
    const taskId = field.slice(OUTCOME.length);
    try {
      outcomes.set(taskId, readRecord(taskId, value, {}, now));
    } catch (error) {
      if (!(error instanceof SerializationError)) throw error;
    }
  }
  return { record, outcomes };
}
