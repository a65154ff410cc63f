/**
 * @module cli/commands/cron
 * `sheppy cron list | add | delete`: the crons registered on a queue, with
 * their next run; register one; remove one (by the id `cron list` shows, so
 * a cron added in code can be removed without its task module).
 */
import type { Command } from "commander";
import { CronNotFoundError } from "../../errors.js";
import { type CronDefinition, cronDeterministicId } from "../../queue/cron.js";
import { parseCronExpression } from "../../queue/cron-expression.js";
import { addSettings, type OutputFormat } from "../env.js";
import { withQueue } from "../open-queue.js";
import { type Column, formatInstant, formatJson, print, printJson, printRows } from "../output.js";
import { ARGS_FILE_HELP, ARGS_HELP, createTask, TASK_ARGUMENT } from "../task-from-spec.js";

interface QueueSettings {
  readonly backendUrl?: string;
  readonly queue: string;
  readonly format: OutputFormat;
}

const COLUMNS: readonly Column<CronDefinition>[] = [
  { heading: "ID", value: (cron) => cron.deterministicId },
  { heading: "EXPRESSION", value: (cron) => cron.expression },
  { heading: "TASK", value: (cron) => cron.name },
  { heading: "ARGS", value: (cron) => formatJson([...cron.args], 40) },
  {
    heading: "NEXT RUN (UTC)",
    value: (cron) => formatInstant(cron.nextRunAt?.toISOString() ?? null),
  },
  { heading: "MANAGED BY", value: (cron) => cron.managedBy ?? "code" },
];

/** Adds `sheppy cron` and `cron list | add | delete`. */
export function addCronCommands(program: Command): void {
  const group = program.command("cron").description("list, add and delete crons");
  addList(group);
  addAdd(group);
  addDelete(group);
}

function addList(group: Command): void {
  const command = group.command("list").description("list the queue's crons and their next run");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<QueueSettings>();
    const crons = await withQueue(settings, (queue) => queue.getCrons());
    printRows(settings.format, crons, COLUMNS, (cron) => cron, "no crons");
  });
}

function addAdd(group: Command): void {
  const command = group
    .command("add")
    .description(
      "register a cron: the task runs at every fire time of the expression (UTC) once a worker with a cron manager serves the queue",
    )
    .argument("<task>", TASK_ARGUMENT)
    .argument("<expression>", "five cron fields or a macro, e.g. '0 9 * * 1-5' or @daily")
    .option("--args <json>", ARGS_HELP, "[]")
    .option("--args-file <path>", ARGS_FILE_HELP);
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (spec: string, expression: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<QueueSettings & { args: string; argsFile?: string }>();
    const task = await createTask(spec, settings);
    await withQueue(settings, async (queue) => {
      const added = await queue.addCron(task, expression);
      // The id addCron stored it under (the same one `cron list` shows and `cron delete` takes).
      const id = cronDeterministicId(task, parseCronExpression(expression, "cron add").expression);
      if (settings.format === "json") printJson({ added, id });
      else print(`${added ? "added" : "already there"}: ${id}`);
    });
  });
}

function addDelete(group: Command): void {
  const command = group
    .command("delete")
    .description("delete a cron by its id (see cron list), with its runs still waiting")
    .argument("<id>", "the cron's id, as cron list shows it");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<QueueSettings>();
    const deleted = await withQueue(settings, (queue) => queue.deleteCron(id));
    if (!deleted) throw new CronNotFoundError(id, settings.queue);
    if (settings.format === "json") printJson({ deleted: true, id });
    else print(`deleted: ${id}`);
  });
}
