/**
 * @module cli/commands/workflow
 * `sheppy workflow list | info | cancel | retry | delete`: the queue's
 * workflows, one workflow with its steps and their outcomes, cancelling a
 * running one, running a failed one again, deleting a finished one. They
 * read the stored records only, so they need no workflow module
 * (`workflow add`, in its own module, loads the workflow it starts).
 */
import type { Command } from "commander";
import { CliUsageError, WorkflowNotFoundError } from "../../errors.js";
import type { JsonValue } from "../../json.js";
import type { Task, TaskData } from "../../task/task-record.js";
import { WORKFLOW_STATUSES, type Workflow, type WorkflowData } from "../../task/workflow-record.js";
import { SLEEP_TASK_NAME } from "../../task/workflow-sleep.js";
import { addSettings, nonEmptyId, type OutputFormat, WHOLE_NUMBER } from "../env.js";
import { parseSince, parseStatuses, parseTaskNames, parseTimeout } from "../inputs.js";
import { queueGiven, withQueue, withQueueOfWorkflow } from "../open-queue.js";
import {
  type Column,
  detailJson,
  formatInstant,
  formatJson,
  joinLines,
  print,
  printJson,
  printRows,
  renderTable,
} from "../output.js";
import { addWorkflowAdd } from "./workflow-add.js";
import { reportEnd, waitForEnd } from "./workflow-end.js";
import { addWorkflowWake } from "./workflow-wake.js";

interface QueueSettings {
  readonly backendUrl?: string;
  readonly queue: string;
  readonly format: OutputFormat;
}

const COLUMNS: readonly Column<WorkflowData>[] = [
  { heading: "ID", value: (w) => w.id },
  { heading: "NAME", value: (w) => w.name },
  { heading: "STATUS", value: (w) => w.status },
  { heading: "CREATED", value: (w) => formatInstant(w.createdAt) },
  { heading: "FINISHED", value: (w) => formatInstant(w.finishedAt) },
  { heading: "STEPS", value: (w) => `${w.steps.length} (${waitedFor(w)})` },
  {
    heading: "RESULT / ERROR",
    value: (w) =>
      w.error
        ? `${w.error.type}: ${joinLines(w.error.message)}`.slice(0, 60)
        : w.status === "completed"
          ? formatJson(w.result, 60)
          : "-",
  },
];

/** The STEPS column's note: how many steps the workflow waits for, and whether one is a sleep. */
function waitedFor(workflow: WorkflowData): string {
  const asleep = workflow.steps.some(
    (step) => step.name === SLEEP_TASK_NAME && workflow.pending.includes(step.taskId),
  );
  return `${workflow.pending.length} waited for${asleep ? ", asleep" : ""}`;
}

/** Adds `sheppy workflow` and `workflow list | info | cancel | retry | delete`. */
export function addWorkflowCommands(program: Command): void {
  const group = program
    .command("workflow")
    .description(
      "start a workflow, list workflows, show one with its steps, cancel one, wake a sleeping one, run a failed one again, delete a finished one",
    );
  addWorkflowAdd(group);
  addList(group);
  addInfo(group);
  addCancel(group);
  addWorkflowWake(group);
  addRetry(group);
  addDelete(group);
}

function addDelete(group: Command): void {
  const command = group
    .command("delete")
    .description("delete a finished workflow's record (cancel a running one first)")
    .argument("<id>", "workflow id", nonEmptyId);
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<QueueSettings>();
    await withQueueOfWorkflow(settings, id, queueGiven(cmd), async (queue) => {
      if (!(await queue.deleteWorkflow(id))) throw new WorkflowNotFoundError(id, queue.name);
    });
    if (settings.format === "json") printJson({ id, deleted: true });
    else print(`workflow ${id} deleted`);
  });
}

function addList(group: Command): void {
  const command = group
    .command("list")
    .description("list the queue's workflows, oldest first (the newest --limit of them)")
    .option("--running", "only those still running")
    .option(
      "-s, --status <statuses>",
      "only these statuses, comma-separated (running, completed, failed, cancelled)",
    )
    .option("--limit <n>", "show at most this many (0: all)", "100");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<
      QueueSettings & { running?: boolean; status?: string; limit: string }
    >();
    const limit = Number(settings.limit);
    if (!WHOLE_NUMBER.test(settings.limit.trim()) || !Number.isSafeInteger(limit)) {
      throw new CliUsageError(`--limit must be an integer ≥ 0 (got '${settings.limit}')`);
    }
    const statuses = parseStatuses(settings.status, WORKFLOW_STATUSES, "workflow");
    if (settings.running && statuses !== undefined) {
      throw new CliUsageError(
        "--running and --status cannot be combined (--running is --status running)",
      );
    }
    const all = await withQueue(settings, (queue) =>
      settings.running ? queue.getPendingWorkflows() : queue.getAllWorkflows(),
    );
    const workflows = statuses ? all.filter((w) => statuses.has(w.status)) : all;
    const shown = limit === 0 ? workflows : workflows.slice(-limit);
    printRows(
      settings.format,
      shown.map((w) => w.toJSON()),
      COLUMNS,
      (w) => w,
      "no workflows",
    );
  });
}

