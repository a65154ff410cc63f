/**
 * @module cli/commands/cron
 * `sheppy cron list`: the crons registered on a queue, with their next run.
 */
import type { Command } from "commander";
import type { CronDefinition } from "../../queue/cron.js";
import { addSettings, type OutputFormat } from "../env.js";
import { withQueue } from "../open-queue.js";
import { type Column, formatInstant, formatJson, printRows } from "../output.js";

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

/** Adds `sheppy cron` and `cron list`. */
export function addCronCommands(program: Command): void {
  const group = program.command("cron").description("inspect crons");
  const command = group.command("list").description("list the queue's crons and their next run");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<{
      backendUrl?: string;
      queue: string;
      format: OutputFormat;
    }>();
    const crons = await withQueue(settings, (queue) => queue.getCrons());
    printRows(settings.format, crons, COLUMNS, (cron) => cron, "no crons");
  });
}
