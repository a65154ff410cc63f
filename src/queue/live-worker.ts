/**
 * @module queue/live-worker
 * What a running worker tells the backend about itself on each of its queues
 * (see `WorkerDirectory`), and how a reader gets it back. The backend keeps
 * the announcement as an opaque JSON text; this module alone writes and reads
 * it, so tools built on any backend show the same thing. A text that does
 * not read as an announcement (written by hand, or by a later version that
 * changed it beyond recognition) is left out of listings rather than failing
 * them.
 */

import type { Backend, WorkerDirectory } from "../backends/backend.js";

/** The most ids of one queue's held tasks an announcement names: it stays small whatever the concurrency. */
export const MAX_ANNOUNCED_TASKS = 1_000;

/** A worker serving a queue, as it last announced itself there. */
export interface LiveWorker {
  /** Unique to one `work()` run of one `Worker`. */
  readonly id: string;
  /** The machine it runs on (`os.hostname()`). */
  readonly host: string;
  readonly pid: number;
  /** When its `work()` run began (ISO 8601). */
  readonly startedAt: string;
  /** Milliseconds since it last announced itself on this queue, by the backend's clock. */
  readonly seenAgoMs: number;
  /** Every queue it serves. */
  readonly queues: readonly string[];
  /** Its concurrency: the most tasks it runs at once. */
  readonly concurrency: number;
  /**
   * `running`; `paused` (`worker.pause()`: it claims nothing until resumed);
   * `stopping` (closing: it claims nothing and finishes what it holds).
   */
  readonly state: WorkerState;
  /** How many of this queue's tasks it held (running, or claimed and about to run) when it announced itself. */
  readonly holding: number;
  /** How many tasks it held over all its queues: what its concurrency bounds. */
  readonly holdingAll: number;
  /** The ids of those tasks, at most {@link MAX_ANNOUNCED_TASKS}. */
  readonly taskIds: readonly string[];
  /** Whether it claims and runs tasks (off: it only schedules, or only makes cron runs). */
  readonly processing: boolean;
  /** Whether it moves due scheduled tasks and retries to pending. */
  readonly scheduler: boolean;
  /** Whether it makes the runs of crons. */
  readonly cronManager: boolean;
  /** The Sheppy version it runs. */
  readonly version: string;
  /**
   * The names of the tasks it defines (its loaded modules'), as many as fit
   * in {@link ANNOUNCED_TASK_NAME_CHARS}: which deploy lacks a task is the
   * first question when tasks of a name wait. Empty from a worker of an
   * earlier version.
   */
  readonly tasks: readonly string[];
  /** How many task names it defines: more than `tasks` holds when the list was cut. */
  readonly taskCount: number;
  /** How often it announces itself (ms; its heartbeat): one not seen for twice that is late. */
  readonly everyMs: number;
}

/** What a worker is doing, as it announces it. */
export type WorkerState = "running" | "paused" | "stopping";

const STATES: ReadonlySet<string> = new Set<WorkerState>(["running", "paused", "stopping"]);

/** Whether `worker` runs the queue's tasks now: it claims them, and is neither paused nor stopping. */
export function runsTasks(worker: LiveWorker): boolean {
  return worker.processing && worker.state === "running";
}

/** What a worker announces: its status on one queue, without what the backend adds. */
export type WorkerAnnouncement = Omit<LiveWorker, "id" | "seenAgoMs">;

/** The JSON text a worker stores for one queue. */
export function encodeWorkerAnnouncement(announcement: WorkerAnnouncement): string {
  const { taskIds, tasks } = announcement;
  return JSON.stringify({
    v: 1,
    ...announcement,
    taskIds: taskIds.length > MAX_ANNOUNCED_TASKS ? taskIds.slice(0, MAX_ANNOUNCED_TASKS) : taskIds,
    tasks: namesWithin(tasks, ANNOUNCED_TASK_NAME_CHARS),
  });
}

/**
 * Characters of task names an announcement lists: every heartbeat carries
 * them, on every queue the worker serves, so they stay a small multiple of
 * the rest of it (about 300 bytes) — every name of a typical app.
 */
export const ANNOUNCED_TASK_NAME_CHARS = 2_000;

/** The first of `names` whose lengths add up to at most `chars`. */
function namesWithin(names: readonly string[], chars: number): readonly string[] {
  let used = 0;
  for (const [i, name] of names.entries()) {
    used += name.length;
    if (used > chars) return names.slice(0, i);
  }
  return names;
}

/** Whether `worker` defines task `name`: `undefined` when its announcement cannot tell (cut, or an earlier version's). */
export function definesTask(worker: LiveWorker, name: string): boolean | undefined {
  if (worker.tasks.includes(name)) return true;
  return worker.taskCount > 0 && worker.taskCount === worker.tasks.length ? false : undefined;
}

/** The status a stored announcement gives; `null` when `body` does not read as one. */
export function decodeLiveWorker(id: string, body: string, seenAgoMs: number): LiveWorker | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
  const o = parsed as Record<string, unknown>;
  const startedAt = typeof o.startedAt === "string" ? o.startedAt : "";
  if (typeof o.host !== "string" || !isCount(o.pid) || Number.isNaN(Date.parse(startedAt))) {
    return null;
  }
  const queues = stringsIn(o.queues);
  const taskIds = stringsIn(o.taskIds);
  const tasks = stringsIn(o.tasks);
  return {
    id,
    host: o.host,
    pid: o.pid,
    startedAt,
    seenAgoMs: Math.max(0, Math.round(seenAgoMs)),
    queues,
    concurrency: isCount(o.concurrency) ? o.concurrency : 0,
    state:
      typeof o.state === "string" && STATES.has(o.state) ? (o.state as WorkerState) : "running",
    holding: isCount(o.holding) ? o.holding : taskIds.length,
    holdingAll: isCount(o.holdingAll)
      ? o.holdingAll
      : isCount(o.holding)
        ? o.holding
        : taskIds.length,
    taskIds,
    processing: o.processing !== false,
    scheduler: o.scheduler === true,
    cronManager: o.cronManager === true,
    version: typeof o.version === "string" ? o.version : "",
    everyMs: isCount(o.everyMs) ? o.everyMs : 0,
    tasks,
    taskCount: isCount(o.taskCount) ? Math.max(o.taskCount, tasks.length) : tasks.length,
  };
}

/** The worker that said it holds task `id` (its announcements name up to {@link MAX_ANNOUNCED_TASKS} ids per queue). */
export function holderAmong(
  workers: readonly LiveWorker[] | null,
  id: string,
): LiveWorker | undefined {
  return workers?.find((worker) => worker.taskIds.includes(id));
}

/** A worker as a claim names its holder: enough to find its process. */
export interface ClaimHolder {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
}

/** Workers in the order tools show them: longest running first, then by id. */
export function byStart(a: LiveWorker, b: LiveWorker): number {
  return a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : 1;
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function stringsIn(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** Whether `backend` keeps track of workers: it has all of {@link WorkerDirectory}'s methods. */
export function hasWorkerDirectory(backend: Backend): backend is Backend & WorkerDirectory {
  return (
    typeof backend.announceWorker === "function" &&
    typeof backend.listWorkers === "function" &&
    typeof backend.withdrawWorker === "function" &&
    typeof backend.listWorkerQueues === "function"
  );
}
