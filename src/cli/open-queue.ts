/**
 * @module cli/open-queue
 * The backend and queues a command works on, built from its resolved
 * settings (the CLI passes everything explicitly: `Queue` never falls back to
 * the environment here). Commands close what they open, so the process can
 * exit on its own.
 */
import type { Command } from "commander";
import type { Backend } from "../backends/backend.js";
import { CliUsageError, TaskNotFoundError, WorkflowNotFoundError } from "../errors.js";
import "../backends/builtin.js";
import { backendFromUrl } from "../backends/registry.js";
import { Queue } from "../queue/queue.js";
import { workersIfReadable } from "../queue/readable-workers.js";
import { likelyMeant } from "../util/likely-meant.js";
import { warn } from "./warn.js";

/** Settings every backend-using command has. */
export interface BackendSettings {
  readonly backendUrl?: string;
}

/**
 * What a command does with the backend's storage: `"existing"` — lists,
 * inspects or manages what is there, so a database schema or file that
 * nothing has created is an error rather than created (a mistyped name is
 * reported, not made); `"create"` — adds work or runs it, creating the
 * storage as a worker would.
 */
export type StorageAccess = "existing" | "create";

/** The backend named by `--backend-url` / `SHEPPY_BACKEND_URL`; none given is a usage error. */
export function openBackend(
  settings: BackendSettings,
  access: StorageAccess = "existing",
): Backend {
  const url = settings.backendUrl?.trim();
  if (!url) {
    throw new CliUsageError(
      "no backend URL: pass --backend-url (e.g. redis://127.0.0.1:6379) or set SHEPPY_BACKEND_URL",
    );
  }
  return backendFromUrl(url, { mustExist: access === "existing" });
}

/**
 * Warns when `backend` keeps its tasks inside this process and runs none as
 * they are added (`sqlite://:memory:`): whatever the command stores is gone
 * when it exits, and it sees no other process's tasks. (`memory://` runs a
 * task as it is added, so `task add` there does something.)
 */
function warnIfGoneOnExit(backend: Backend, url: string | undefined): void {
  const { crossProcess, instantProcessing } = backend.capabilities;
  if (crossProcess || instantProcessing) return;
  warn(
    `${url ?? "this backend"} keeps its tasks inside this process: what this command stores is gone when it exits, and no other process's tasks are here (use sqlite:///path/to/file.db, redis:// or postgres://)`,
  );
}

/** Runs `use` with a queue of that name on the configured backend, then disconnects. */
export async function withQueue<T>(
  settings: BackendSettings & { readonly queue: string },
  use: (queue: Queue) => Promise<T>,
  access: StorageAccess = "existing",
): Promise<T> {
  const queue = new Queue(openBackend(settings, access), { name: settings.queue });
  try {
    await queue.connect();
    warnIfGoneOnExit(queue.backend, settings.backendUrl);
    return await use(queue);
  } finally {
    await queue.close().catch(() => undefined);
  }
}

/** {@link withQueue} for a command that adds work: the storage is created when missing, as a worker would. */
export function withQueueToAdd<T>(
  settings: BackendSettings & { readonly queue: string },
  use: (queue: Queue) => Promise<T>,
): Promise<T> {
  return withQueue(settings, use, "create");
}

/** Where the queue a command acts on was named, if anywhere: `-q`, or `SHEPPY_QUEUE`. */
export type QueueSource = false | "option" | "env";

/** Whether `-q` / `SHEPPY_QUEUE` named the queue (otherwise a task id is looked for in every queue). */
export function queueGiven(cmd: Command): QueueSource {
  const source = cmd.getOptionValueSource("queue");
  return source === "env" ? "env" : source === "default" || source === undefined ? false : "option";
}

/**
 * A named queue is the only one looked in: when it lacks the task, say where
 * its name came from — an exported SHEPPY_QUEUE is easily forgotten.
 */
