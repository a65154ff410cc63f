/**
 * @module cli/commands/task-manage
 * `task retry`, `task cancel` and `task delete`: change one task by id;
 * `task retry --all-failed` re-queues every failed task of a queue (redrive);
 * `--all failed,crashed` names the statuses; `task cancel --all` cancels a
 * backlog. The bulk forms narrow by task name and by concurrency key.
 */
import type { Command } from "commander";
import {
  CliUsageError,
  TaskCancellationError,
  TaskNotFoundError,
  TaskStateError,
} from "../../errors.js";
import { CANCELLABLE_STATUSES } from "../../queue/cancel-all.js";
import { PURGEABLE_STATUSES } from "../../queue/delete-all.js";
import { REDRIVE_STATUSES, type RedriveStatus } from "../../queue/retry-all.js";
import { maskUrl } from "../../util/mask-url.js";
import { addSettings, nonEmptyId, type OutputFormat } from "../env.js";
import {
  addConcurrencyKeyFilter,
  parseConcurrencyKeys,
  parseErrorText,
  parseSince,
  parseStatuses,
  parseTaskNames,
  parseTimeout,
} from "../inputs.js";
import { queueGiven, withQueue, withQueueOf } from "../open-queue.js";
import { print, printJson } from "../output.js";
import { warnIfNothingThere } from "../unmatched-filters.js";
import { reportOutcome, waitForOutcome } from "./task-outcome.js";

interface QueueSettings {
  readonly backendUrl?: string;
  readonly queue: string;
  readonly format: OutputFormat;
}

/** `--all <statuses>`: comma-separated, each one a task can end in without success. */
function parseRedriveStatuses(raw: string): RedriveStatus[] {
  const statuses = raw.split(",").map((s) => s.trim());
  const wrong = statuses.find((s) => !(REDRIVE_STATUSES as readonly string[]).includes(s));
  if (wrong !== undefined) {
    throw new CliUsageError(
      `--all: '${wrong}' is not a status a task ends in without success (one of: ${REDRIVE_STATUSES.join(", ")})`,
    );
  }
  return [...new Set(statuses)] as RedriveStatus[];
}