function addInfo(group: Command): void {
  const command = group
    .command("info")
    .description("show one workflow: status, result or error, and each step with its task's status")
    .argument("<id>", "workflow id", nonEmptyId);
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<QueueSettings>();
    await withQueueOfWorkflow(settings, id, queueGiven(cmd), async (queue) => {
      const workflow = await queue.getWorkflow(id);
      if (!workflow) throw new WorkflowNotFoundError(id, queue.name);
      const data = workflow.toJSON();
      const stepTasks = (await queue.getWorkflowSteps(id)).map((t) => t?.toJSON() ?? null);
      if (settings.format === "json") printJson({ workflow: data, steps: stepTasks });
      else print(renderWorkflowDetail(workflow, stepTasks, queue.name));
    });
  });
}

function addCancel(group: Command): void {
  const command = group
    .command("cancel")
    .description("cancel a running workflow and its steps that have not started")
    .argument("<id>", "workflow id", nonEmptyId)
    .option(
      "--force",
      "cancel its running steps too: each one's signal fires and its outcome is discarded",
    );
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<QueueSettings & { force?: boolean }>();
    const cancelled = await withQueueOfWorkflow(settings, id, queueGiven(cmd), (queue) =>
      queue.cancelWorkflow(id, { force: settings.force === true }),
    );
    if (settings.format === "json") printJson(cancelled.toJSON());
    else print(`cancelled: ${cancelled.id}`);
  });
}

function addRetry(group: Command): void {
  const command = group
    .command("retry")
    .description(
      "run a failed workflow again: a worker replays it as deployed now, asking again (as new tasks) for the steps it saw last that did not complete; steps that completed do not run again; --all-failed: every failed workflow of the queue",
    )
    .argument("[id]", "workflow id (not with --all-failed)")
    .option("--all-failed", "run every failed workflow of the queue again, a page at a time")
    .option(
      "--since <time>",
      "with --all-failed: only workflows that failed at or after this time (ISO-8601 with an offset) or within this long (1h, 2d…)",
    )
    .option(
      "-n, --name <names>",
      "with --all-failed: only workflows of these names, comma-separated",
    )
    .option("--wait", "wait until it ends again; print its result (exit 1 if it failed again)")
    .option("--timeout <duration>", "with --wait: give up after this long (30s, 5m…)");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string | undefined, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<
      QueueSettings & {
        allFailed?: boolean;
        since?: string;
        name?: string;
        wait?: boolean;
        timeout?: string;
      }
    >();
    const timeout = parseTimeout(settings.timeout);
    if (timeout !== undefined && !settings.wait) throw new CliUsageError("--timeout needs --wait");
    if (settings.allFailed) {
      if (id !== undefined) throw new CliUsageError("pass a workflow id or --all-failed, not both");
      if (settings.wait) throw new CliUsageError("--wait does not go with --all-failed");
      const since = settings.since === undefined ? undefined : parseSince(settings.since);
      const name = parseTaskNames(settings.name, "workflow");
      const outcome = await withQueue(settings, (queue) => queue.retryWorkflows({ since, name }));
      if (settings.format === "json") printJson(outcome);
      else {
        const skipped =
          outcome.skipped === 0
            ? ""
            : ` (${outcome.skipped} skipped: changed meanwhile, or a step's record is gone)`;
        print(
          `${outcome.retried} failed workflow${outcome.retried === 1 ? "" : "s"}${name ? ` ${name.join(" or ")}` : ""} running again${skipped}`,
        );
      }
      return;
    }
    if (id === undefined) throw new CliUsageError("pass a workflow id, or --all-failed");
    if (settings.since !== undefined) throw new CliUsageError("--since needs --all-failed");
    if (settings.name !== undefined)
      throw new CliUsageError("--name needs --all-failed (one workflow is named by its id)");
    const { retried, again, ended } = await withQueueOfWorkflow(
      settings,
      id,
      queueGiven(cmd),
      async (queue) => {
        const before = await queue.getWorkflow(id);
        const steps = before === null ? [] : await queue.getWorkflowSteps(id);
        const retried = await queue.retryWorkflow(id);
        const ended = settings.wait ? await waitForEnd(queue, id, timeout) : null;
        return { retried, again: askedAgain(before, steps), ended };
      },
    );
    if (ended) return reportEnd(ended, settings.format);
    if (settings.format === "json") printJson(retried.toJSON());
    else print(`retried: ${retried.id} (${retriedSummary(retried, again)})`);
  });
}

