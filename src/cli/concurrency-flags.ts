/**
 * @module cli/concurrency-flags
 * `--concurrency-key` and `--concurrency-limit` of `task add` and `task
 * schedule`: the concurrency key (and its limit) one add runs the task under,
 * instead of its definition's.
 */
import type { Command } from "commander";
import { CliUsageError } from "../errors.js";
import { type ConcurrencyOptions, MAX_CONCURRENCY_LIMIT } from "../task/concurrency.js";

export interface ConcurrencyFlags {
  readonly concurrencyKey?: string;
  readonly concurrencyLimit?: string;
}

/** Adds the flags to `command`. */
export function addConcurrencyFlags(command: Command): Command {
  return command
    .option(
      "--concurrency-key <key>",
      "run under this concurrency key: tasks sharing it run --concurrency-limit at a time across workers, in order",
    )
    .option(
      "--concurrency-limit <n>",
      "with --concurrency-key: how many may run at once (default 1)",
    );
}

/** The `concurrency` option the flags give (the queue checks the values); `{}` without a key. */
export function concurrencyOptionsOf(flags: ConcurrencyFlags): {
  concurrency?: ConcurrencyOptions;
} {
  const { concurrencyKey: key, concurrencyLimit: rawLimit } = flags;
  if (key === undefined) {
    if (rawLimit !== undefined)
      throw new CliUsageError("--concurrency-limit needs --concurrency-key");
    return {};
  }
  if (rawLimit === undefined) return { concurrency: { key } };
  const digits = rawLimit.trim();
  const limit = Number(digits);
  if (!/^\d+$/.test(digits) || limit < 1 || limit > MAX_CONCURRENCY_LIMIT) {
    throw new CliUsageError(
      `--concurrency-limit must be a whole number from 1 to ${MAX_CONCURRENCY_LIMIT}, e.g. 2 (got '${rawLimit}')`,
    );
  }
  return { concurrency: { key, limit } };
}
