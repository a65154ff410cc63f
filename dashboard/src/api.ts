/**
 * The dashboard's calls to the HTTP API that serves it, at the page's own
 * address (the page is the API's root): behind a proxy that serves it under
 * another prefix, the calls go where the page was reached. The page's
 * `<meta>` tag says whether it may change anything.
 * Changes are sent as JSON from this origin, which is what the API's
 * same-origin check asks for.
 */
import type { QueueStats } from "../../src/backends/backend.js";
import type { LiveWorker } from "../../src/queue/live-worker.js";
import type { ErrorData } from "../../src/task/stored-error.js";
import type { TaskData, TaskStatus } from "../../src/task/task-record.js";
import type { WorkflowData } from "../../src/task/workflow-record.js";

import { apiBaseOf, queueSegment } from "./paths.js";

export type { ErrorData, QueueStats, TaskData, TaskStatus, WorkflowData };

/** The counts of a queue by stage, each a card and a column (`held` is a part of `pending`). */
export type StageCount = Exclude<keyof QueueStats, "held">;

/**
 * A queue's counts, whether it is paused, and how long its next task has
 * waited since it was due (`GET /{queue}/stats`, the `stats` event).
 */
export type QueueInfo = QueueStats & {
  paused: boolean;
  latencyMs: number;
  /** Workers running its tasks now; `null` when the backend does not keep track. */
  workers: number | null;
};

/** A task's row in a list (`view=summary`): no arguments, result, meta or options; the error cut short. */
export type TaskSummary = Omit<TaskData, "args" | "result" | "meta" | "config" | "error"> & {
  error: { type: string; message: string } | null;
};

export interface TaskPage {
  tasks: TaskSummary[];
  cursor: string | null;
}

export interface CronInfo {
  id: string;
  deterministicId: string;
  /** Cron text; `null` for an interval. */
  expression: string | null;
  /** Seconds between runs of an interval; `null` for cron text. */
  every: number | null;
  /** The zone the cron text is read in; `null` for an interval. */
  timezone: string | null;
  name: string;
  args: unknown[];
  managedBy: string | null;
  createdAt: string;
  nextRunAt: string | null;
}

/** A worker serving a queue, as `GET /{queue}/workers` lists it. */
export type WorkerInfo = LiveWorker;

/** A running task's claim, as `GET …/tasks/{id}` adds it: its worker's last renewal, and the lease. */
export interface ClaimHeartbeat {
  renewedAgoMs: number;
  leaseMs: number | null;
  /** The worker that says it holds the task, once one has announced it. */
  worker?: { id: string; host: string; pid: number };
}

/** One task's record, with its claim's heartbeat while it runs. */
export type TaskWithClaim = TaskData & { claim?: ClaimHeartbeat };

export interface WorkflowPage {
  workflows: WorkflowData[];
  cursor: string | null;
}

export interface WorkflowDetail {
  workflow: WorkflowData;
  steps: (TaskData | null)[];
}

interface PageConfig {
  /** Where the API is, as this page reached it: its address without `index.html` or the closing slash. */
  basePath: string;
  readOnly: boolean;
}

function pageConfig(): PageConfig {
  const content = document.querySelector('meta[name="sheppy-config"]')?.getAttribute("content");
  const basePath = apiBaseOf(location.pathname);
  try {
    const parsed = JSON.parse(content ?? "{}") as Partial<PageConfig>;
    return { basePath, readOnly: parsed.readOnly === true };
  } catch {
    return { basePath, readOnly: true };
  }
}

export const config = pageConfig();

/** An answer other than 2xx: the API's `{ error }` message and the status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Where `path` of the API is, whole: from the page's origin, which leaves out
 * a login given in the address (`http://ops:pw@host/`) — `fetch` refuses a
 * URL that carries one, and the browser sends the login it was given anyway.
 */
