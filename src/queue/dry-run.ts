/**
 * @module queue/dry-run
 * The `dryRun` option of the bulk actions (`retryAll`, `cancelAll`,
 * `deleteAll`): walk and judge exactly as the action would, change nothing,
 * and answer with the counts it would have given — what an operator checks
 * before running again, cancelling or deleting thousands of tasks. The
 * counts are as of the read: tasks that change between a preview and the
 * action are judged again by the action itself.
 */
import { InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";

/** What a bulk action's options say about `dryRun`, checked. */
export interface DryRunOption {
  /**
   * Change nothing: count what the call would act on as the tasks are now,
   * and answer with the counts it would have given (default `false`).
   */
  dryRun?: boolean | undefined;
}

/** Whether `value` asks for a dry run; throws for anything but `true`, `false` or absent. */
export function dryRunOf(value: unknown, where: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== "boolean") {
    throw new InvalidOptionError(
      `${where}: dryRun must be true or false (got ${describeGiven(value)})`,
    );
  }
  return value;
}
