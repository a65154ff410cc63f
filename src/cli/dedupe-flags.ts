/**
 * @module cli/dedupe-flags
 * `--id`, `--dedupe-key`, `--dedupe-mode` and `--dedupe-window` of `task add`
 * and `task schedule`: the options of an add that reports what it did, and
 * how that is printed (`added <id>`, `ignored <id>`, `replaced <id>`).
 */
import type { Command } from "commander";
import { CliUsageError } from "../errors.js";
import {
  type AddResult,
  type DedupeOptions,
  isTaskId,
  TASK_ID_RULE,
} from "../queue/dedupe-options.js";
import type { Task } from "../task/task-record.js";
import type { OutputFormat } from "./env.js";
import { parseDuration } from "./inputs.js";
import { print, printJson } from "./output.js";

export interface DedupeFlags {
  readonly id?: string;
  readonly dedupeKey?: string;
  readonly dedupeMode?: string;
  readonly dedupeWindow?: string;
}

/** Adds the flags to `command`. */
export function addDedupeFlags(command: Command): Command {
  return command
    .option(
      "--id <id>",
      "store the task under this id (letters, digits, _ . : -); one the queue holds is not added again",
    )
    .option(
      "--dedupe-key <key>",
      "add nothing while a task added under this key is unfinished; prints what happened",
    )
    .option(
      "--dedupe-mode <mode>",
      "with --dedupe-key: ignore (default) or replace (a waiting task takes the new arguments)",
    )
    .option(
      "--dedupe-window <duration>",
      "with --dedupe-key: hold the key this long from the first add, even once its task finished (30s, 5m…)",
    );
}

/** The queue options the flags ask for; `undefined` when none is given (a plain add). */
export function reportingOptionsOf(
  flags: DedupeFlags,
): { id?: string; dedupe?: DedupeOptions } | undefined {
  if (flags.id !== undefined && !isTaskId(flags.id)) {
    throw new CliUsageError(`--id must be ${TASK_ID_RULE} (got '${flags.id}')`);
  }
  if (flags.dedupeKey === undefined) {
    const stray =
      flags.dedupeMode !== undefined
        ? "--dedupe-mode"
        : flags.dedupeWindow !== undefined
          ? "--dedupe-window"
          : null;
    if (stray) throw new CliUsageError(`${stray} needs --dedupe-key`);
    return flags.id === undefined ? undefined : { id: flags.id };
  }
  const mode = flags.dedupeMode ?? "ignore";
  if (mode !== "ignore" && mode !== "replace") {
    throw new CliUsageError(`--dedupe-mode must be ignore or replace (got '${mode}')`);
  }
  const dedupe: DedupeOptions = {
    key: flags.dedupeKey,
    mode,
    ...(flags.dedupeWindow === undefined
      ? {}
      : { window: parseDuration(flags.dedupeWindow, "--dedupe-window") }),
  };
  return { ...(flags.id === undefined ? {} : { id: flags.id }), dedupe };
}

/** Prints what an add with the flags did: `<outcome> <id>`, or JSON with the stored record. */
export function printAddResult(result: AddResult, stored: Task | null, format: OutputFormat): void {
  if (format === "json") printJson({ ...result, task: stored?.toJSON() ?? null });
  else print(`${result.outcome} ${result.id}`);
}