function url(path: string): string {
  return `${location.origin}${config.basePath}${path}`;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(url(path), {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const data = jsonOrNull(text);
  if (!response.ok) {
    const message =
      (data as { error?: string } | null)?.error ??
      // Not the API's answer: a proxy's error page (a 502 while the app restarts), or a login page.
      `the server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ""}${data === null && text !== "" ? " with a page, not the API's JSON" : ""}`;
    throw new ApiError(response.status, message);
  }
  if (data === null && text !== "") {
    throw new ApiError(
      response.status,
      "the server answered with a page, not the API's JSON: is a proxy or a login page in the way?",
    );
  }
  return data as T;
}

function jsonOrNull(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

const q = (queue: string) => `/${queueSegment(queue)}`;

export const api = {
  queues: () => call<Record<string, number>>("GET", "/queues"),
  stats: (queue: string) => call<QueueInfo>("GET", `${q(queue)}/stats`),
  pause: (queue: string) =>
    call<{ queue: string; paused: boolean }>("POST", `${q(queue)}/pause`, {}),
  resume: (queue: string) =>
    call<{ queue: string; paused: boolean }>("POST", `${q(queue)}/resume`, {}),
  retryFailed: (queue: string, names: readonly string[], dryRun = false) =>
    call<{ retried: number; skipped: number; endedWorkflowSteps: number }>(
      "POST",
      `${q(queue)}/tasks/retry`,
      {
        status: "failed",
        ...(names.length > 0 ? { name: [...names] } : {}),
        ...(dryRun ? { dryRun } : {}),
      },
    ),
  tasks: (
    queue: string,
    filter: { statuses: readonly string[]; names: readonly string[] },
    cursor: string | null,
    limit: number,
  ) => {
    const params = new URLSearchParams({ limit: String(limit), view: "summary" });
    if (filter.statuses.length > 0) params.set("status", filter.statuses.join(","));
    if (filter.names.length > 0) params.set("name", filter.names.join(","));
    if (cursor) params.set("cursor", cursor);
    return call<TaskPage>("GET", `${q(queue)}/tasks?${params}`);
  },
  task: (queue: string, id: string) =>
    call<TaskWithClaim>("GET", `${q(queue)}/tasks/${encodeURIComponent(id)}`),
  retry: (queue: string, id: string, force: boolean) =>
    call<TaskData>("POST", `${q(queue)}/tasks/${encodeURIComponent(id)}/retry`, { force }),
  /** Moves a task that waits for a time to now. */
  reschedule: (queue: string, id: string) =>
    call<TaskData>("POST", `${q(queue)}/tasks/${encodeURIComponent(id)}/reschedule`, {}),
  cancel: (queue: string, id: string, force = false) =>
    call<TaskData>(
      "POST",
      `${q(queue)}/tasks/${encodeURIComponent(id)}/cancel`,
      force ? { force: true } : {},
    ),
  remove: (queue: string, id: string) =>
    call<{ deleted: boolean }>("DELETE", `${q(queue)}/tasks/${encodeURIComponent(id)}`, {}),
  crons: (queue: string) => call<CronInfo[]>("GET", `${q(queue)}/crons`),
  workers: (queue: string) => call<{ workers: WorkerInfo[] | null }>("GET", `${q(queue)}/workers`),
  deleteCron: (queue: string, id: string) =>
    call<{ deleted: boolean }>("DELETE", `${q(queue)}/crons/${encodeURIComponent(id)}`, {}),
  workflows: (queue: string, running: boolean, cursor: string | null, limit: number) => {
    const params = new URLSearchParams({ limit: String(limit) });
    if (running) params.set("running", "true");
    if (cursor) params.set("cursor", cursor);
    return call<WorkflowPage>("GET", `${q(queue)}/workflows?${params}`);
  },
  workflow: (queue: string, id: string) =>
    call<WorkflowDetail>("GET", `${q(queue)}/workflows/${encodeURIComponent(id)}`),
  removeWorkflow: (queue: string, id: string) =>
    call<{ deleted: boolean }>("DELETE", `${q(queue)}/workflows/${encodeURIComponent(id)}`, {}),
  cancelWorkflow: (queue: string, id: string) =>
    call<WorkflowData>("POST", `${q(queue)}/workflows/${encodeURIComponent(id)}/cancel`, {}),
  retryWorkflow: (queue: string, id: string) =>
    call<WorkflowData>("POST", `${q(queue)}/workflows/${encodeURIComponent(id)}/retry`, {}),
  eventsUrl: (queue: string) => url(`${q(queue)}/events`),
  /**
   * Why the API refuses `queue`'s event stream (too many open, `maxEventStreams`;
   * a session ended), as it says it: `null` when it opens now. An `EventSource`
   * is never told the answer of a stream it could not open.
   */
  streamRefusal: async (queue: string): Promise<string | null> => {
    const controller = new AbortController();
    try {
      const response = await fetch(url(`${q(queue)}/events`), { signal: controller.signal });
      if (response.ok) return null;
      const said = (jsonOrNull(await response.text()) as { error?: string } | null)?.error;
      return said ?? `the server answered ${response.status}`;
    } catch {
      return null;
    } finally {
      controller.abort();
    }
  },
};
