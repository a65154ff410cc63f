/**
 * @module cli/commands/task-enqueue
 * `task add`, `task schedule` and `task test`: load a task factory from
 * `module:export`, call it with the `--args` JSON array (the function's
 * positional arguments) and enqueue, schedule or run the task.
 */
import { type Command, Option } from "commander";
import { CliUsageError } from "../../errors.js";
import type { AddResult } from "../../queue/dedupe-options.js";
import type { Queue, ReportingEnqueueOptions } from "../../queue/queue.js";
import type { Task } from "../../task/task-record.js";
import { TestQueue } from "../../testing/test-queue.js";
import {
  addConcurrencyFlags,
  type ConcurrencyFlags,
  concurrencyOptionsOf,
} from "../concurrency-flags.js";
import {
  addDedupeFlags,
  type DedupeFlags,
  printAddResult,
  reportingOptionsOf,
} from "../dedupe-flags.js";
import { addSettings, type OutputFormat } from "../env.js";
import { warnIfHeldDiffers } from "../held-differs.js";
import { boundedDelay, parseFutureInstant, parsePriority, parseTimeout } from "../inputs.js";
import { withQueueToAdd } from "../open-queue.js";
import { print, printJson } from "../output.js";
import {
  ARGS_FILE_HELP,
  ARGS_HELP,
  createTask,
  flagPayloadErrors,
  TASK_ARGUMENT,
  warnIfArgumentsMissing,
} from "../task-from-spec.js";
import { reportOutcome, waitForOutcome } from "./task-outcome.js";

interface QueueSettings {
  readonly backendUrl?: string;
  readonly queue: string;
  readonly format: OutputFormat;
}

/** Prints what was enqueued: its id (scripts capture it), or the stored record. */
const PRIORITY_HELP =
  "claim order: higher first, FIFO within one priority (an integer; default: the task's)";

function printEnqueued(stored: Task | null, task: Task, format: OutputFormat): void {
  if (format === "json") printJson((stored ?? task).toJSON());
  else print(task.id);
}

/**
 * The record an add by `--id` or `--dedupe-key` left stored, read back to
 * print; an add ignored by its id alone warns when the task held there has
 * other arguments (a dedupe key's add may differ on purpose: a debounce).
 */
async function storedAfter(
  queue: Queue,
  result: AddResult,
  task: Task,
  reporting: { readonly dedupe?: unknown },
): Promise<Task | null> {
  const stored = await queue.getTask(result.id);
  if (result.outcome === "ignored" && !reporting.dedupe)
    warnIfHeldDiffers("task", result.id, task, stored);
  return stored;
}

function addAdd(group: Command): void {
  const command = group
    .command("add")
    .description("add a task to a queue; with --wait, wait for it and print its result")
    .argument("<task>", TASK_ARGUMENT)
    .option("--args <json>", ARGS_HELP, "[]")
    .option("--args-file <path>", ARGS_FILE_HELP)
    .option("--wait", "wait until the task finishes; print its result (exit 1 if it failed)")
    .option("--timeout <duration>", "with --wait: give up after this long (30s, 5m…)")
    .option("--priority <n>", PRIORITY_HELP, parsePriority)
    // Not options of `add`: they are here only to point at `task schedule`.
    .addOption(new Option("--delay <duration>").hideHelp())
    .addOption(new Option("--at <iso>").hideHelp());
  addDedupeFlags(command);
  addConcurrencyFlags(command);
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (spec: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<
      QueueSettings &
        DedupeFlags &
        ConcurrencyFlags & {
          args: string;
          argsFile?: string;
          wait?: boolean;
          timeout?: string;
          priority?: number;
          delay?: string;
          at?: string;
        }
    >();
    const later =
      settings.delay !== undefined ? "--delay" : settings.at !== undefined ? "--at" : null;
    if (later) {
      throw new CliUsageError(
        `task add runs the task as soon as a worker is free; to run it later use sheppy task schedule <task> ${later} …`,
      );
    }
    const timeout = parseTimeout(settings.timeout);
    if (timeout !== undefined && !settings.wait) throw new CliUsageError("--timeout needs --wait");
    const reporting = reportingOptionsOf(settings);
    const concurrency = concurrencyOptionsOf(settings);
    const task = await createTask(spec, settings);
    await withQueueToAdd(settings, async (queue) => {
      if (reporting) {
        const options = {
          ...reporting,
          ...concurrency,
          priority: settings.priority,
        } as ReportingEnqueueOptions;
        let result: AddResult | undefined;
        await flagPayloadErrors(settings, async () => {
          result = await queue.add(task, options);
        });
        const stored = await storedAfter(queue, result!, task, reporting);
        if (!settings.wait) return printAddResult(result!, stored, settings.format);
        return reportOutcome(
          await waitForOutcome(queue, result!.id, timeout, settings.format),
          settings.format,
        );
      }
      await flagPayloadErrors(settings, () =>
        queue.add(task, { ...concurrency, priority: settings.priority }),
      );
      if (!settings.wait) return printEnqueued(await queue.getTask(task), task, settings.format);
      reportOutcome(
        await waitForOutcome(queue, task.id, timeout, settings.format),
        settings.format,
      );
    });
    warnIfArgumentsMissing(task);
  });
}

