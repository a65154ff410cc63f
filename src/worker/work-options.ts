/**
 * @module worker/work-options
 * The options of one `worker.work()` call and their check: a misspelt key
 * (`maxtasks`) would otherwise leave the worker running for ever, and a
 * `oneshot: "yes"` would be taken as given.
 */
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import { checkOptionKeys } from "../util/unknown-keys.js";

/** Options of one `work()` call. */
export interface WorkOptions {
  /** Return after claiming this many tasks (each retry attempt is a claim) and finishing them. */
  maxTasks?: number;
  /** Return once every queue comes back empty (tasks scheduled for later do not keep it running). */
  oneshot?: boolean;
}

const WORK_OPTION_KEYS = Object.keys({
  maxTasks: true,
  oneshot: true,
} satisfies Record<keyof WorkOptions, true>);

/** `options` checked, with their defaults: no bound on claims, not oneshot. */
export function resolveWorkOptions(options: WorkOptions): Required<WorkOptions> {
  checkOptionKeys(options, WORK_OPTION_KEYS, "worker.work()");
  const { maxTasks = Number.POSITIVE_INFINITY, oneshot = false } = options;
  if (maxTasks !== Number.POSITIVE_INFINITY && (!Number.isInteger(maxTasks) || maxTasks < 1)) {
    throw new InvalidOptionError(
      `worker.work(): maxTasks must be an integer ≥ 1 (got ${describeGiven(options.maxTasks)})`,
    );
  }
  if (typeof oneshot !== "boolean") {
    throw new InvalidOptionError(
      `worker.work(): oneshot must be true or false (got ${describeGiven(oneshot)})`,
    );
  }
  return { maxTasks, oneshot };
}
