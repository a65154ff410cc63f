/**
 * @module cli/commands/task-manage
 * `task retry`, `task cancel` and `task delete`: change one task by id.
 */
import type { Command } from "commander";
import { CliUsageError, TaskNotFoundError } from "../../errors.js";
import { addSettings, type OutputFormat } from "../env.js";
import { parseTimeout } from "../inputs.js";
import { queueGiven, withQueueOf } from "../open-queue.js";
import { print, printJson } from "../output.js";
import { reportOutcome, waitForOutcome } from "./task-outcome.js";

interface QueueSettings {
  readonly backendUrl?: string;
  readonly queue: string;
  readonly format: OutputFormat;
}

function addRetry(group: Command): void {
  const command = group
    .command("retry")
    .description("run a finished task again (same id); a completed one needs --force")
    .argument("<id>", "task id")
    .option("--force", "also re-run a task that completed successfully")
    .option("--wait", "wait until the new attempt finishes; print its result (exit 1 if it failed)")
    .option("--timeout <duration>", "with --wait: give up after this long (30s, 5m…)");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<
      QueueSettings & { force?: boolean; wait?: boolean; timeout?: string }
    >();
    const timeout = parseTimeout(settings.timeout);
    if (timeout !== undefined && !settings.wait) throw new CliUsageError("--timeout needs --wait");
    await withQueueOf(settings, id, queueGiven(cmd), async (queue) => {
      // Checked here too so the message names the flag, not the library's `{ force: true }`.
      const current = await queue.getTask(id);
      if (current?.status === "completed" && !settings.force) {
        throw new CliUsageError(`task ${id} completed successfully; pass --force to run it again`);
      }
      if (!current || !(await queue.retry(id, { force: settings.force ?? false }))) {
        throw new TaskNotFoundError(id, queue.name);
      }
      if (settings.wait)
        return reportOutcome(await waitForOutcome(queue, id, timeout), settings.format);
      const task = await queue.getTask(id);
      if (settings.format === "json") printJson(task?.toJSON() ?? null);
      else print(`task ${id} queued to run again`);
    });
  });
}

function addCancel(group: Command): void {
  const command = group
    .command("cancel")
    .description("cancel a task that has not started")
    .argument("<id>", "task id");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<QueueSettings>();
    const cancelled = await withQueueOf(settings, id, queueGiven(cmd), (queue) => queue.cancel(id));
    if (settings.format === "json") printJson(cancelled.toJSON());
    else print(`task ${id} cancelled`);
  });
}

function addDelete(group: Command): void {
  const command = group
    .command("delete")
    .description("delete a finished task's record (cancel an unfinished one first)")
    .argument("<id>", "task id");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<QueueSettings>();
    await withQueueOf(settings, id, queueGiven(cmd), async (queue) => {
      if (!(await queue.delete(id))) throw new TaskNotFoundError(id, queue.name);
    });
    if (settings.format === "json") printJson({ id, deleted: true });
    else print(`task ${id} deleted`);
  });
}

/** Adds `task retry`, `task cancel` and `task delete` to the `task` group. */
export function addManageCommands(group: Command): void {
  addRetry(group);
  addCancel(group);
  addDelete(group);
}
