/**
 * @module http/response-schemas
 * What each route answers, as zod schemas: the OpenAPI document describes
 * every success body from them (so a client can be generated from it), and
 * the contract suite checks every answer it gets against them on every
 * backend, so the document cannot drift from what the API sends. Objects are
 * strict: a field the API sends is a field the document names.
 */
import { z } from "zod";
import { TASK_STATE_REASONS } from "../errors.js";
import { TASK_STATUSES } from "../task/task-record.js";
import { WORKFLOW_STATUSES } from "../task/workflow-record.js";

/** Any JSON value (arguments, results, progress). */
const jsonValue = z.unknown().meta({ description: "any JSON value" });
/** An instant, as ISO-8601 text in UTC. */
const instant = z.iso.datetime();
const id = z.string();

/** A stored error: what was thrown, its stack, and what caused it (likewise), made JSON. */
export interface StoredErrorBody {
  type: string;
  message: string;
  stack: string | null;
  cause: StoredErrorBody | null;
  issues?: { message: string; path: (string | number)[] }[] | undefined;
  props?: Record<string, unknown> | undefined;
}

const storedError: z.ZodType<StoredErrorBody> = z
  .lazy(() =>
    z.strictObject({
      type: z.string(),
      message: z.string(),
      stack: z.string().nullable(),
      cause: storedError.nullable(),
      issues: z
        .array(
          z.strictObject({ message: z.string(), path: z.array(z.union([z.string(), z.number()])) }),
        )
        .optional(),
      props: z.record(z.string(), jsonValue).optional(),
    }),
  )
  .meta({ id: "StoredError" });

/**
 * A task's options as stored: the ones every record has are typed; others a
 * later version may add are allowed, so an older client keeps reading.
 */
const taskConfig = z
  .object({
    retry: z.number().int(),
    retryDelay: z
      .union([z.number(), z.array(z.number()), z.record(z.string(), jsonValue)])
      .meta({ description: "seconds, a list of seconds, or a backoff `{ type, … }`" }),
    timeout: z.number().nullable(),
    retryOnTimeout: z.boolean(),
    retryOnCrash: z.boolean(),
    rateLimit: z.record(z.string(), jsonValue).nullable(),
    ttl: z.number().nullable().optional(),
    errorTtl: z.number().nullable().optional(),
  })
  .catchall(jsonValue)
  .meta({ id: "TaskConfig" });

/** A task's record, as `queue.getTask()` reads it (`task.toJSON()`). */
export const taskRecord = z
  .strictObject({
    v: z.number().int(),
    id,
    name: z.string(),
    args: z.array(jsonValue),
    status: z.enum(TASK_STATUSES),
    result: jsonValue,
    resultKind: z.enum(["task", "tasks"]).optional(),
    error: storedError.nullable(),
    config: taskConfig,
    createdAt: instant,
    scheduledAt: instant.nullable(),
    startedAt: instant.nullable(),
    finishedAt: instant.nullable(),
    retryCount: z.number().int(),
    manualRetryCount: z.number().int().optional(),
    lastRetryAt: instant.nullable(),
    nextRetryAt: instant.nullable(),
    workflowId: id.nullable(),
    cronId: id.nullable(),
    priority: z.number().int(),
    concurrencyKey: z.string().nullable(),
    concurrencyLimit: z.number().int().optional(),
    meta: z.record(z.string(), jsonValue),
    progress: jsonValue.optional(),
    logs: z.array(z.string()).optional(),
    dedupeKey: z.string().optional(),
  })
  .meta({ id: "Task" });

/**
 * One task's record as `GET /{queue}/tasks/{id}` gives it: with `claim` while
 * it runs and the backend reports claims — how long ago its worker last
 * renewed the claim, and the lease it claimed it under (`null`: not said).
 * Past that lease, the worker is likely gone and another takes it over.
 */
export const taskWithClaim = taskRecord
  .extend({
    claim: z
      .strictObject({
        renewedAgoMs: z.number().int().nonnegative().meta({
          description:
            "milliseconds since its worker last renewed the claim, by the backend's clock",
        }),
        leaseMs: z.number().int().positive().nullable().meta({
          description:
            "the lease its worker claimed it under; past it, the worker is likely gone and another takes the task over; null: a claim that did not say",
        }),
        worker: z
          .strictObject({ id: z.string(), host: z.string(), pid: z.number().int().nonnegative() })
          .optional()
          .meta({
            description:
              "the worker that says it holds the task (as of its last announcement, every heartbeat); absent until one does",
          }),
      })
      .optional()
      .meta({ description: "while the task runs: its claim's heartbeat" }),
  })
  .meta({ id: "TaskWithClaim" });

