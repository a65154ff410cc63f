/**
 * @module queue/wait-for-finished
 * Waiting until tasks (or workflows) have finished, written once for every
 * backend: listen for the backend's finished notifications, read the
 * records, and read again whenever a notification names a wanted id (or asks
 * to look again), or every few seconds in case one was lost. The deadline is
 * real time, whatever clock the queue's tasks see: how long a caller waits is
 * an operational matter, like a claim's wait.
 */
import type { TaskReader, WorkflowStore } from "../backends/backend.js";
import { systemClock } from "../clock.js";
import {
  BackendError,
  TaskNotFoundError,
  WaitTimeoutError,
  WorkflowNotFoundError,
} from "../errors.js";
import type { TaskData } from "../task/task-record.js";
import type { WorkflowData } from "../task/workflow-record.js";

/** While waiting, read again this often even without a notification. */
export const RECHECK_MS = 2000;

type Watcher = Pick<TaskReader, "watchFinished"> & { readonly isConnected: boolean };

/** What is waited for: how to read it, when it counts as finished, and what to say when it is unknown. */
interface Waited<T> {
  read(ids: readonly string[]): Promise<Map<string, T>>;
  isFinished(record: T): boolean;
  /** No worker has taken it up yet (a timeout then asks whether one runs). */
  isUnclaimed(record: T): boolean;
  notFound(id: string): Error;
}

/**
 * The finished records of `ids` (`finishedAt` set), once all are finished.
 * `timeoutMs` `null` waits without limit; `0` reads once; a positive value
 * waits at most that long. When time is up, throws `WaitTimeoutError`
 * naming the unfinished ids and which of them the queue does not hold.
 *
 * A wait without limit on an id the queue does not hold throws
 * `TaskNotFoundError` at once, and so does one whose task is deleted or
 * expires while waited for: that wait could never end. A bounded wait treats
 * an unknown id as unfinished, so a caller may wait for a task another
 * process is about to add.
 */
export function waitForFinished(
  backend: TaskReader & { readonly isConnected: boolean },
  queue: string,
  ids: readonly string[],
  timeoutMs: number | null,
): Promise<Map<string, TaskData>> {
  return waitUntilFinished(backend, queue, ids, timeoutMs, {
    read: (wanted) => backend.getTasks(queue, wanted),
    isFinished: (record) => record.finishedAt !== null,
    isUnclaimed: (record) => record.status === "pending" && record.startedAt === null,
    notFound: (id) => new TaskNotFoundError(id, queue),
  });
}

/** {@link waitForFinished} for workflows: their records once completed, failed or cancelled. */
export async function waitForWorkflows(
  backend: Pick<WorkflowStore, "getWorkflows"> & Watcher,
  queue: string,
  ids: readonly string[],
  timeoutMs: number | null,
): Promise<Map<string, WorkflowData>> {
  return waitUntilFinished(backend, queue, ids, timeoutMs, {
    read: async (wanted) => {
      const found = new Map<string, WorkflowData>();
      for (const [id, stored] of await backend.getWorkflows(queue, wanted))
        found.set(id, stored.record);
      return found;
    },
    isFinished: (record) => record.finishedAt !== null,
    isUnclaimed: () => false,
    notFound: (id) => new WorkflowNotFoundError(id, queue),
  });
}

async function waitUntilFinished<T>(
  backend: Watcher,
  queue: string,
  ids: readonly string[],
  timeoutMs: number | null,
  waited: Waited<T>,
): Promise<Map<string, T>> {
  const wanted = [...new Set(ids)];
  const results = new Map<string, T>();
  let { absent, unclaimed } = await readFinished(waited, wanted, results);
  if (results.size === wanted.length) return results;
  const giveUp = (): never => {
    if (timeoutMs === null) throw waited.notFound(absent[0]!);
    const unfinished = wanted.filter((id) => !results.has(id));
    // The usual reason nothing finished: no worker serves the queue. Say so when it shows.
    const idle = absent.length === 0 && unclaimed === unfinished.length ? queue : undefined;
    throw new WaitTimeoutError(timeoutMs / 1000, unfinished, absent, idle);
  };
  if (timeoutMs === 0 || (timeoutMs === null && absent.length > 0)) giveUp();
  const deadline = timeoutMs === null ? null : systemClock.now() + timeoutMs;
  let wake: (() => void) | undefined;
  let signalled = false;
  const wantedSet = new Set(wanted);
  const stop = await backend.watchFinished(queue, (finished) => {
    if (finished.length === 0 || finished.some((id) => wantedSet.has(id) && !results.has(id))) {
      signalled = true;
      wake?.();
    }
  });
  try {
    for (;;) {
      signalled = false;
      const missing = wanted.filter((id) => !results.has(id));
      ({ absent, unclaimed } = await readFinished(waited, missing, results));
      if (results.size === wanted.length) return results;
      if (timeoutMs === null && absent.length > 0) giveUp();
      if (!backend.isConnected)
        throw new BackendError("the backend was disconnected while waiting for results");
      const remaining = deadline === null ? RECHECK_MS : deadline - systemClock.now();
      if (remaining <= 0) giveUp();
      if (signalled) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, RECHECK_MS));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    stop();
  }
}

/**
 * Adds the finished records among `wanted` to `results`; returns the ids the
 * queue does not hold, and how many of the others no worker has claimed yet.
 */
async function readFinished<T>(
  waited: Waited<T>,
  wanted: readonly string[],
  results: Map<string, T>,
): Promise<{ absent: string[]; unclaimed: number }> {
  const absent: string[] = [];
  let unclaimed = 0;
  if (wanted.length === 0) return { absent, unclaimed };
  const found = await waited.read(wanted);
  for (const id of wanted) {
    const record = found.get(id);
    if (record === undefined) absent.push(id);
    else if (waited.isFinished(record)) results.set(id, record);
    else if (waited.isUnclaimed(record)) unclaimed++;
  }
  return { absent, unclaimed };
}