/** `text` as one shell word, for a command line printed to be pasted: 'it'\''s'. */
function shellQuoted(text: string): string {
  return /^[\w.:@/+-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * The `-u` a printed command needs to reach the same backend: none when the
 * URL came from `SHEPPY_BACKEND_URL` (the pasted command reads it too); the
 * URL when it holds no password; else a placeholder, so no password is
 * printed.
 */
function sameBackendFlag(url: string | undefined): string {
  if (url === undefined || url === process.env.SHEPPY_BACKEND_URL) return "";
  return maskUrl(url) === url ? ` -u ${shellQuoted(url)}` : " -u <the same backend URL>";
}

/** "key 'tenant:a'" or "keys 'a' or 'b'", for a summary line. */
function keysShown(keys: readonly string[]): string {
  return `concurrency key${keys.length === 1 ? "" : "s"} ${keys.map((key) => `'${key}'`).join(" or ")}`;
}

/** The `--dry-run` flag of the bulk forms: count, change nothing. */
const DRY_RUN_HELP = "count what it would do and change nothing (the tasks as they are now)";

/** A JSON summary's mark of a dry run; nothing for a real one, whose shape stays as it was. */
function dryRunField(dryRun: boolean | undefined): { dryRun?: true } {
  return dryRun ? { dryRun: true } : {};
}

/** The command-line spelling of a setting's name: `concurrencyKey` → `concurrency-key`. */
function flagName(setting: string): string {
  return setting.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** The end of a bulk form's summary line: what a dry run did not do. */
function dryRunNote(dryRun: boolean | undefined): string {
  return dryRun ? " — dry run: nothing changed" : "";
}

/** Why a redrive skipped `skipped` tasks, `endedSteps` of them steps of ended workflows, in a few words. */
function skippedWhy(skipped: number, endedSteps: number): string {
  const changed = skipped - endedSteps;
  const parts = [
    ...(changed > 0 ? [`${changed} changed meanwhile`] : []),
    ...(endedSteps > 0
      ? [
          endedSteps === 1
            ? "1 step no workflow waits for (its workflow ended, or went on from it); sheppy workflow retry runs a failed workflow's failed steps again"
            : `${endedSteps} steps no workflow waits for (their workflows ended, or went on from them); sheppy workflow retry runs a failed workflow's failed steps again`,
        ]
      : []),
  ];
  return `${skipped} skipped: ${parts.join("; ")}`;
}

/** What `task retry --all-failed` / `--all` reads from its flags besides the statuses. */
type RedriveFlags = {
  since?: string;
  before?: string;
  name?: string;
  error?: string;
  concurrencyKey?: string[];
  dryRun?: boolean;
};

/** `task retry --all-failed` / `--all <statuses>`: re-queues every task of those statuses, prints how many. */
async function retryAllOf(
  settings: QueueSettings & RedriveFlags,
  statuses: readonly RedriveStatus[],
): Promise<void> {
  const since = settings.since === undefined ? undefined : parseSince(settings.since);
  const before =
    settings.before === undefined ? undefined : parseSince(settings.before, "--before");
  const error = parseErrorText(settings.error);
  const name = parseTaskNames(settings.name);
  const concurrencyKey = parseConcurrencyKeys(settings.concurrencyKey);
  const outcome = await withQueue(settings, async (queue) => {
    const outcome = await queue.retryAll({
      status: statuses,
      since,
      before,
      name,
      concurrencyKey,
      error,
      dryRun: settings.dryRun ?? false,
    });
    if (outcome.retried === 0) await warnIfNothingThere(queue, name, concurrencyKey);
    return outcome;
  });
  const { retried, skipped, endedWorkflowSteps } = outcome;
  if (settings.format === "json")
    printJson({ retried, skipped, endedWorkflowSteps, ...dryRunField(settings.dryRun) });
  else {
    const changed = skipped === 0 ? "" : ` (${skippedWhy(skipped, endedWorkflowSteps)})`;
    const which = statuses.join(" or ") + (name ? ` ${name.join(" or ")}` : "");
    const cause = error === undefined ? "" : ` with an error mentioning '${error}'`;
    const keyed = concurrencyKey ? ` of ${keysShown(concurrencyKey)}` : "";
    print(
      `${retried} ${which} task${retried === 1 ? "" : "s"}${keyed}${cause} ${settings.dryRun ? "would be queued" : "queued"} to run again${changed}${dryRunNote(settings.dryRun)}`,
    );
  }
}

function addRetry(group: Command): void {
  const command = group
    .command("retry")
    .description(
      "run a finished task again (same id); a completed one needs --force; --all-failed: every failed task of the queue (--all: of the statuses named)",
    )
    .argument("[id]", "task id (not with --all-failed or --all)")
    .option("--force", "also re-run a task that completed successfully")
    .option("--wait", "wait until the new attempt finishes; print its result (exit 1 if it failed)")
    .option("--timeout <duration>", "with --wait: give up after this long (30s, 5m…)")
    .option("--all-failed", "re-queue every failed task of the queue, newest first, in batches")
    .option(
      "--all <statuses>",
      "re-queue every task of these statuses, comma-separated (failed, crashed, cancelled; e.g. failed,crashed), as --all-failed does",
    )
    .option(
      "--since <time>",
      "with --all-failed or --all: only tasks that ended at or after this time (ISO-8601 with an offset) or within this long (1h, 2d…)",
    )
    .option(
      "--before <time>",
      "with --all-failed or --all: only tasks that ended before this time (ISO-8601 with an offset) or longer ago than this (10m, 1h…)",
    )
    .option(
      "-n, --name <names>",
      "with --all-failed or --all: only tasks of these names, comma-separated (a fix deployed for one task redrives that task alone)",
    )
    .option(
      "--error <text>",
      "with --all-failed or --all: only tasks whose stored error's type or message contains this text (503, ECONNRESET…; case-sensitive): the failures of one cause",
    )
    .option("--dry-run", `with --all-failed or --all: ${DRY_RUN_HELP}`);
  addConcurrencyKeyFilter(command, "with --all-failed or --all: only tasks");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string | undefined, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<
      QueueSettings &
        RedriveFlags & {
          force?: boolean;
          wait?: boolean;
          timeout?: string;
          allFailed?: boolean;
          all?: string;
        }
    >();
    if (settings.allFailed && settings.all !== undefined)
      throw new CliUsageError(
        "pass --all-failed or --all, not both (--all failed is --all-failed)",
      );
    if (settings.allFailed || settings.all !== undefined) {
      const flag = settings.allFailed ? "--all-failed" : "--all";
      if (id !== undefined) throw new CliUsageError(`pass a task id or ${flag}, not both`);
      const other = (["force", "wait", "timeout"] as const).find((o) => settings[o] !== undefined);
      if (other) throw new CliUsageError(`--${other} does not go with ${flag}`);
      const statuses =
        settings.all === undefined ? (["failed"] as const) : parseRedriveStatuses(settings.all);
      return retryAllOf(settings, statuses);
    }
    if (id === undefined)
      throw new CliUsageError("pass a task id, or --all-failed (or --all <statuses>)");
    for (const flag of ["since", "before", "error", "dryRun"] as const) {
      if (settings[flag] !== undefined)
        throw new CliUsageError(`--${flagName(flag)} needs --all-failed or --all`);
    }
    if (settings.name !== undefined)
      throw new CliUsageError("--name needs --all-failed or --all (one task is named by its id)");
    if (settings.concurrencyKey !== undefined)
      throw new CliUsageError(
        "--concurrency-key needs --all-failed or --all (one task is named by its id)",
      );
    const timeout = parseTimeout(settings.timeout);
    if (timeout !== undefined && !settings.wait) throw new CliUsageError("--timeout needs --wait");
    await withQueueOf(settings, id, queueGiven(cmd), async (queue) => {
      // Checked here too so the message names the flag, not the library's `{ force: true }`. The
      // task's state refuses it, not the command line: exit code 1, as `task cancel` of a finished task.
      const current = await queue.getTask(id);
      if (current?.status === "completed" && !settings.force) {
        throw new TaskStateError(
          `task ${id} completed successfully; pass --force to run it again`,
          {
            reason: "completed",
            id,
            status: current.status,
          },
        );
      }
      if (!current || !(await queue.retry(id, { force: settings.force ?? false }))) {
        throw new TaskNotFoundError(id, queue.name);
      }
      if (settings.wait)
        return reportOutcome(
          await waitForOutcome(queue, id, timeout, settings.format),
          settings.format,
        );
      const task = await queue.getTask(id);
      if (settings.format === "json") printJson(task?.toJSON() ?? null);
      else print(`task ${id} queued to run again`);
    });
  });
}

/** `task cancel --all`: cancels every unfinished task of those statuses, names and keys; prints how many. */
async function cancelAllOf(
  settings: QueueSettings & {
    status?: string;
    name?: string;
    concurrencyKey?: string[];
    force?: boolean;
    dryRun?: boolean;
  },
): Promise<void> {
  const statuses = parseStatuses(settings.status, CANCELLABLE_STATUSES, "cancellable task");
  if (statuses?.has("processing") && !settings.force) {
    throw new CliUsageError(
      "--status processing needs --force (a running task's signal fires, and its outcome is discarded)",
    );
  }
  const name = parseTaskNames(settings.name);
  const concurrencyKey = parseConcurrencyKeys(settings.concurrencyKey);
  const startedAt = new Date();
  const { cancelled, skipped } = await withQueue(settings, async (queue) => {
    const outcome = await queue.cancelAll({
      status: statuses ? [...statuses] : undefined,
      name,
      concurrencyKey,
      force: settings.force ?? false,
      dryRun: settings.dryRun ?? false,
    });
    if (outcome.cancelled === 0 && outcome.skipped === 0) {
      await warnIfNothingThere(queue, name, concurrencyKey);
    }
    return outcome;
  });
  if (settings.format === "json")
    return printJson({ cancelled, skipped, ...dryRunField(settings.dryRun) });
  const which =
    (name ? ` ${name.join(" or ")}` : "") +
    " task" +
    (cancelled === 1 ? "" : "s") +
    (concurrencyKey ? ` of ${keysShown(concurrencyKey)}` : "");
  // Running tasks are not among those asked for without --force: say so, or "0 cancelled" reads as "none matched".
  const passed =
    skipped === 0
      ? cancelled > 0 || settings.force || statuses
        ? ""
        : " (running ones are left running: --force cancels them too)"
      : ` (${skipped} skipped: they started or finished meanwhile${settings.force ? "" : "; --force cancels running ones too"})`;
  print(
    `${cancelled}${which} ${settings.dryRun ? "would be cancelled" : "cancelled"}${passed}${dryRunNote(settings.dryRun)}`,
  );
  if (cancelled > 0 && !settings.dryRun) {
    // The way back, spelt out: cancelled records are kept, and a redrive runs them again.
    print(
      `to undo it (each back to when it was due): sheppy task retry --all cancelled --since ${startedAt.toISOString()}${name ? ` --name ${name.join(",")}` : ""}${(concurrencyKey ?? []).map((key) => ` --concurrency-key ${shellQuoted(key)}`).join("")} -q ${settings.queue}${sameBackendFlag(settings.backendUrl)}`,
    );
  }
}

function addCancel(group: Command): void {
  const command = group
    .command("cancel")
    .description(
      "cancel a task that has not started; --force: a running one too; --all: every task of the queue that has not started (of some statuses, names or concurrency keys)",
    )
    .argument("[id]", "task id (not with --all)", nonEmptyId)
    .option(
      "--force",
      "also cancel a running task: its signal fires at its worker's next lease renewal, its concurrency slot is free at once (its function may still run), and its outcome is discarded",
    )
    .option(
      "--all",
      "cancel every task of the queue that has not started (pending, scheduled, retrying; with --force, running ones too), newest first, in batches",
    )
    .option(
      "-s, --status <statuses>",
      "with --all: only these statuses, comma-separated (pending, scheduled, retrying, processing — the last needs --force)",
    )
    .option("-n, --name <names>", "with --all: only tasks of these names, comma-separated")
    .option("--dry-run", `with --all: ${DRY_RUN_HELP}`);
  addConcurrencyKeyFilter(command, "with --all: only tasks");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string | undefined, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<
      QueueSettings & {
        force?: boolean;
        all?: boolean;
        status?: string;
        name?: string;
        concurrencyKey?: string[];
        dryRun?: boolean;
      }
    >();
    if (settings.all) {
      if (id !== undefined) throw new CliUsageError("pass a task id or --all, not both");
      return cancelAllOf(settings);
    }
    if (id === undefined) throw new CliUsageError("pass a task id, or --all");
    const filter = (["status", "name", "concurrencyKey", "dryRun"] as const).find(
      (option) => settings[option] !== undefined,
    );
    if (filter) {
      throw new CliUsageError(`--${flagName(filter)} needs --all (one task is named by its id)`);
    }
    const force = settings.force ?? false;
    let wasRunning = false;
    const cancelled = await withQueueOf(settings, id, queueGiven(cmd), async (queue) => {
      try {
        // Read first only to say what a forced cancel leaves running; the cancel decides alone.
        if (force) wasRunning = (await queue.getTask(id))?.status === "processing";
        return await queue.cancel(id, { force });
      } catch (error) {
        // The same refusal, naming the flag rather than the library's `{ force: true }`.
        if (error instanceof TaskCancellationError && error.reason === "running") {
          throw new TaskCancellationError(
            `task ${id} is running; pass --force to cancel it (its signal fires at its worker's next lease renewal, and its outcome is discarded)`,
            { reason: "running", id, status: error.status },
          );
        }
        // Not there: said as `task info`, `retry` and `delete` say it (with where else to look).
        if (error instanceof TaskCancellationError && error.reason === "not-found") {
          throw new TaskNotFoundError(id, queue.name);
        }
        throw error;
      }
    });
    if (settings.format === "json") printJson(cancelled.toJSON());
    else if (!wasRunning) print(`task ${id} cancelled`);
    else {
      // Its slot is free now while its function may run on: a limit-1 key's next task can start beside it.
      print(
        `task ${id} cancelled while it ran: its concurrency slot is free now, and its function is told to stop at its worker's next lease renewal (one that ignores its signal runs on to its end; its outcome is discarded)`,
      );
    }
  });
}

