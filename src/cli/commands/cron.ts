/**
 * @module cli/commands/cron
 * `sheppy cron list | add | delete`: the crons registered on a queue, with
 * their next run; register one; remove one (by the id `cron list` shows, so
 * a cron added in code can be removed without its task module).
 */
import type { Command } from "commander";
import { CliUsageError, CronExpressionError, CronNotFoundError } from "../../errors.js";
import {
  type CronDefinition,
  cronDeterministicId,
  declaredCronDeletionRefusal,
} from "../../queue/cron.js";
import { describeSchedule, parseCronSchedule } from "../../queue/cron-schedule.js";
import { addSettings, nonEmptyId, type OutputFormat } from "../env.js";
import { warnIfQueueUnused, withQueue, withQueueToAdd } from "../open-queue.js";
import { type Column, formatInstant, formatJson, print, printJson, printRows } from "../output.js";
import {
  ARGS_FILE_HELP,
  ARGS_HELP,
  createTask,
  TASK_ARGUMENT,
  warnIfArgumentsMissing,
} from "../task-from-spec.js";

interface QueueSettings {
  readonly backendUrl?: string;
  readonly queue: string;
  readonly format: OutputFormat;
}

const COLUMNS: readonly Column<CronDefinition>[] = [
  { heading: "ID", value: (cron) => cron.deterministicId },
  { heading: "SCHEDULE", value: describeSchedule },
  { heading: "TASK", value: (cron) => cron.name },
  { heading: "ARGS", value: (cron) => formatJson([...cron.args], 40) },
  {
    heading: "NEXT RUN (UTC)",
    value: (cron) => formatInstant(cron.nextRunAt?.toISOString() ?? null),
  },
  // A declared cron is the configuration's to change; any other was added by addCron or `cron add`.
  {
    heading: "ADDED BY",
    value: (cron) => (cron.managedBy === "config" ? "config" : "addCron / cron add"),
  },
];

/**
 * A cron as `cron list --format json` shows it: `id` is the id `cron add`
 * prints, the table shows and `cron delete` takes (the deterministic one);
 * the random id of this registration is `registrationId`.
 */
export function cronJson(cron: CronDefinition): Record<string, unknown> {
  const { id, ...rest } = cron;
  return { id: cron.deterministicId, registrationId: id, ...rest };
}

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
    const crons = await withQueue(settings, async (queue) => {
      const found = await queue.getCrons();
      if (found.length === 0) await warnIfQueueUnused(queue.backend, queue.name);
      return found;
    });
    printRows(settings.format, crons, COLUMNS, cronJson, "no crons");
  });
}

function addAdd(group: Command): void {
  const command = group
    .command("add")
    .description(
      "register a cron: the task runs at every fire time of the expression (UTC unless --timezone), or every --every seconds, once a worker with a cron manager serves the queue",
    )
    .argument("<task>", TASK_ARGUMENT)
    .argument("[expression]", "five cron fields or a macro, e.g. '0 9 * * 1-5' or @daily")
    .option(
      "--every <seconds>",
      "instead of an expression: run every N whole seconds (at the multiples of N since the Unix epoch)",
    )
    .option(
      "--timezone <zone>",
      "IANA time zone the expression is read in, e.g. Europe/Berlin",
      "UTC",
    )
    .option("--args <json>", ARGS_HELP, "[]")
    .option("--args-file <path>", ARGS_FILE_HELP);
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(
    async (spec: string, expression: string | undefined, _o: unknown, cmd: Command) => {
      const settings = cmd.optsWithGlobals<
        QueueSettings & { args: string; argsFile?: string; every?: string; timezone: string }
      >();
      // The zone's default is UTC: `--timezone UTC` given with --every is still a mistake to name.
      const zoneGiven = cmd.getOptionValueSource("timezone") !== "default";
      const [input, options] = scheduleOf(
        expression,
        settings.every,
        zoneGiven ? settings.timezone : undefined,
      );
      // Checked before the task module is loaded: a bad schedule is a one-line error on its own.
      const schedule = parseCronSchedule(input, options, "cron add");
      const task = await createTask(spec, settings);
      await withQueueToAdd(settings, async (queue) => {
        const added = await queue.addCron(task, input, options);
        // The id addCron stored it under (the same one `cron list` shows and `cron delete` takes).
        const id = cronDeterministicId(task, schedule);
        if (settings.format === "json") printJson({ added, id });
        else {
          // An alias or another spelling is stored as the zone's IANA name: say so, or the list would surprise.
          const zone = schedule.timezone;
          const renamed =
            zone !== null && options !== undefined && zone !== options.timezone
              ? ` (time zone ${options.timezone} is stored as ${zone})`
              : "";
          print(`${added ? "added" : "already there"}: ${id}${renamed}`);
        }
      });
      warnIfArgumentsMissing(task);
    },
  );
}

/** What `addCron` takes from the command line: an expression and its zone, or `--every`. */
function scheduleOf(
  expression: string | undefined,
  every: string | undefined,
  timezone: string | undefined,
): [string | { every: number }, { timezone: string } | undefined] {
  if (expression !== undefined && every !== undefined) {
    throw new CronExpressionError("cron add: give an expression or --every <seconds>, not both");
  }
  if (expression === undefined && every === undefined) {
    throw new CronExpressionError(
      "cron add: say when: a cron expression (e.g. '0 9 * * *') or --every <seconds>",
    );
  }
  if (every !== undefined) {
    if (timezone !== undefined) {
      throw new CronExpressionError(
        "cron add: --timezone applies to an expression, not to --every (an interval is the same in every zone)",
      );
    }
    // Number("") is 0 and Number("1e3") is 1000: only plain digits are seconds here.
    const seconds = /^\d+$/.test(every.trim()) ? Number(every) : every;
    return [{ every: seconds as number }, undefined];
  }
  return [expression!, { timezone: timezone ?? "UTC" }];
}

function addDelete(group: Command): void {
  const command = group
    .command("delete")
    .description("delete a cron by its id (see cron list), with its runs still waiting")
    .argument("<id>", "the cron's id, as cron list shows it", nonEmptyId)
    .option(
      "--force",
      "delete a cron a config file declares all the same (the workers that declare it create it again)",
    );
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<QueueSettings & { force?: boolean }>();
    const deleted = await withQueue(settings, async (queue) => {
      const cron = (await queue.getCrons()).find((one) => one.deterministicId === id);
      if (cron?.managedBy === "config" && !settings.force)
        throw new CliUsageError(declaredCronDeletionRefusal(id, queue.name, "pass --force"));
      return queue.deleteCron(id);
    });
    if (!deleted) throw new CronNotFoundError(id, settings.queue);
    if (settings.format === "json") printJson({ deleted: true, id });
    else print(`deleted: ${id}`);
  });
}
