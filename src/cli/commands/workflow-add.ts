/**
 * @module cli/commands/workflow-add
 * `sheppy workflow add <module:export>`: load a workflow factory, call it
 * with the `--args` JSON array and start the workflow — its body runs here
 * up to its first steps, as `queue.addWorkflow` runs it — under `--id` when
 * given (answering `added <id>` or `ignored <id>`, as `task add --id` does).
 * With `--wait`, wait for its end and print its result.
 */
import type { Command } from "commander";
import { CliUsageError } from "../../errors.js";
import { startWorkflow } from "../../queue/workflow-api.js";
import { missingWorkflowArgumentsWarning } from "../../task/missing-arguments.js";
import type { Workflow } from "../../task/workflow-record.js";
import { addSettings, nonEmptyId, type OutputFormat } from "../env.js";
import { warnIfHeldDiffers } from "../held-differs.js";
import { parseTimeout } from "../inputs.js";
import { withQueueToAdd } from "../open-queue.js";
import { print, printJson } from "../output.js";
import { createWorkflow, flagPayloadErrors } from "../task-from-spec.js";
import { warn } from "../warn.js";
import { reportEnd, waitForEnd } from "./workflow-end.js";

interface AddSettings {
  readonly backendUrl?: string;
  readonly queue: string;
  readonly format: OutputFormat;
  readonly args: string;
  readonly argsFile?: string;
  readonly id?: string;
  readonly wait?: boolean;
  readonly timeout?: string;
}

const ARGS_HELP =
  "JSON array of the workflow's arguments, e.g. '[\"order-42\"]'; - reads it from standard input";

/** Adds `sheppy workflow add`. */
export function addWorkflowAdd(group: Command): void {
  const command = group
    .command("add")
    .description(
      "start a workflow: its body runs here up to its first steps, workers do the rest; with --id, adding again starts nothing while the queue holds a workflow under that id",
    )
    .argument("<workflow>", "module:export of a workflow, e.g. ./src/flows.ts:fulfilOrder")
    .option("--args <json>", ARGS_HELP, "[]")
    .option("--args-file <path>", "read the JSON array of arguments from this file")
    .option("--id <id>", "store it under this id of yours (e.g. the order's)", nonEmptyId)
    .option("--wait", "wait until it ends; print its result (exit 1 if it did not complete)")
    .option("--timeout <duration>", "with --wait: give up after this long (30s, 5m…)");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (spec: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<AddSettings>();
    const timeout = parseTimeout(settings.timeout);
    if (timeout !== undefined && !settings.wait) throw new CliUsageError("--timeout needs --wait");
    const workflow = await createWorkflow(spec, settings);
    await withQueueToAdd(settings, async (queue) => {
      let started: { workflow: Workflow; added: boolean } | undefined;
      await flagPayloadErrors(settings, async () => {
        started = await startWorkflow(queue, workflow, { id: settings.id });
      });
      const { workflow: held, added } = started!;
      const warning = added ? missingWorkflowArgumentsWarning(workflow) : undefined;
      if (warning !== undefined) warn(warning);
      if (!added && settings.id !== undefined)
        warnIfHeldDiffers("workflow", held.id, workflow, held);
      if (settings.wait)
        return reportEnd(await waitForEnd(queue, held.id, timeout), settings.format);
      if (settings.id === undefined) {
        if (settings.format === "json") printJson(held.toJSON());
        else print(held.id);
        return;
      }
      // As `task add --id` answers: added, or ignored (the queue held a workflow under the id).
      const outcome = added ? "added" : "ignored";
      if (settings.format === "json") printJson({ outcome, id: held.id, workflow: held.toJSON() });
      else print(`${outcome} ${held.id}`);
    });
  });
}