/** The steps a retry of `workflow` asks for again: those of its last yield that did not complete. */
function askedAgain(workflow: Workflow | null, steps: readonly (Task | null)[]): string[] {
  const last = workflow?.steps.at(-1)?.yield;
  return (workflow?.steps ?? []).flatMap((step, i) =>
    step.yield === last && steps[i]?.status !== "completed" ? [`${step.index} ${step.name}`] : [],
  );
}

/** What a retry started: a replay, and the steps it asks for again. */
function retriedSummary(workflow: Workflow, again: readonly string[]): string {
  if (workflow.status !== "running") return `${workflow.status} already`;
  const replay = "a worker replays it";
  return again.length === 0 ? replay : `${replay}, asking again for step ${again.join(", step ")}`;
}

/** A workflow as a field table, then its steps. */
function renderWorkflowDetail(
  workflow: Workflow,
  steps: readonly (TaskData | null)[],
  queue: string,
): string {
  const data = workflow.toJSON();
  const fields: [string, string][] = [
    ["id", data.id],
    ["name", data.name],
    ["queue", queue],
    ["status", data.status],
    ["args", detailJson(data.args)],
    ["recorded", recordedValues(data.effects)],
    ["result", data.finishedAt === null ? "-" : detailJson(data.result)],
    ["error", data.error ? `${data.error.type}: ${data.error.message}` : "-"],
    ["created", formatInstant(data.createdAt)],
    ["finished", formatInstant(data.finishedAt)],
    ["retried", data.retryCount === undefined ? "-" : `${data.retryCount} time(s)`],
  ];
  const head = renderTable(fields, [
    { heading: "FIELD", value: (row) => row[0] },
    { heading: "VALUE", value: (row) => row[1] },
  ]);
  if (data.steps.length === 0) return `${head}\n\nno steps`;
  const rows = data.steps.map((step, i) => ({ step, task: steps[i] ?? null }));
  const table = renderTable(rows, [
    { heading: "STEP", value: (row) => String(row.step.index) },
    { heading: "YIELD", value: (row) => String(row.step.yield) },
    { heading: "TASK", value: (row) => row.step.name },
    { heading: "TASK ID", value: (row) => row.step.taskId },
    { heading: "STATUS", value: (row) => row.task?.status ?? "-" },
    {
      heading: "RESULT / ERROR",
      value: (row) => stepOutcomeCell(row.task),
    },
  ]);
  return `${head}\n\n${table}`;
}

/**
 * The values the body's `sideEffect()` and `now()` recorded, in the order it
 * asked for them (the order replays hand them back in), each with its helper
 * when the record names it: `-` when there are none.
 */
export function recordedValues(effects: readonly unknown[]): string {
  if (effects.length === 0) return "-";
  return effects
    .map((effect, i) => {
      const { value, error, helper } = (effect ?? {}) as {
        value?: unknown;
        error?: { type?: string; message?: string };
        helper?: string;
      };
      const by = helper === undefined ? "" : `${helper}() `;
      if (error) return `${i}: ${by}threw ${error.type}: ${joinLines(error.message ?? "")}`;
      const shown =
        helper === "now" && typeof value === "number"
          ? formatInstant(new Date(value).toISOString())
          : formatJson(value as JsonValue, 40);
      return `${i}: ${by}${shown}`;
    })
    .join(", ");
}

/**
 * A step's RESULT / ERROR cell: its result once completed, its error once
 * failed or crashed, when it is due while it waits for a time (a sleep). A step of another status that holds an error (cancelled
 * or waiting for a retry after a failed attempt) shows it as an earlier
 * attempt's, so it does not read as why the step ended.
 */
export function stepOutcomeCell(task: TaskData | null): string {
  if (task?.error) {
    const own = task.status === "failed" || task.status === "crashed";
    return `${own ? "" : "earlier attempt: "}${task.error.type}: ${joinLines(task.error.message)}`.slice(
      0,
      60,
    );
  }
  if (task?.status === "scheduled" && task.scheduledAt !== null) {
    return `due ${formatInstant(task.scheduledAt)}`;
  }
  return task?.finishedAt ? formatJson(task.result, 60) : "-";
}