/** A task's row in a list with `view=summary`: no arguments, result, options or meta; the error shortened. */
export const taskSummary = taskRecord
  .omit({ args: true, result: true, config: true, meta: true, error: true })
  .extend({
    error: z
      .strictObject({
        type: z.string(),
        message: z.string().meta({ description: "the first 200 characters" }),
      })
      .nullable(),
  })
  .meta({ id: "TaskSummary" });

const workflowRecord = z
  .strictObject({
    v: z.number().int(),
    id,
    name: z.string(),
    args: z.array(jsonValue),
    status: z.enum(WORKFLOW_STATUSES),
    steps: z.array(
      z.strictObject({
        taskId: id,
        index: z.number().int(),
        yield: z.number().int(),
        name: z.string(),
        argsHash: z.string(),
      }),
    ),
    pending: z.array(id),
    effects: z.array(jsonValue),
    result: jsonValue,
    error: storedError.nullable(),
    config: z.strictObject({
      ttl: z.number().nullable().optional(),
      errorTtl: z.number().nullable().optional(),
    }),
    createdAt: instant,
    finishedAt: instant.nullable(),
    retryCount: z.number().int().min(1).optional(),
    seed: z.string().optional().meta({
      description:
        "set on a workflow added under an id of the caller's: it goes into its steps' task ids",
    }),
  })
  .meta({ id: "Workflow" });

const cron = z
  .strictObject({
    id,
    deterministicId: id,
    expression: z.string().nullable(),
    every: z.number().int().nullable(),
    timezone: z.string().nullable(),
    name: z.string(),
    args: z.array(jsonValue),
    config: taskConfig,
    queue: z.string(),
    managedBy: z.enum(["config"]).nullable(),
    createdAt: instant,
    nextRunAt: instant.nullable(),
  })
  .meta({ id: "Cron" });

const count = z.number().int().min(0);
const nextCursor = z
  .string()
  .nullable()
  .meta({ description: "pass it as `cursor` for the next page; null after the last" });
const added = z.strictObject({
  added: z.boolean().meta({ description: "false when the queue already held the task's id" }),
  task: taskRecord,
  warnings: z.array(z.string()).optional(),
});

/** A worker serving a queue, as `GET /{queue}/workers` lists it. */
const liveWorker = z
  .strictObject({
    id: z.string().meta({ description: "unique to one run of one worker" }),
    host: z.string(),
    pid: count,
    startedAt: z.string().meta({ description: "when its run began (ISO 8601)" }),
    seenAgoMs: count.meta({
      description:
        "milliseconds since it last announced itself (every heartbeat), by the backend's clock",
    }),
    queues: z.array(z.string()).meta({ description: "every queue it serves" }),
    concurrency: count.meta({ description: "the most tasks it runs at once" }),
    state: z.enum(["running", "paused", "stopping"]).meta({
      description:
        "paused: worker.pause(), it claims nothing until resumed; stopping: closing, it finishes what it holds",
    }),
    holding: count.meta({
      description:
        "this queue's tasks it held (running, or claimed to run) when it announced itself",
    }),
    holdingAll: count.meta({
      description: "the tasks it held over all its queues: what its concurrency bounds",
    }),
    taskIds: z.array(z.string()).meta({ description: "their ids (at most 1,000)" }),
    processing: z.boolean().meta({ description: "whether it runs tasks" }),
    scheduler: z.boolean().meta({ description: "whether it moves due tasks to pending" }),
    cronManager: z.boolean().meta({ description: "whether it makes the runs of crons" }),
    version: z.string().meta({ description: "the Sheppy version it runs" }),
    everyMs: count.meta({
      description: "how often it announces itself (its heartbeat, ms); 0 when it did not say",
    }),
    tasks: z.array(z.string()).meta({
      description:
        "the names of the tasks it defines (as many as fit in 2,000 characters; empty from a worker of an earlier version)",
    }),
    taskCount: count.meta({
      description: "how many task names it defines: more than tasks holds when that list was cut",
    }),
  })
  .meta({ id: "Worker" });

