/**
 * @module cli/commands/task-reschedule
 * `task reschedule <id>`: moves a task that waits to run (pending, scheduled,
 * or waiting for its automatic retry) to now — the operator's "run it now" —
 * or to `--delay` / `--at`, and to another `--priority` when given.
 */
import type { Command } from "commander";
import { CliUsageError, TaskNotFoundError } from "../../errors.js";
import { addSettings, nonEmptyId, type OutputFormat } from "../env.js";
import { boundedDelay, parseFutureInstant, parsePriority } from "../inputs.js";
import { queueGiven, withQueueOf } from "../open-queue.js";
import { print, printJson } from "../output.js";

interface RescheduleSettings {
  readonly backendUrl?: string;
  readonly queue: string;
  readonly format: OutputFormat;
  readonly delay?: string;
  readonly at?: string;
  readonly priority?: number;
}

/** Adds `task reschedule` to the `task` group. */
export function addRescheduleCommand(group: Command): void {
  const command = group
    .command("reschedule")
    .description(
      "move a task that waits to run (pending, scheduled, or waiting for its retry) to now, or to --delay / --at; same id and arguments",
    )
    .argument("<id>", "task id", nonEmptyId)
    .option("--delay <duration>", "run after this long from now: 30s, 5m, 2h, 1h30m, 1d")
    .option("--at <iso>", "run at this ISO-8601 time, e.g. 2030-01-31T09:00:00Z")
    .option(
      "--priority <n>",
      "claim order from now on: higher first (an integer); alone, it keeps the task's time",
      parsePriority,
    );
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<RescheduleSettings>();
    if (settings.delay !== undefined && settings.at !== undefined) {
      throw new CliUsageError("use either --delay or --at, not both (neither: run it now)");
    }
    const at =
      settings.delay !== undefined
        ? boundedDelay(settings.delay)
        : settings.at !== undefined
          ? parseFutureInstant(settings.at, "--at")
          : undefined;
    const options = {
      ...(at === undefined ? {} : { at }),
      ...(settings.priority === undefined ? {} : { priority: settings.priority }),
    };
    await withQueueOf(settings, id, queueGiven(cmd), async (queue) => {
      if (!(await queue.reschedule(id, options))) throw new TaskNotFoundError(id, queue.name);
      const task = await queue.getTask(id);
      if (settings.format === "json") printJson(task?.toJSON() ?? null);
      else if (task?.status === "pending") print(`task ${id} runs now (pending)`);
      else if (at === undefined && task !== null && task.status !== "scheduled")
        // Moved to now and already taken by a worker (or run) by the time it was read back.
        print(`task ${id} runs now (${task.status})`);
      else
        print(
          `task ${id} runs at ${(task?.status === "retrying" ? task.nextRetryAt : task?.scheduledAt)?.toISOString() ?? "its time"} (${task?.status ?? "gone"})`,
        );
    });
  });
}
