/**
 * @module cli/program
 * The `sheppy` command tree (commander). Built by a function so the bin and
 * the docs generator (`npm run docs:cli`) share one definition.
 */
import { Command } from "commander";
import { setDefaultLogger } from "../observability/logger.js";
import { VERSION } from "../util/version.js";
import { addCronCommands } from "./commands/cron.js";
import { addDashboardCommand } from "./commands/dashboard.js";
import { addDbCommands } from "./commands/db.js";
import { addEventsCommand } from "./commands/events.js";
import { addMetricsCommand } from "./commands/metrics.js";
import { addQueueCommands } from "./commands/queue.js";
import { addTaskCommands } from "./commands/task.js";
import { addWorkCommand } from "./commands/work.js";
import { addWorkerCommands } from "./commands/worker.js";
import { addWorkflowCommands } from "./commands/workflow.js";
import { applyBooleanEnv, type LogLevel, settingOption } from "./env.js";
import { loadModules } from "./load-modules.js";
import { createCliLogger } from "./logger.js";
import { storedFormats } from "./stored-formats.js";
import { warnAboutUnknownVariables } from "./unknown-variables.js";
import { warnIfPasswordInArguments } from "./url-in-arguments.js";
import { showWarningsAt } from "./warn.js";

/** Options of {@link buildProgram}. */
export interface ProgramOptions {
  /** Wrap help at this width (the docs use a fixed one; a terminal uses its own). */
  readonly helpWidth?: number;
}

/**
 * The `sheppy` program. It throws a `CommanderError` instead of exiting, so
 * `main` decides the exit code in one place.
 * @example await buildProgram().parseAsync(process.argv);
 */
export function buildProgram(options: ProgramOptions = {}): Command {
  const program = new Command("sheppy")
    .description(
      "Sheppy: run workers and manage tasks, queues, crons and workflows from a terminal",
    )
    .version(
      `${VERSION} (${storedFormats()})`,
      "-V, --version",
      "print the version, and the stored formats it reads and writes",
    )
    .helpOption("-h, --help", "show help for a command")
    .addOption(settingOption("logLevel"))
    .option(
      "--import <module>",
      "load this module before the command runs (repeatable): one that registers a backend URL scheme of its own (registerBackendScheme), error classes, or instrumentation",
      (module: string, earlier: string[]) => [...earlier, module],
      [] as string[],
    )
    .configureHelp({
      showGlobalOptions: true,
      sortSubcommands: false,
      ...(options.helpWidth === undefined ? {} : { helpWidth: options.helpWidth }),
    })
    .showSuggestionAfterError()
    .exitOverride()
    // Before any action: boolean settings read their variable's value, not its mere presence.
    .hook("preAction", async (program, action) => {
      applyBooleanEnv(action);
      useCliLoggerForBackends(program);
      warnIfPasswordInArguments(action);
      warnAboutUnknownVariables();
      // First, so a URL of a scheme the module registers is understood by every command.
      await loadModules(program.opts<{ import: string[] }>().import);
    });
  // Subcommands inherit the settings above (help, exitOverride), so they come after.
  addWorkCommand(program);
  addTaskCommands(program);
  addQueueCommands(program);
  addCronCommands(program);
  addWorkerCommands(program);
  addWorkflowCommands(program);
  addDashboardCommand(program);
  addEventsCommand(program);
  addMetricsCommand(program);
  addDbCommands(program);
  return program;
}

/**
 * Backends made from a URL log through the default logger: point it at
 * stderr, at `--log-level` when given and `warn` otherwise (a short command
 * has no use for a reconnect notice). `sheppy work` replaces it with its own.
 * The CLI's own warnings follow the same level.
 */
function useCliLoggerForBackends(program: Command): void {
  const given = program.getOptionValueSource("logLevel") !== "default";
  const level = given ? program.opts<{ logLevel: LogLevel }>().logLevel : "warn";
  setDefaultLogger(createCliLogger(level, "auto", 2));
  showWarningsAt(level);
}
