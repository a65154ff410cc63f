/**
 * @module http/routes
 * Every route of the HTTP API, described once: method, path, what it reads
 * and takes (zod schemas), whether it changes anything, and what it does.
 * The handler routes and validates from this table, and the OpenAPI document
 * is generated from it, so the two cannot drift apart.
 */

import { z } from "zod";
import { isListCursor } from "../backends/task-listing.js";
import { TaskNotFoundError, WorkflowNotFoundError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { PROMETHEUS_CONTENT_TYPE } from "../observability/prometheus-text.js";
import { CANCELLABLE_STATUSES } from "../queue/cancel-all.js";
import { cronDeterministicId, declaredCronDeletionRefusal } from "../queue/cron.js";
import { MAX_EVERY_SECONDS, parseCronSchedule } from "../queue/cron-schedule.js";
import { PURGEABLE_STATUSES } from "../queue/delete-all.js";
import { heldDiffersMessage } from "../queue/held-differs.js";
import { listingMatcher } from "../queue/list-tasks.js";
import { holderAmong } from "../queue/live-worker.js";
import type { Queue } from "../queue/queue.js";
import { REDRIVE_STATUSES } from "../queue/retry-all.js";
import { decodeWorkflow, startWorkflow } from "../queue/workflow-api.js";
import { workflowOf } from "../task/define-workflow.js";
import {
  missingArgumentsWarning,
  missingWorkflowArgumentsWarning,
} from "../task/missing-arguments.js";
import { MAX_PRIORITY, MIN_PRIORITY } from "../task/priority.js";
import { taskSpecByName } from "../task/task-by-name.js";
import { newTaskData, TASK_STATUSES, Task, type TaskStatus } from "../task/task-record.js";
import { findTask } from "../task/task-registry.js";
import { WORKFLOW_STATUSES, type Workflow } from "../task/workflow-record.js";
import { findWorkflow } from "../task/workflow-registry.js";
import { isResumeTaskName } from "../task/workflow-resume-task.js";
import { uuidV7 } from "../util/uuid-v7.js";
import { HttpError } from "./api-error.js";
import { eventStream, eventTypesOf, queueInfo, resumePosition } from "./events.js";
import { metricsResponse } from "./metrics.js";
import { firstWithinBudget, taskPage } from "./task-page.js";

/** What a route's handler gets. */
export interface RouteContext<Q, B> {
  /** The queue named by the path's `{queue}` (routes without one get none). */
  readonly queue: Queue;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Q;
  readonly body: B;
  /** Every queue of the backend with its pending count (for routes that list them). */
  listQueues(): Promise<Record<string, number>>;
  /** The handler's `Queue` of this name (routes that read several queues). */
  queueNamed(name: string): Queue;
  /** Aborts when the client goes away (streams stop then). */
  readonly signal: AbortSignal;
  /** The request's headers (a stream resumes after `Last-Event-ID`). */
  readonly headers: Headers;
  /** For a stream: call once when it has ended (the handler counts the streams open). */
  readonly streamClosed: () => void;
  /** Whether the caller may add tasks of this name (`addableTasks`): `true`, or a refusal (`false`, or the names it may add). */
  readonly addable: (name: string) => boolean | readonly string[];
}

export interface Route<Q = unknown, B = unknown> {
  readonly method: "GET" | "POST" | "DELETE";
  /** `/{queue}/tasks/{id}`: `{name}` segments are parameters. */
  readonly path: string;
  readonly summary: string;
  /** Changes something: refused in read-only mode, and needs a JSON body from the same origin. */
  readonly mutating: boolean;
  readonly query?: z.ZodType<Q> | undefined;
  /** What a change takes; a change without one takes no fields (`route` gives it {@link NO_BODY}). */
  readonly body?: z.ZodType<B> | undefined;
  /** The status of a success (200 unless said). */
  readonly status?: number;
  /** The answer is a stream of this media type: `handle` returns the `Response` itself. */
  readonly stream?: string;
  /** The answer is a document of this media type, not JSON: `handle` returns the `Response` itself. */
  readonly media?: string;
  /** Serves a queue that holds nothing yet (a live view may subscribe before the first task). */
  readonly anyQueue?: boolean;
  /**
   * A change that acts only on what the queue holds (a bulk retry, cancel or
   * delete): a queue that holds nothing is a 404, as for a read — a
   * misspelt name would otherwise answer a success that did nothing.
   */
  readonly onHeld?: boolean;
  handle(context: RouteContext<Q, B>): Promise<unknown>;
}

/**
 * The body of a change that takes none: nothing, or `{}`. A field in it is
 * refused rather than ignored, so a client that sends `{ "force": true }` or
 * a misspelt field is not led to believe it was honoured.
 */
export const NO_BODY = z.strictObject({}).optional();

function route<Q = undefined, B = undefined>(definition: Route<Q, B>): Route {
  if (definition.mutating && !definition.body) return { ...definition, body: NO_BODY } as Route;
  return definition as unknown as Route;
}

/**
 * A page size, as the query string's digits. Read strictly rather than by
 * `Number()`, which takes `1e2`, `0x10`, ` 5` and `5.0` as numbers: a client
 * that sends one of those has made a mistake worth hearing about. The
 * document still says integer, which is what typed clients send.
 */
const limit = (fallback: number) =>
  z
    .preprocess(
      (value, context) => {
        if (typeof value !== "string") return value;
        const n = /^\d{1,4}$/.test(value) ? Number(value) : 0;
        if (n >= 1 && n <= 1000) return n;
        context.addIssue({
          code: "custom",
          message: `expected a whole number from 1 to 1000 (got '${value.slice(0, 40)}')`,
          input: value,
        });
        return z.NEVER;
      },
      z.int().min(1).max(1000).meta({ default: fallback }),
    )
    .default(fallback);
/**
 * An argument: any JSON value, passed on as the request body's JSON parse made
 * it. Not `z.json()`, whose copy of an object assigns each key and so drops a
 * `__proto__` key that `queue.add` would store. The task's own checks (its
 * schema, the JSON and depth limits) run when the task is made.
 */
const json = z.unknown() as z.ZodType<JsonValue>;
/** A due time: ISO-8601 text with an offset, or seconds from now. */
const when = z.union([z.string(), z.number()]).meta({
  description: "ISO-8601 text with an offset (Z or ±hh:mm), or a number of seconds from now",
});
/** A priority: a 32-bit integer, as every backend stores it. */
const taskPriority = z.number().int().min(MIN_PRIORITY).max(MAX_PRIORITY);
const newTask = z.strictObject({
  name: z.string().min(1),
  args: z.array(json).default([]),
  id: z.string().optional().meta({
    description:
      "an id of yours to store the task under: added once, so a request sent again (after a 503, a lost answer) adds nothing and answers added: false with the task as stored",
  }),
});

/** Adds `task` (at `at`, when given) under the body's id when it names one; whether it was added. */
async function addFromBody(
  queue: Queue,
  task: Task,
  id: string | undefined,
  at?: string | number,
): Promise<{ added: boolean; id: string }> {
  if (id === undefined) {
    const added = at === undefined ? await queue.add(task) : await queue.schedule(task, at);
    return { added, id: task.id };
  }
  const result =
    at === undefined ? await queue.add(task, { id }) : await queue.schedule(task, at, { id });
  return { added: result.outcome === "added", id: result.id };
}
/** The largest scan cursor a backend hands out (Redis's are unsigned 64-bit numbers). */
const MAX_SCAN_CURSOR = 2n ** 64n - 1n;
/** A cursor of a page in a backend's scan order, as the backends hand them out (decimal numbers). */
const scanCursor = z
  .string()
  // A cursor of the wrong form stops here: one issue, and the number below is read only when it is one.
  .regex(/^\d{1,20}$/, { message: "a cursor from an earlier page", abort: true })
  .refine((cursor) => BigInt(cursor) <= MAX_SCAN_CURSOR, "a cursor from an earlier page")
  .optional();
/** A cursor of the newest-first task listing, as `listTasks` hands them out (opaque, URL-safe). */
const listCursor = z
  .string()
  .regex(/^-?\d{1,16}\.[A-Za-z0-9_-]{1,8000}$/, {
    message: "a cursor from an earlier page",
    abort: true,
  })
  .refine(isListCursor, "a cursor from an earlier page")
  .optional();

/** `?name=a,b` as a set of task names; a list that names none is a 400, as an empty `status` is. */
function namesQuery(raw: string | undefined): ReadonlySet<string> | undefined {
  if (raw === undefined) return undefined;
  const names = raw
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  if (names.length === 0) {
    throw new HttpError(400, "name names no task: give one or more task names, comma-separated");
  }
  return new Set(names);
}

/** A time of a query string (`since=3600`, `since=2026-12-01T00:00:00Z`): seconds before now when it is a number. */
function whenQuery(raw: string | undefined): string | number | undefined {
  if (raw === undefined) return undefined;
  return /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : raw;
}

/** A 403 when `addableTasks` does not let the caller add tasks (or run a workflow) named `name`. */
function refuseUnaddable(
  name: string,
  addable: RouteContext<unknown, unknown>["addable"],
  what: "task" | "workflow" = "task",
  verb: "added" | "retried" = "added",
): void {
  const allowed = addable(name);
  if (allowed === true) return;
  const listed = Array.isArray(allowed)
    ? ` (it may add: ${allowed.length === 0 ? "none" : allowed.join(", ")})`
    : "";
  throw new HttpError(403, `${what} '${name}' may not be ${verb} through this API${listed}`);
}

/**
 * A new workflow of a registered definition, from its name and JSON
 * arguments, when the caller may add it (`addableTasks` lists workflows by
 * name too).
 */
function workflowFrom(
  name: string,
  args: readonly JsonValue[],
  addable: RouteContext<unknown, unknown>["addable"],
): Workflow {
  refuseUnaddable(name, addable, "workflow");
  const definition = findWorkflow(name);
  if (!definition) {
    throw new HttpError(
      400,
      findTask(name) && !isResumeTaskName(name)
        ? `'${name}' is a task, not a workflow: add it with POST /{queue}/tasks`
        : `no workflow named '${name}' is defined in the serving process`,
    );
  }
  return workflowOf(definition, args);
}

/**
 * A 403 for a redrive that names no task while `addableTasks` limits what
 * the caller may add: it would run again tasks of any name.
 */
function refuseUnnamedRedrive(addable: RouteContext<unknown, unknown>["addable"]): void {
  // No task is named so: only a caller who may add every name passes.
  const allowed = addable("\u0000");
  if (allowed === true) return;
  const listed = Array.isArray(allowed)
    ? ` (it may add: ${allowed.length === 0 ? "none" : allowed.join(", ")})`
    : "";
  throw new HttpError(
    403,
    `name the tasks to run again: this API may run again only tasks it may add${listed}`,
  );
}

/** The filters over finished tasks that a redrive's body and a purge's share. */
const finishedFilterFields = {
  name: oneOrMany(z.string().min(1)).optional(),
  concurrencyKey: oneOrMany(z.string().min(1)).optional(),
  since: when.optional().meta({
    description:
      "only tasks that finished at or after this time: ISO-8601 text with an offset, or seconds before now",
  }),
  before: when.optional().meta({
    description:
      "only tasks that finished before this time: ISO-8601 text with an offset, or seconds before now",
  }),
  error: z.string().min(1).optional().meta({
    description:
      "only tasks whose stored error's type or message contains this text (503, ECONNRESET; case-sensitive): the failures of one cause",
  }),
};

/** A bulk action's preview switch: count what it would do, change nothing. */
const dryRunField = {
  dryRun: z.boolean().optional().meta({
    description:
      "change nothing: answer with the counts the action would give, as the tasks are now",
  }),
};

/** `body` without the fields it left out, as the queue's options take them (an absent option, not `undefined`). */
function given<T extends object>(body: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

/** One value or a non-empty list of them. */
function oneOrMany<T extends z.ZodType>(item: T) {
  return z.union([item, z.array(item).min(1)]);
}

/**
 * A task of a registered definition, from its name and JSON arguments, when
 * the caller may add it. An unknown name is not answered with the names this
 * process knows (internal ones among them): only with those `addableTasks`
 * lists, when it lists them.
 */
function taskFrom(
  name: string,
  args: readonly JsonValue[],
  addable: RouteContext<unknown, unknown>["addable"],
): Task {
  refuseUnaddable(name, addable);
  if (!findTask(name) && !findWorkflow(name)) {
    throw new HttpError(400, `no task named '${name}' is defined in the serving process`);
  }
  if (isResumeTaskName(name)) {
    throw new HttpError(400, `'${name}' resumes a workflow; it is not a task to add`);
  }
  if (findWorkflow(name) && !findTask(name)) {
    throw new HttpError(
      400,
      `'${name}' is a workflow, not a task: this route adds tasks; start a workflow with POST /{queue}/workflows`,
    );
  }
  const spec = taskSpecByName(name, args);
  const { priority, concurrency } = spec;
  return new Task(
    newTaskData(uuidV7(), spec.name, spec.args, spec.config, Date.now(), { priority, concurrency }),
    null,
  );
}

/**
 * `{ warnings }` when the task was given fewer arguments than its function
 * declares (it is added all the same), or when its id was `held` by a task
 * of another name or other arguments (nothing was added).
 */
function warningsFor(task: Task, held: Task | null): { warnings?: string[] } {
  const warnings = [
    missingArgumentsWarning(task),
    held && heldDiffersMessage("task", held.id, task, held, "use another id"),
  ].filter((warning): warning is string => typeof warning === "string");
  return warnings.length === 0 ? {} : { warnings };
}

async function taskOr404(queue: Queue, id: string): Promise<Task> {
  const found = await queue.getTask(id);
  if (!found) throw new TaskNotFoundError(id, queue.name);
  return found;
}

export const ROUTES: readonly Route[] = [
  route({
    method: "GET",
    path: "/queues",
    summary:
      "Every queue that holds tasks or crons, or is paused, with its count of tasks waiting to be claimed",
    mutating: false,
    handle: (c) => c.listQueues(),
  }),
  route({
    method: "GET",
    path: "/metrics",
    summary:
      "Prometheus metrics (text format 0.0.4) of every queue the backend lists, or of the comma-separated `queue` list: this process's task counters and histograms, and each queue's counts by status",
    mutating: false,
    media: PROMETHEUS_CONTENT_TYPE,
    query: z.object({ queue: z.string().optional() }),
    handle: (c) => metricsResponse(c.query.queue, c.queueNamed, c.listQueues),
  }),
  route({
    method: "GET",
    path: "/{queue}/size",
    summary: "How many tasks are pending",
    mutating: false,
    handle: async (c) => ({ size: await c.queue.size() }),
  }),
  route({
    method: "GET",
    path: "/{queue}/stats",
    summary:
      "Counts by life stage (pending — of them `held` waiting for a slot of their concurrency key — scheduled, processing, and each finished status), whether the queue is paused, how long its next task has waited since it was due (latencyMs) and how many workers run its tasks now (workers)",
    mutating: false,
    handle: (c) => queueInfo(c.queue),
  }),
  route({
    method: "GET",
    path: "/{queue}/workers",
    summary:
      "The workers serving the queue now — each announces itself every heartbeat and drops out a lease after it stops — with what they hold; null where the backend does not keep track",
    mutating: false,
    // Whether anything serves a queue that holds nothing yet is a fair question (a deploy's check).
    anyQueue: true,
    handle: async (c) => ({ workers: await c.queue.workers() }),
  }),
  route({
    method: "POST",
    path: "/{queue}/pause",
    summary:
      "Pause the queue: no worker claims its tasks until it is resumed (running tasks finish; adds go on)",
    mutating: true,
    handle: async (c) => {
      await c.queue.pause();
      return { queue: c.queue.name, paused: true };
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/resume",
    summary: "Resume a paused queue: workers claim its tasks again at once",
    mutating: true,
    handle: async (c) => {
      await c.queue.resume();
      return { queue: c.queue.name, paused: false };
    },
  }),
  route({
    method: "GET",
    path: "/{queue}/tasks/pending",
    summary:
      "The first pending tasks, oldest first: `limit` of them, fewer when their JSON passes about 8 MiB (at least one)",
    mutating: false,
    query: z.object({ limit: limit(100) }),
    handle: async (c) =>
      firstWithinBudget((await c.queue.getPending(c.query.limit)).map((t) => t.toJSON())),
  }),
  route({
    method: "GET",
    path: "/{queue}/tasks/scheduled",
    summary:
      "The first tasks waiting for a time (scheduled, retries), earliest first: `limit` of them, fewer when their JSON passes about 8 MiB (at least one)",
    mutating: false,
    query: z.object({ limit: limit(100) }),
    handle: async (c) =>
      firstWithinBudget((await c.queue.getScheduled(c.query.limit)).map((t) => t.toJSON())),
  }),
  route({
    method: "GET",
    path: "/{queue}/tasks",
    summary:
      "The queue's tasks newest first (by creation time), a page at a time, optionally of some statuses only, of some task names only (`name=emails.send,reports.build`) and of one concurrency key only (`concurrencyKey=tenant:acme`, matched whole; a tenant's tasks), of one dedupe key only (`dedupeKey=reindex:42`, matched whole), whose stored error mentions a text (`error=ECONNRESET`, in its type or message, case-sensitive) and that finished in a window (`since`, `before`: ISO-8601 with an offset, or seconds before now); filtered by the server, which looks at a bounded stretch of the queue per request: a page may hold fewer than `limit`, none even, while `cursor` is not null); a page holds at most about 8 MiB of JSON, fewer rows when they are large (one larger row comes alone), the cursor resuming after the last; `view=summary` leaves out arguments, results, meta and options, and keeps an error as its type and the first 200 characters of its message (a list view's rows)",
    mutating: false,
    query: z.object({
      status: z.string().optional(),
      name: z.string().min(1).optional(),
      concurrencyKey: z.string().min(1).optional(),
      // Checked by the listing, whose messages say what the value must be.
      dedupeKey: z.string().optional(),
      error: z.string().optional(),
      since: z.string().min(1).optional(),
      before: z.string().min(1).optional(),
      cursor: listCursor,
      limit: limit(100),
      view: z.enum(["full", "summary"]).default("full"),
    }),
    handle: async (c) => {
      const statuses = c.query.status?.split(",").map((s) => s.trim());
      const unknown = statuses?.find((s) => !(TASK_STATUSES as readonly string[]).includes(s));
      if (unknown !== undefined) {
        throw new HttpError(
          400,
          `unknown status '${unknown}' (one of: ${TASK_STATUSES.join(", ")})`,
        );
      }
      const names = namesQuery(c.query.name);
      const matches = listingMatcher(
        {
          name: names && [...names],
          concurrencyKey: c.query.concurrencyKey,
          dedupeKey: c.query.dedupeKey,
          error: c.query.error,
          since: whenQuery(c.query.since),
          before: whenQuery(c.query.before),
        },
        c.queue.clock.now(),
        "queue.listTasks()",
      );
      return taskPage(c.queue, {
        statuses: statuses as TaskStatus[] | undefined,
        matches,
        cursor: c.query.cursor ?? null,
        limit: c.query.limit,
        summary: c.query.view === "summary",
      });
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/tasks",
    summary: "Add a task of a registered definition, by name, with JSON arguments",
    mutating: true,
    status: 201,
    body: newTask,
    handle: async (c) => {
      const task = taskFrom(c.body.name, c.body.args, c.addable);
      const { added, id } = await addFromBody(c.queue, task, c.body.id);
      const held = (await c.queue.getTask(id)) ?? task;
      return { added, task: held.toJSON(), ...warningsFor(task, added ? null : held) };
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/tasks/schedule",
    summary: "Add a task that runs at a time (ISO-8601 with an offset) or after seconds",
    mutating: true,
    status: 201,
    body: z.strictObject({ ...newTask.shape, at: when }),
    handle: async (c) => {
      const task = taskFrom(c.body.name, c.body.args, c.addable);
      const { added, id } = await addFromBody(c.queue, task, c.body.id, c.body.at);
      const held = (await c.queue.getTask(id)) ?? task;
      return { added, task: held.toJSON(), ...warningsFor(task, added ? null : held) };
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/tasks/clear",
    summary: "Remove every task, workflow and cron of the queue",
    mutating: true,
    handle: async (c) => ({ removed: await c.queue.clear() }),
  }),
  route({
    method: "POST",
    path: "/{queue}/tasks/retry",
    onHeld: true,
    summary:
      "Run every finished task of some statuses (default failed), names, concurrency keys, finished since a time, again; a cancelled one waiting for a time still ahead goes back to that time",
    mutating: true,
    body: z
      .strictObject({
        status: oneOrMany(z.enum(REDRIVE_STATUSES)).optional(),
        ...finishedFilterFields,
        ...dryRunField,
      })
      .default({}),
    handle: async (c) => {
      const names = c.body.name === undefined ? undefined : [c.body.name].flat();
      // Running tasks again is adding them again: only tasks the caller may add.
      if (names === undefined) refuseUnnamedRedrive(c.addable);
      for (const name of names ?? []) refuseUnaddable(name, c.addable);
      return c.queue.retryAll(given(c.body));
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/tasks/cancel",
    onHeld: true,
    summary:
      "Cancel every task that has not started (or of some statuses, names, concurrency keys); force: running ones too",
    mutating: true,
    body: z
      .strictObject({
        status: oneOrMany(z.enum(CANCELLABLE_STATUSES)).optional(),
        name: oneOrMany(z.string().min(1)).optional(),
        concurrencyKey: oneOrMany(z.string().min(1)).optional(),
        force: z.boolean().optional(),
        ...dryRunField,
      })
      .default({}),
    handle: async (c) => c.queue.cancelAll(given(c.body)),
  }),
  route({
    method: "POST",
    path: "/{queue}/tasks/delete",
    onHeld: true,
    summary:
      "Delete the records of every finished task (or of some statuses, names, concurrency keys) that finished before a time; unfinished tasks are left",
    mutating: true,
    body: z
      .strictObject({
        status: oneOrMany(z.enum(PURGEABLE_STATUSES)).optional(),
        ...finishedFilterFields,
        ...dryRunField,
      })
      .default({}),
    handle: async (c) => c.queue.deleteAll(given(c.body)),
  }),
  route({
    method: "GET",
    path: "/{queue}/tasks/{id}",
    summary: "One task's record; while it runs, its claim's heartbeat",
    mutating: false,
    handle: async (c) => {
      const record = (await taskOr404(c.queue, c.params.id!)).toJSON();
      const { backend, name } = c.queue;
      if (record.status !== "processing" || backend.claimLeases === undefined) return record;
      const claim = (await backend.claimLeases(name, [record.id])).get(record.id);
      if (claim === undefined) return record;
      const holder = holderAmong(await c.queue.workers(), record.id);
      if (holder === undefined) return { ...record, claim };
      const { id, host, pid } = holder;
      return { ...record, claim: { ...claim, worker: { id, host, pid } } };
    },
  }),
  route({
    method: "DELETE",
    path: "/{queue}/tasks/{id}",
    summary: "Delete a finished task's record",
    mutating: true,
    handle: async (c) => {
      if (!(await c.queue.delete(c.params.id!)))
        throw new TaskNotFoundError(c.params.id!, c.queue.name);
      return { deleted: true };
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/tasks/{id}/retry",
    summary: "Run a finished task again (a completed one needs force), now or at a time",
    mutating: true,
    body: z.strictObject({ at: when.optional(), force: z.boolean().optional() }).default({}),
    handle: async (c) => {
      // Running a task again is adding it again: only a task the caller may add.
      refuseUnaddable((await taskOr404(c.queue, c.params.id!)).name, c.addable);
      const options = {
        ...(c.body.at === undefined ? {} : { at: c.body.at }),
        ...(c.body.force === undefined ? {} : { force: c.body.force }),
      };
      if (!(await c.queue.retry(c.params.id!, options))) {
        throw new TaskNotFoundError(c.params.id!, c.queue.name);
      }
      return (await taskOr404(c.queue, c.params.id!)).toJSON();
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/tasks/{id}/reschedule",
    summary:
      "Move a task that waits to run (pending, scheduled, or waiting for its retry) to now, or to a time; and to another priority (a priority alone keeps its time)",
    mutating: true,
    body: z.strictObject({ at: when.optional(), priority: taskPriority.optional() }).default({}),
    handle: async (c) => {
      // Moving when a task runs is as good as adding it then: only a task the caller may add.
      refuseUnaddable((await taskOr404(c.queue, c.params.id!)).name, c.addable);
      const options = {
        ...(c.body.at === undefined ? {} : { at: c.body.at }),
        ...(c.body.priority === undefined ? {} : { priority: c.body.priority }),
      };
      if (!(await c.queue.reschedule(c.params.id!, options))) {
        throw new TaskNotFoundError(c.params.id!, c.queue.name);
      }
      return (await taskOr404(c.queue, c.params.id!)).toJSON();
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/tasks/{id}/cancel",
    summary:
      "Cancel a task that has not started (a running one needs force: its signal fires at its worker's next renewal, and its outcome is discarded)",
    mutating: true,
    body: z.strictObject({ force: z.boolean().optional() }).default({}),
    handle: async (c) => {
      await taskOr404(c.queue, c.params.id!);
      const options = c.body.force === undefined ? {} : { force: c.body.force };
      return (await c.queue.cancel(c.params.id!, options)).toJSON();
    },
  }),
  route({
    method: "GET",
    path: "/{queue}/events",
    summary:
      "Server-Sent Events: the queue's counts (`stats`, on opening and every 5 s), each task that finishes (`finished`), every lifecycle event from the queue's event log (`task`, with its id; `?after=<id>` or `Last-Event-ID` resumes after it; a reconnecting `EventSource` sends `Last-Event-ID`, which wins over the URL's `after`; `?type=failed,crashed` sends only events of those types), and `unavailable` when the backend does not answer",
    mutating: false,
    stream: "text/event-stream",
    anyQueue: true,
    query: z.object({
      after: z.string().min(1).max(100).optional(),
      type: z.string().min(1).max(500).optional(),
    }),
    handle: (c) =>
      eventStream(
        c.queue,
        c.signal,
        resumePosition(c.headers, c.query.after),
        eventTypesOf(c.query.type),
        c.streamClosed,
      ),
  }),
  route({
    method: "GET",
    path: "/{queue}/crons",
    summary: "The queue's crons, with their next run",
    mutating: false,
    handle: async (c) =>
      (await c.queue.getCrons()).map((cron) => ({
        ...cron,
        nextRunAt: cron.nextRunAt?.toISOString() ?? null,
      })),
  }),
  route({
    method: "POST",
    path: "/{queue}/crons",
    summary:
      "Register a cron: a task of a registered definition runs at every fire time; give exactly one of `expression` (cron text, read in `timezone`, UTC by default) and `every` (seconds)",
    mutating: true,
    status: 201,
    body: z.strictObject({
      ...newTask.shape,
      expression: z.string().min(1).optional(),
      every: z.number().int().min(1).max(MAX_EVERY_SECONDS).optional(),
      timezone: z.string().min(1).optional(),
    }),
    handle: async (c) => {
      const cronTask = taskFrom(c.body.name, c.body.args, c.addable);
      const { expression, every, timezone } = c.body;
      if ((expression === undefined) === (every === undefined)) {
        throw new HttpError(
          400,
          expression === undefined
            ? "say when: give 'expression' (cron text) or 'every' (seconds)"
            : "give 'expression' (cron text) or 'every' (seconds), not both",
        );
      }
      const input = every === undefined ? expression! : { every };
      const options = timezone === undefined ? undefined : { timezone };
      const added = await c.queue.addCron(cronTask, input, options);
      // The id addCron stored it under: what GET lists and DELETE takes.
      const schedule = parseCronSchedule(input, options, "POST /crons");
      return { added, deterministicId: cronDeterministicId(cronTask, schedule) };
    },
  }),
  route({
    method: "DELETE",
    path: "/{queue}/crons/{id}",
    summary:
      "Delete a cron by its deterministicId (or its registration id), with its runs still waiting; one a config file declares needs force (its workers create it again)",
    mutating: true,
    body: z.strictObject({ force: z.boolean().optional() }).default({}),
    handle: async (c) => {
      const id = c.params.id!;
      const cron = (await c.queue.getCrons()).find(
        (one) => one.deterministicId === id || one.id === id,
      );
      if (cron?.managedBy === "config" && !c.body.force) {
        throw new HttpError(
          409,
          declaredCronDeletionRefusal(id, c.queue.name, 'send { "force": true }'),
        );
      }
      if (!cron || !(await c.queue.deleteCron(cron.deterministicId))) {
        throw new HttpError(404, `queue '${c.queue.name}' has no cron ${id}`);
      }
      return { deleted: true };
    },
  }),
  route({
    method: "GET",
    path: "/{queue}/workflows",
    summary:
      "The queue's workflows, a page at a time (in no stated order; on Redis a page is a step of the server's SCAN, about `limit`, a few more or fewer): only the running ones with `running=true`, only those of some statuses with `status=failed,cancelled` (filtered by the server: a page may hold fewer than `limit`, none even, while `cursor` is not null)",
    mutating: false,
    query: z.object({
      running: z.enum(["true", "false"]).optional(),
      status: z.string().optional(),
      cursor: scanCursor,
      limit: limit(100),
    }),
    handle: async (c) => {
      const statuses = c.query.status?.split(",").map((s) => s.trim());
      const unknown = statuses?.find((s) => !(WORKFLOW_STATUSES as readonly string[]).includes(s));
      if (unknown !== undefined) {
        throw new HttpError(
          400,
          `unknown workflow status '${unknown}' (one of: ${WORKFLOW_STATUSES.join(", ")})`,
        );
      }
      if (statuses && c.query.running === "true") {
        throw new HttpError(
          400,
          "give running=true or status, not both (running=true is status=running)",
        );
      }
      const backend = await c.queue.connect();
      const page = await backend.listWorkflows(c.queue.name, {
        cursor: c.query.cursor ?? null,
        limit: c.query.limit,
        // Running alone is the backend's own index: no page read for nothing.
        running: c.query.running === "true" || (statuses?.every((s) => s === "running") ?? false),
      });
      const kept = statuses
        ? page.workflows.filter((data) => statuses.includes(data.status))
        : page.workflows;
      const workflows = await Promise.all(kept.map(decodeWorkflow));
      return { workflows: workflows.map((w) => w.toJSON()), cursor: page.cursor };
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/workflows",
    summary:
      "Start a workflow of a registered definition, by name, with JSON arguments: its body runs in the serving process up to its first steps, workers do the rest",
    mutating: true,
    status: 201,
    body: z.strictObject({
      name: z.string().min(1),
      args: z.array(json).default([]),
      id: z.string().optional().meta({
        description:
          "an id of yours to store the workflow under: while the queue holds a workflow with it (running or finished), a request sent again starts nothing and answers added: false with the workflow as stored",
      }),
    }),
    handle: async (c) => {
      const workflow = workflowFrom(c.body.name, c.body.args, c.addable);
      const started = await startWorkflow(c.queue, workflow, { id: c.body.id });
      const warning = started.added
        ? missingWorkflowArgumentsWarning(workflow)
        : heldDiffersMessage(
            "workflow",
            started.workflow.id,
            workflow,
            started.workflow,
            "use another id",
          );
      return {
        added: started.added,
        workflow: started.workflow.toJSON(),
        ...(warning === undefined ? {} : { warnings: [warning] }),
      };
    },
  }),
  route({
    method: "GET",
    path: "/{queue}/workflows/{id}",
    summary: "One workflow with each step's task",
    mutating: false,
    handle: async (c) => {
      const workflow = await c.queue.getWorkflow(c.params.id!);
      if (!workflow) throw new WorkflowNotFoundError(c.params.id!, c.queue.name);
      const steps = await c.queue.getWorkflowSteps(workflow);
      return { workflow: workflow.toJSON(), steps: steps.map((t) => t?.toJSON() ?? null) };
    },
  }),
  route({
    method: "DELETE",
    path: "/{queue}/workflows/{id}",
    summary: "Delete a finished workflow's record (a running one is a 409: cancel it first)",
    mutating: true,
    handle: async (c) => {
      if (!(await c.queue.deleteWorkflow(c.params.id!)))
        throw new WorkflowNotFoundError(c.params.id!, c.queue.name);
      return { deleted: true };
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/workflows/{id}/cancel",
    summary:
      "Cancel a running workflow and its steps that have not started (with force, its running steps too: their signals fire at their workers' next renewal, and their outcomes are discarded)",
    mutating: true,
    body: z.strictObject({ force: z.boolean().optional() }).default({}),
    handle: async (c) => {
      const options = c.body.force === undefined ? {} : { force: c.body.force };
      return (await c.queue.cancelWorkflow(c.params.id!, options)).toJSON();
    },
  }),
  route({
    method: "POST",
    path: "/{queue}/workflows/{id}/retry",
    summary:
      "Run a failed workflow again: a worker replays it as deployed now, asking again (as new tasks) for the steps it saw last that did not complete, and it goes on from there; steps that completed do not run again",
    mutating: true,
    handle: async (c) => {
      const workflow = await c.queue.getWorkflow(c.params.id!);
      if (!workflow) throw new WorkflowNotFoundError(c.params.id!, c.queue.name);
      // Running a workflow again adds its tasks again: only one whose name the caller may add.
      refuseUnaddable(workflow.name, c.addable, "workflow", "retried");
      return (await c.queue.retryWorkflow(c.params.id!)).toJSON();
    },
  }),
];
