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
import { BackendError, WaitTimeoutError } from "../errors.js";
import type { TaskData } from "../task/task-record.js";

/** While waiting, read again this often even without a notification. */
export const RECHECK_MS = 2000;

/**
 * The finished records of `ids` (`finishedAt` set), once all are finished.
 * `timeoutMs` `null` waits without limit; `0` reads once and returns what is
 * finished; a positive value waits at most that long, then throws
 * `WaitTimeoutError` naming the unfinished ids.
 */
export async function waitForFinished(
  backend: TaskReader & { readonly isConnected: boolean },
  queue: string,
  ids: readonly string[],
  timeoutMs: number | null,
): Promise<Map<string, TaskData>> {
  const wanted = [...new Set(ids)];
  const results = await finishedAmong(backend, queue, wanted);
  if (results.size === wanted.length || timeoutMs === 0) return results;
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
      for (const [id, record] of await finishedAmong(backend, queue, missing))
        results.set(id, record);
      if (results.size === wanted.length) return results;
      if (!backend.isConnected)
        throw new BackendError("the backend was disconnected while waiting for results");
      const remaining = deadline === null ? RECHECK_MS : deadline - systemClock.now();
      if (remaining <= 0) {
        throw new WaitTimeoutError(
          (timeoutMs ?? 0) / 1000,
          wanted.filter((id) => !results.has(id)),
        );
      }
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

async function finishedAmong(
  backend: TaskReader,
  queue: string,
  wanted: readonly string[],
): Promise<Map<string, TaskData>> {
  if (wanted.length === 0) return new Map();
  const found = await backend.getTasks(queue, wanted);
  for (const [id, record] of found) if (record.finishedAt === null) found.delete(id);
  return found;
}
