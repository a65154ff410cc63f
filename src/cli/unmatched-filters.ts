/**
 * @module cli/unmatched-filters
 * The warning a listing or a bulk action gives when a task name or a
 * concurrency key it was told to match matches no task of the queue at all
 * (in any status): more likely a typo than news, and "0 retried" alone
 * would read as "nothing failed".
 */
import type { Queue } from "../queue/queue.js";
import { warnIfQueueUnused } from "./open-queue.js";
import { warn } from "./warn.js";

/** Pages looked through for one task of the names or keys before giving up the look (each looks at up to 5,000 tasks). */
const MAX_PAGES = 10;

/**
 * The warning for task names `names` (or concurrency keys `keys`) that no
 * task of `queue` has; `undefined` when one does, when both or neither are
 * given (which one missed is then unclear), or when the queue is too big to
 * tell quickly.
 */
export async function unmatchedFilterWarning(
  queue: Queue,
  names: readonly string[] | undefined,
  keys: readonly string[] | undefined,
): Promise<string | undefined> {
  if ((names === undefined) === (keys === undefined)) return undefined;
  let cursor: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const found = await queue.listTasks({
      ...(names ? { name: [...names] } : {}),
      ...(keys ? { concurrencyKey: [...keys] } : {}),
      limit: 1,
      cursor,
    });
    if (found.tasks.length > 0) return undefined;
    cursor = found.cursor;
    if (cursor === null) break;
  }
  if (cursor !== null) return undefined;
  return unmatchedMessage(queue.name, names, keys);
}

/**
 * What to say once a look through the whole queue (`queue`) found no task
 * of names `names` or of keys `keys` (only one of them given); `undefined`
 * otherwise.
 */
export function unmatchedMessage(
  queue: string,
  names: readonly string[] | undefined,
  keys: readonly string[] | undefined,
): string | undefined {
  if (names && !keys) {
    return `no task of queue ${queue} is named ${names.map((n) => `'${n}'`).join(" or ")} (names match exactly, as task() gave them)`;
  }
  if (keys && !names) {
    return `no task of queue ${queue} has the concurrency key ${keys.map((k) => `'${k}'`).join(" or ")} (keys match exactly, as the task's concurrency option gave them)`;
  }
  return undefined;
}

/**
 * After a bulk action that touched nothing: says on stderr why it may
 * have — a queue nothing has used (a misspelt queue name), or names or
 * keys no task of the queue has.
 */
export async function warnIfNothingThere(
  queue: Queue,
  names: readonly string[] | undefined,
  keys: readonly string[] | undefined,
): Promise<void> {
  await warnIfQueueUnused(queue.backend, queue.name);
  await warnIfUnmatched(queue, names, keys);
}

/** {@link unmatchedFilterWarning} on stderr. */
async function warnIfUnmatched(
  queue: Queue,
  names: readonly string[] | undefined,
  keys: readonly string[] | undefined,
): Promise<void> {
  const warning = await unmatchedFilterWarning(queue, names, keys);
  if (warning) warn(warning);
}
