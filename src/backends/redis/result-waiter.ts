/**
 * @module backends/redis/result-waiter
 * `getResults`: waits until every wanted task has finished. The scripts that
 * finish tasks publish their ids on the queue's channel; a waiter wakes on
 * those and reads the records again. It also looks again every few seconds,
 * in case a notification was lost while the subscriber reconnected.
 */
import { BackendError, WaitTimeoutError } from "../../errors.js";
import type { TaskData } from "../../task/task-record.js";
import { FinishedListener } from "./finished-listener.js";
import type { RedisSession } from "./session.js";
import type { TaskReader } from "./task-reader.js";

/** While waiting for results, look again this often in case a notification was lost in a reconnect. */
const RESULT_RECHECK_MS = 2000;

export class ResultWaiter {
  readonly #listener: FinishedListener;

  constructor(
    private readonly session: RedisSession,
    private readonly reader: TaskReader,
  ) {
    this.#listener = new FinishedListener(() => session.connections.subscriber());
  }

  /** The finished records among `ids`, waiting up to `timeoutMs` (`null`: no limit; `0`: no wait). */
  async getResults(
    queue: string,
    ids: readonly string[],
    timeoutMs: number | null,
  ): Promise<Map<string, TaskData>> {
    const unique = [...new Set(ids)];
    const results = await this.#finishedAmong(queue, unique);
    if (results.size === unique.length || timeoutMs === 0) return results;
    const deadline = timeoutMs === null ? null : Date.now() + timeoutMs;
    let wake: (() => void) | undefined;
    let signalled = false;
    const channel = this.session.keys(queue).finishedChannel;
    const stop = await this.#listener.listen(channel, (finished) => {
      if (finished.some((id) => !results.has(id) && unique.includes(id))) {
        signalled = true;
        wake?.();
      }
    });
    try {
      for (;;) {
        const missing = unique.filter((id) => !results.has(id));
        for (const [id, record] of await this.#finishedAmong(queue, missing)) {
          results.set(id, record);
        }
        if (results.size === unique.length) return results;
        if (!this.session.isConnected)
          throw new BackendError("Redis backend was disconnected while waiting for results");
        const remaining = deadline === null ? RESULT_RECHECK_MS : deadline - Date.now();
        if (remaining <= 0) {
          throw new WaitTimeoutError(
            (timeoutMs ?? 0) / 1000,
            unique.filter((id) => !results.has(id)),
          );
        }
        if (!signalled) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, Math.min(remaining, RESULT_RECHECK_MS));
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
        }
        wake = undefined;
        signalled = false;
      }
    } finally {
      stop();
    }
  }

  async #finishedAmong(queue: string, wanted: readonly string[]): Promise<Map<string, TaskData>> {
    const found = await this.reader.getTasks(queue, wanted);
    for (const [id, record] of found) if (record.finishedAt === null) found.delete(id);
    return found;
  }
}