function onlyQueueLookedIn(source: "option" | "env"): string {
  return source === "env"
    ? "the queue is the one SHEPPY_QUEUE names, and no other was looked in (unset SHEPPY_QUEUE to look in every queue, or pass -q <queue>)"
    : "no other queue was looked in (leave out -q to look in every queue)";
}

/** A kind of record a command names by its id alone: how to tell a queue holds one, and the error when none does. */
interface HeldKind {
  readonly noun: "task" | "workflow";
  holds(queue: Queue, id: string): Promise<boolean>;
  notFound(id: string, queue: string, why?: string): TaskNotFoundError | WorkflowNotFoundError;
  /** Whether `error` is the plain "queue has no such record" of `id` (not one that already says why). */
  isPlainNotFound(error: unknown, id: string): error is TaskNotFoundError | WorkflowNotFoundError;
}

const TASKS: HeldKind = {
  noun: "task",
  holds: async (queue, id) => (await queue.getTask(id)) !== null,
  notFound: (id, queue, why) => new TaskNotFoundError(id, queue, why),
  isPlainNotFound: (error, id): error is TaskNotFoundError =>
    error instanceof TaskNotFoundError &&
    error.taskId === id &&
    error.message === new TaskNotFoundError(id, error.queueName).message,
};

const WORKFLOWS: HeldKind = {
  noun: "workflow",
  holds: async (queue, id) => (await queue.getWorkflow(id)) !== null,
  notFound: (id, queue, why) => new WorkflowNotFoundError(id, queue, why),
  isPlainNotFound: (error, id): error is WorkflowNotFoundError =>
    error instanceof WorkflowNotFoundError &&
    error.workflowId === id &&
    error.message === new WorkflowNotFoundError(id, error.queueName).message,
};

/**
 * Runs `use` with the queue that holds task `id`. With `-q` (or
 * `SHEPPY_QUEUE`) given, that queue; otherwise ids are unique, so the
 * default queue is looked in first, then every queue the backend knows; an
 * id held by more than one queue asks for `-q`, and an id held by none is a
 * `TaskNotFoundError` that says every queue was looked in.
 */
export function withQueueOf<T>(
  settings: BackendSettings & { readonly queue: string },
  id: string,
  queueGiven: QueueSource,
  use: (queue: Queue) => Promise<T>,
): Promise<T> {
  return withQueueHolding(TASKS, settings, id, queueGiven, use);
}

/** {@link withQueueOf} for workflow `id`: a `WorkflowNotFoundError` when no queue holds it. */
export function withQueueOfWorkflow<T>(
  settings: BackendSettings & { readonly queue: string },
  id: string,
  queueGiven: QueueSource,
  use: (queue: Queue) => Promise<T>,
): Promise<T> {
  return withQueueHolding(WORKFLOWS, settings, id, queueGiven, use);
}

async function withQueueHolding<T>(
  kind: HeldKind,
  settings: BackendSettings & { readonly queue: string },
  id: string,
  queueGiven: QueueSource,
  use: (queue: Queue) => Promise<T>,
): Promise<T> {
  if (queueGiven) {
    try {
      return await withQueue(settings, use);
    } catch (error) {
      // A plain "has no …" only: one that already says why (deleted meanwhile) stays as it is.
      if (!kind.isPlainNotFound(error, id)) throw error;
      throw kind.notFound(id, error.queueName, onlyQueueLookedIn(queueGiven));
    }
  }
  const backend = openBackend(settings);
  const fallback = new Queue(backend, { name: settings.queue });
  try {
    await fallback.connect();
    warnIfGoneOnExit(backend, settings.backendUrl);
    if (await kind.holds(fallback, id)) return await use(fallback);
    const holders: Queue[] = [];
    // Sorted: the backend's list has no order of its own, and the message must be stable.
    const others = [...(await backend.listQueues()).keys()]
      .filter((name) => name !== settings.queue)
      .sort();
    for (const name of others) {
      const queue = new Queue(backend, { name });
      if (await kind.holds(queue, id)) holders.push(queue);
    }
    if (holders.length > 1) {
      throw new CliUsageError(
        `${kind.noun} ${id} is in several queues (${holders.map((q) => q.name).join(", ")}): pass -q <queue>`,
      );
    }
    if (holders.length === 0) {
      throw kind.notFound(id, settings.queue, `${noneHolds(others)}; ${FINISHED_RECORDS_GO}`);
    }
    return await use(holders[0]!);
  } finally {
    await fallback.close().catch(() => undefined);
  }
}