/** What `task delete` reads from its flags. */
type DeleteSettings = QueueSettings & {
  all?: boolean;
  status?: string;
  name?: string;
  concurrencyKey?: string[];
  since?: string;
  before?: string;
  error?: string;
  yes?: boolean;
  dryRun?: boolean;
};

/** `task delete --all`: deletes the finished records of those statuses, names and keys; prints how many. */
async function deleteAllOf(settings: DeleteSettings): Promise<void> {
  const statuses = parseStatuses(settings.status, PURGEABLE_STATUSES, "finished task");
  const name = parseTaskNames(settings.name);
  const concurrencyKey = parseConcurrencyKeys(settings.concurrencyKey);
  const since = settings.since === undefined ? undefined : parseSince(settings.since);
  const before =
    settings.before === undefined ? undefined : parseSince(settings.before, "--before");
  const error = parseErrorText(settings.error);
  const filtered = [statuses, name, concurrencyKey, since, before, error].some(
    (filter) => filter !== undefined,
  );
  // Every finished record, failures still to be retried among them: asked for in so many words.
  if (!filtered && !settings.yes && !settings.dryRun) {
    throw new CliUsageError(
      "task delete --all with no filter deletes every finished task's record, failures still waiting to be retried among them: pass --yes, or narrow it (--status, --name, --before…)",
    );
  }
  const { deleted, skipped } = await withQueue(settings, async (queue) => {
    const outcome = await queue.deleteAll({
      status: statuses ? [...statuses] : undefined,
      name,
      concurrencyKey,
      since,
      before,
      error,
      dryRun: settings.dryRun ?? false,
    });
    if (outcome.deleted === 0 && outcome.skipped === 0) {
      await warnIfNothingThere(queue, name, concurrencyKey);
    }
    return outcome;
  });
  if (settings.format === "json")
    return printJson({ deleted, skipped, ...dryRunField(settings.dryRun) });
  const which =
    (statuses ? ` ${[...statuses].join(" or ")}` : " finished") +
    (name ? ` ${name.join(" or ")}` : "") +
    ` task record${deleted === 1 ? "" : "s"}` +
    (concurrencyKey ? ` of ${keysShown(concurrencyKey)}` : "");
  const passed =
    skipped === 0 ? "" : ` (${skipped} skipped: retried or claimed meanwhile, or unreadable)`;
  print(
    `${deleted}${which} ${settings.dryRun ? "would be deleted" : "deleted"}${passed}${dryRunNote(settings.dryRun)}`,
  );
}