/** The success body of each JSON route, by `METHOD path`. */
export const RESPONSES: Readonly<Record<string, z.ZodType>> = {
  "GET /queues": z
    .record(z.string(), count)
    .meta({ description: "each queue's count of tasks waiting to be claimed, by name" }),
  "GET /{queue}/size": z.strictObject({ size: count }),
  "GET /{queue}/stats": z.strictObject({
    pending: count,
    scheduled: count,
    processing: count,
    completed: count,
    failed: count,
    crashed: count,
    cancelled: count,
    held: count.optional().meta({
      description:
        "of those pending, the tasks waiting for a free slot of their concurrency key (claimable once a task of their key ends); absent where the backend does not tell",
    }),
    paused: z.boolean(),
    latencyMs: count.meta({
      description:
        "milliseconds the next task to be claimed has waited since it was due (added, or its scheduled or retry time); 0 when none waits",
    }),
    workers: count.nullable().meta({
      description:
        "workers running the queue's tasks now (see GET /{queue}/workers); null when the backend does not keep track of workers",
    }),
  }),
  "GET /{queue}/workers": z.strictObject({
    workers: z.array(liveWorker).nullable().meta({
      description:
        "the workers serving the queue now, longest running first; null when the backend does not keep track of workers",
    }),
  }),
  "POST /{queue}/pause": z.strictObject({ queue: z.string(), paused: z.literal(true) }),
  "POST /{queue}/resume": z.strictObject({ queue: z.string(), paused: z.literal(false) }),
  "GET /{queue}/tasks/pending": z.array(taskRecord),
  "GET /{queue}/tasks/scheduled": z.array(taskRecord),
  "GET /{queue}/tasks": z.strictObject({
    tasks: z.array(z.union([taskRecord, taskSummary])),
    cursor: nextCursor,
  }),
  "POST /{queue}/tasks": added,
  "POST /{queue}/tasks/schedule": added,
  "POST /{queue}/tasks/clear": z.strictObject({
    removed: count.meta({ description: "how many tasks were removed" }),
  }),
  "POST /{queue}/tasks/retry": z.strictObject({
    retried: count.meta({ description: "tasks queued to run again" }),
    skipped: count.meta({
      description:
        "tasks that matched but changed meanwhile (retried, claimed, deleted by others), steps no workflow waits for, or records that could not be read",
    }),
    endedWorkflowSteps: count.meta({
      description:
        "of those skipped, steps of workflows that ended or went on from them (retry the workflow instead)",
    }),
  }),
  "POST /{queue}/tasks/cancel": z.strictObject({
    cancelled: count.meta({ description: "tasks cancelled" }),
    skipped: count.meta({
      description: "tasks that matched but started or finished meanwhile",
    }),
  }),
  "POST /{queue}/tasks/delete": z.strictObject({
    deleted: count.meta({ description: "records deleted" }),
    skipped: count.meta({
      description:
        "records that matched but were retried or claimed meanwhile, or could not be read (left as they are)",
    }),
  }),
  "GET /{queue}/tasks/{id}": taskWithClaim,
  "DELETE /{queue}/tasks/{id}": z.strictObject({ deleted: z.literal(true) }),
  "POST /{queue}/tasks/{id}/retry": taskRecord,
  "POST /{queue}/tasks/{id}/reschedule": taskRecord,
  "POST /{queue}/tasks/{id}/cancel": taskRecord,
  "GET /{queue}/crons": z.array(cron),
  "POST /{queue}/crons": z.strictObject({
    added: z.boolean().meta({ description: "false when an equal cron was registered already" }),
    deterministicId: id,
  }),
  "DELETE /{queue}/crons/{id}": z.strictObject({ deleted: z.literal(true) }),
  "POST /{queue}/workflows": z.strictObject({
    added: z
      .boolean()
      .meta({ description: "false when the queue already held a workflow under the id given" }),
    workflow: workflowRecord,
    warnings: z.array(z.string()).optional(),
  }),
  "GET /{queue}/workflows": z.strictObject({
    workflows: z.array(workflowRecord),
    cursor: nextCursor,
  }),
  "GET /{queue}/workflows/{id}": z.strictObject({
    workflow: workflowRecord,
    steps: z.array(taskRecord.nullable()).meta({
      description: "each step's task record, in the order of `workflow.steps`; null once removed",
    }),
  }),
  "DELETE /{queue}/workflows/{id}": z.strictObject({ deleted: z.literal(true) }),
  "POST /{queue}/workflows/{id}/cancel": workflowRecord,
  "POST /{queue}/workflows/{id}/retry": workflowRecord,
};

/** The error body every refusal and failure answers with. */
export const errorBody = z
  .object({
    error: z.string().meta({ description: "what was wrong, in one line" }),
    issues: z
      .array(
        z
          .object({ message: z.string(), path: z.array(z.union([z.string(), z.number()])) })
          .catchall(jsonValue),
      )
      .optional()
      .meta({ description: "the validator's issues, for bad input" }),
    reason: z.enum(TASK_STATE_REASONS).optional().meta({
      description:
        "on a 409 a task's or workflow's state refused: why — completed (a retry needs force), waiting (not run yet), running, finished, changed (another change came first: read it again), unreadable, cron-fire-time (a cron's run moved ahead of its fire time), workflow-step (act on the workflow), not-found",
    }),
    mayHaveApplied: z.literal(true).optional().meta({
      description:
        "on a 503 answering a change: the backend may have made it all the same (it did not answer in time), and may still — look before sending it again, or add with an id",
    }),
  })
  .meta({ id: "Error" });