/** What becomes of a finished record: a missing id held by no queue was most often one of those. */
const FINISHED_RECORDS_GO =
  "a finished one's record is deleted once it expires (ttl) or the queue holds more than maxFinished";

/** Says where else a missing task was looked for, so the message does not suggest one queue only. */
function noneHolds(others: readonly string[]): string {
  if (others.length === 0) return "nor does any other queue (this backend has no other)";
  return `nor does any other queue (looked in ${others.length}: ${someNames(others)})`;
}

/** The first five of `names`, then "…" when there are more. */
function someNames(names: readonly string[]): string {
  return names.slice(0, 5).join(", ") + (names.length > 5 ? ", …" : "");
}

/** Whether `queue` holds no task record and no cron, and no worker serves it: a name nothing uses (or a typo). */
async function queueHoldsNothing(
  backend: Backend,
  queue: string,
  countWorkers: boolean,
): Promise<boolean> {
  const stats = await backend.getStats(queue);
  if (Object.values(stats).some((count) => count > 0)) return false;
  if ((await backend.getCrons(queue)).length > 0) return false;
  if (!countWorkers) return true;
  // A queue a live worker serves is in use, however idle: pausing it before its first task is no typo.
  const workers = await workersIfReadable(new Queue(backend, { name: queue }));
  return (workers ?? []).length === 0;
}

/**
 * The warning for a `queue` that holds no task and no cron — most often a
 * mistyped name, for which a listing would otherwise print nothing at all —
 * saying `then` (what the command did all the same) and naming the queues
 * the backend knows; `undefined` when it holds something. Never for a
 * backend that lives in this process: it holds nothing of anyone else's, so
 * every queue is empty there. `onlyTypos`: only when the name looks like a
 * misspelling of a queue the backend knows (a worker's queues may be idle
 * for good reasons; a name one letter off one in use is not one of them).
 */
export async function unusedQueueWarning(
  backend: Backend,
  queue: string,
  then?: string,
  onlyTypos = false,
): Promise<string | undefined> {
  if (!backend.capabilities.crossProcess) return undefined;
  // A worker asking about its own queues (onlyTypos) would find itself serving them.
  if (!(await queueHoldsNothing(backend, queue, !onlyTypos))) return undefined;
  // Queues holding tasks or crons (as `queue list` shows them), sorted: the backend's lists have no order.
  const [held, withCrons] = await Promise.all([backend.listQueues(), backend.listCronQueues()]);
  const others = [...new Set([...held.keys(), ...withCrons])]
    .filter((name) => name !== queue)
    .sort();
  const meant = likelyMeant(queue, others);
  if (onlyTypos && meant === undefined) return undefined;
  const question = meant === undefined ? "is the name right?" : `did you mean '${meant}'?`;
  const known = others.length === 0 ? undefined : `queues this backend knows: ${someNames(others)}`;
  const notes = [then, known].filter((note) => note !== undefined);
  return `queue ${queue} holds no tasks or crons: ${question}${notes.length > 0 ? ` (${notes.join("; ")})` : ""}`;
}

/** {@link unusedQueueWarning} on stderr (never stdout: table and JSON output stay as they are). */
export async function warnIfQueueUnused(
  backend: Backend,
  queue: string,
  then?: string,
): Promise<void> {
  const warning = await unusedQueueWarning(backend, queue, then);
  if (warning) warn(warning);
}
