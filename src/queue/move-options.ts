/**
 * @module queue/move-options
 * The `at` and `priority` options of a call that sends a stored task to run
 * again or at another time (`retry`, `reschedule`), checked the same way for
 * both before anything is read.
 */
import { checkPriority } from "../task/priority.js";
import { resolveDueTime } from "./instant.js";

/** `at` as epoch ms (from a `Date`, ISO text or seconds after `now`) and `priority` checked; each `undefined` when not given. `where` names the call. */
export function timeAndPriority(
  options: {
    readonly at?: Date | number | string | undefined;
    readonly priority?: number | undefined;
  },
  now: number,
  where: string,
): { at: number | undefined; priority: number | undefined } {
  return {
    at: options.at === undefined ? undefined : resolveDueTime(options.at, now, where),
    priority:
      options.priority === undefined
        ? undefined
        : checkPriority(options.priority, `${where}: priority`),
  };
}
