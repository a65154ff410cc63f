/**
 * @module queue/wait-for-finished
 * Waiting until tasks have finished, written once for every backend: listen
 * for the backend's finished-task notifications, read the records, and read
 * again whenever a notification names a wanted task (or asks to look again),
 * or every few seconds in case one was lost. The deadline is real time,
 * whatever clock the queue's tasks see: how long a caller waits is an
 * operational matter, like a claim's wait.
 */
import type { TaskReader } from "../backends/backend.js";
import { systemClock } from "../clock.js";
import { BackendError, TaskNotFoundError, WaitTimeoutError } from "../errors.js";
import type { TaskData } from "../task/task-record.js";

/** While waiting, read again this often even without a notification. */
export const RECHECK_MS = 2000;

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
export async function waitForFinished(
  backend: TaskReader & { readonly isConnected: boolean },
  queue: string,
  ids: readonly string[],
  timeoutMs: number | null,
): Promise<Map<string, TaskData>> {
  const wanted = [...new Set(ids)];
  const results = new Map<string, TaskData>();
  let { absent, unclaimed } = await readFinished(backend, queue, wanted, results);
  if (results.size === wanted.length) return results;
  const giveUp = (): never => {
    if (timeoutMs === null) throw new TaskNotFoundError(absent[0]!, queue);
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
      ({ absent, unclaimed } = await readFinished(backend, queue, missing, results));
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
async function readFinished(
  backend: TaskReader,
  queue: string,
  wanted: readonly string[],
  results: Map<string, TaskData>,
): Promise<{ absent: string[]; unclaimed: number }> {
  const absent: string[] = [];
  let unclaimed = 0;
  if (wanted.length === 0) return { absent, unclaimed };
  const found = await backend.getTasks(queue, wanted);
  for (const id of wanted) {
    const record = found.get(id);
    if (record === undefined) absent.push(id);
    else if (record.finishedAt !== null) results.set(id, record);
    else if (record.status === "pending" && record.startedAt === null) unclaimed++;
  }
  return { absent, unclaimed };
}