function addSchedule(group: Command): void {
  const command = group
    .command("schedule")
    .description("add a task that runs later: after --delay, or at --at")
    .argument("<task>", TASK_ARGUMENT)
    .option("--args <json>", ARGS_HELP, "[]")
    .option("--args-file <path>", ARGS_FILE_HELP)
    .option("--delay <duration>", "run after this long: 30s, 5m, 2h, 1h30m, 1d")
    .option("--at <iso>", "run at this ISO-8601 time, e.g. 2030-01-31T09:00:00Z")
    .option("--priority <n>", PRIORITY_HELP, parsePriority);
  addDedupeFlags(command);
  addConcurrencyFlags(command);
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (spec: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<
      QueueSettings &
        DedupeFlags &
        ConcurrencyFlags & {
          args: string;
          argsFile?: string;
          delay?: string;
          at?: string;
          priority?: number;
        }
    >();
    if (settings.delay !== undefined && settings.at !== undefined) {
      throw new CliUsageError("use either --delay or --at, not both");
    }
    if (settings.delay === undefined && settings.at === undefined) {
      throw new CliUsageError("say when: --delay 5m or --at 2030-01-31T09:00:00Z");
    }
    const at =
      settings.at === undefined
        ? boundedDelay(settings.delay!)
        : parseFutureInstant(settings.at, "--at");
    const reporting = reportingOptionsOf(settings);
    const concurrency = concurrencyOptionsOf(settings);
    const task = await createTask(spec, settings);
    await withQueueToAdd(settings, async (queue) => {
      if (reporting) {
        const options = {
          ...reporting,
          ...concurrency,
          priority: settings.priority,
        } as ReportingEnqueueOptions;
        let result: AddResult | undefined;
        await flagPayloadErrors(settings, async () => {
          result = await queue.schedule(task, at, options);
        });
        const stored = await storedAfter(queue, result!, task, reporting);
        return printAddResult(result!, stored, settings.format);
      }
      await flagPayloadErrors(settings, () =>
        queue.schedule(task, at, { ...concurrency, priority: settings.priority }),
      );
      printEnqueued(await queue.getTask(task), task, settings.format);
    });
    warnIfArgumentsMissing(task);
  });
}

function addTest(group: Command): void {
  const command = group
    .command("test")
    .description(
      "run a task once in this process (no backend, no worker) and print its result or error",
    )
    .argument("<task>", TASK_ARGUMENT)
    .option("--args <json>", ARGS_HELP, "[]")
    .option("--args-file <path>", ARGS_FILE_HELP);
  addSettings(command, ["format"]);
  command.action(async (spec: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<{
      args: string;
      argsFile?: string;
      format: OutputFormat;
    }>();
    const task = await createTask(spec, settings);
    // The executor a worker uses; retries run at once, chained tasks are added but not run.
    const queue = new TestQueue({ name: "sheppy-cli-test" });
    await queue.add(task);
    let last: Task | null = null;
    for (let attempt = await queue.processNext(); attempt; attempt = await queue.processNext()) {
      if (attempt.id !== task.id) continue;
      last = attempt;
      if (attempt.isFinished) break;
    }
    reportOutcome(last ?? task, settings.format);
    warnIfArgumentsMissing(task);
  });
}

/** Adds `task add`, `task schedule` and `task test` to the `task` group. */
export function addEnqueueCommands(group: Command): void {
  addAdd(group);
  addSchedule(group);
  addTest(group);
}