function addDelete(group: Command): void {
  const command = group
    .command("delete")
    .description(
      "delete a finished task's record (cancel an unfinished one first); --all: every finished task's record of the queue (of some statuses, names, concurrency keys, finished before a time)",
    )
    .argument("[id]", "task id (not with --all)", nonEmptyId)
    .option(
      "--all",
      "delete the record of every finished task of the queue (completed, failed, crashed, cancelled), in batches; unfinished tasks are left",
    )
    .option(
      "-s, --status <statuses>",
      "with --all: only these statuses, comma-separated (completed, failed, crashed, cancelled)",
    )
    .option("-n, --name <names>", "with --all: only tasks of these names, comma-separated")
    .option(
      "--before <when>",
      "with --all: only tasks that finished before this: an ISO-8601 instant with an offset, or a duration back from now (7d: over a week ago)",
    )
    .option(
      "--since <when>",
      "with --all: only tasks that finished at or after this: an ISO-8601 instant with an offset, or a duration back from now",
    )
    .option(
      "--error <text>",
      "with --all: only tasks whose stored error's type or message contains this text (case-sensitive)",
    )
    .option("--yes", "with --all and no filter: delete every finished task's record")
    .option("--dry-run", `with --all: ${DRY_RUN_HELP}`);
  addConcurrencyKeyFilter(command, "with --all: only tasks");
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string | undefined, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<DeleteSettings>();
    if (settings.all) {
      if (id !== undefined) throw new CliUsageError("pass a task id or --all, not both");
      return deleteAllOf(settings);
    }
    if (id === undefined) throw new CliUsageError("pass a task id, or --all");
    const filter = (
      ["status", "name", "concurrencyKey", "since", "before", "error", "yes", "dryRun"] as const
    ).find((option) => settings[option] !== undefined);
    if (filter) {
      throw new CliUsageError(`--${flagName(filter)} needs --all (one task is named by its id)`);
    }
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
