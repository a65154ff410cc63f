/**
 * @module cli/commands/task-inspect
 * `task list` and `task info`: read task records, as a table or as JSON
 * (the stored record form, the same on every backend).
 */
import type { Command } from "commander";
import type { ClaimLease } from "../../backends/backend.js";
import { CliUsageError, TaskNotFoundError } from "../../errors.js";
import type { ListingFilters, TaskList } from "../../queue/list-tasks.js";
import { definesTask, holderAmong, type LiveWorker, runsTasks } from "../../queue/live-worker.js";
import type { TaskData } from "../../task/task-record.js";
import {
  heartbeatCell,
  heartbeatDetail,
  holderDetail,
  runningClaims,
  withClaim,
} from "../claim-heartbeat.js";
import { addSettings, nonEmptyId, type OutputFormat, WHOLE_NUMBER } from "../env.js";
import { ERROR_GROUP_COLUMNS, groupByError } from "../error-groups.js";
import {
  addConcurrencyKeyFilter,
  parseConcurrencyKeys,
  parseErrorText,
  parseSince,
  parseStatuses,
  parseTaskNames,
} from "../inputs.js";
import { queueGiven, warnIfQueueUnused, withQueue, withQueueOf } from "../open-queue.js";
import {
  type Column,
  print,
  printJson,
  printRows,
  renderTaskDetail,
  taskColumns,
  unknownNameSince,
} from "../output.js";
import { unmatchedMessage } from "../unmatched-filters.js";
import { warn } from "../warn.js";

/** Tasks `--group-by` counts unless `--limit` is given: enough for a burst, bounded for a queue of millions. */
const GROUPED_LIMIT = 10_000;

/** The statuses of a task that has ended: what `--since` and `--before` can select. */
const ENDED_STATUSES: readonly string[] = ["completed", "failed", "crashed", "cancelled"];
/** The statuses of a task that can hold an error: what `--error` alone can select. */
const ERRED_STATUSES: readonly string[] = ["failed", "crashed", "cancelled", "retrying"];

/** Tasks read per call of the listing. */
const LIST_PAGE = 500;

interface QueueSettings {
  readonly backendUrl?: string;
  readonly queue: string;
  readonly format: OutputFormat;
}

function addList(group: Command): void {
  const command = group
    .command("list")
    .description("list the queue's tasks, oldest first (the newest --limit of them)")
    .option("-s, --status <statuses>", "only these statuses, comma-separated (e.g. failed,crashed)")
    .option("-n, --name <names>", "only tasks of these names, comma-separated (e.g. emails.send)")
    .option(
      "--error <text>",
      "only tasks whose stored error's type or message contains this text (503, ECONNRESET…; case-sensitive): failed ones, and those waiting for a retry",
    )
    .option(
      "--since <time>",
      "only tasks that ended at or after this time (ISO-8601 with an offset) or within this long (1h, 2d…)",
    )
    .option(
      "--before <time>",
      "only tasks that ended before this time (ISO-8601 with an offset) or longer ago than this (10m, 1h…)",
    )
    .option(
      "--dedupe-key <key>",
      "only tasks added under this dedupe key (matched whole): which task holds it, what it ran before",
    );
  addConcurrencyKeyFilter(command, "only tasks")
    .option("--limit <n>", "show at most this many (0: all)", "100")
    .option(
      "--group-by <what>",
      `error: count the tasks by name and error (type and first line of the message), most first, instead of listing them — of the newest ${GROUPED_LIMIT.toLocaleString("en-US")} unless --limit says otherwise`,
    );
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<
      QueueSettings & {
        status?: string;
        name?: string;
        concurrencyKey?: string[];
        limit: string;
        error?: string;
        since?: string;
        before?: string;
        dedupeKey?: string;
        groupBy?: string;
      }
    >();
    if (settings.groupBy !== undefined && settings.groupBy !== "error") {
      throw new CliUsageError(`--group-by takes error (got '${settings.groupBy}')`);
    }
    const grouped = settings.groupBy === "error";
    if (grouped && cmd.getOptionValueSource("limit") === "default") {
      settings.limit = String(GROUPED_LIMIT);
    }
    const statuses = parseStatuses(settings.status);
    const names = parseTaskNames(settings.name);
    const keys = parseConcurrencyKeys(settings.concurrencyKey);
    const filters = listingFilters(settings, statuses);
    const filtered = Object.keys(filters).length > 0;
    const limit = Number(settings.limit);
    if (!WHOLE_NUMBER.test(settings.limit.trim()) || !Number.isSafeInteger(limit)) {
      throw new CliUsageError(`--limit must be an integer ≥ 0 (got '${settings.limit}')`);
    }
    // The backend's listing walks newest first and filters as it goes: reading only the newest
    // --limit keeps the cost to what is shown, however many tasks the queue holds.
    let heartbeat: Column<TaskData> | undefined;
    let claims: Map<string, ClaimLease> | undefined;
    let more = false;
    const newestFirst: TaskData[] = await withQueue(settings, async (queue) => {
      const found: TaskData[] = [];
      let cursor: string | null = null;
      do {
        const wanted = limit === 0 ? LIST_PAGE : Math.min(LIST_PAGE, limit - found.length);
        const page: TaskList = await queue.listTasks({
          status: statuses ? [...statuses] : undefined,
          name: names,
          concurrencyKey: keys,
          ...filters,
          limit: wanted,
          cursor,
        });
        for (const task of page.tasks) found.push(task.toJSON());
        cursor = page.cursor;
      } while (cursor !== null && (limit === 0 || found.length < limit));
      more = cursor !== null;
      if (found.length === 0) await warnIfQueueUnused(queue.backend, queue.name);
      // The whole queue was looked at: a name nothing has is more likely a typo than news.
      if (found.length === 0 && cursor === null && !statuses && !filtered) {
        const unmatched = unmatchedMessage(queue.name, names, keys);
        if (unmatched) warn(unmatched);
      }
      const known = await runningClaims(queue.backend, queue.name, found);
      claims = known;
      if (known) heartbeat = { heading: "HEARTBEAT", value: (t) => heartbeatCell(known.get(t.id)) };
      return found;
    });
    if (grouped) {
      printRows(
        settings.format,
        groupByError(newestFirst),
        ERROR_GROUP_COLUMNS,
        (g) => g,
        "no tasks",
      );
      if (more) warn(`counted the newest ${limit} matching tasks only; --limit 0 counts them all`);
      return;
    }
    const shown = newestFirst.reverse();
    // JSON rows are the stored records, a running one with its claim as the HTTP API gives it.
    const json = (row: TaskData) => withClaim(row, claims?.get(row.id));
    printRows(settings.format, shown, taskColumns(shown, heartbeat), json, "no tasks");
  });
}

/**
 * The `--error`, `--since`, `--before` and `--dedupe-key` filters as the
 * listing's options (none given: an empty object). `--error`, `--since` and
 * `--before` read what the record says of how it ended, as the bulk
 * commands' filters of the same names do, so a listing shows what a
 * redrive or purge with those flags would take.
 */
function listingFilters(
  settings: { error?: string; since?: string; before?: string; dedupeKey?: string },
  statuses: ReadonlySet<string> | undefined,
): ListingFilters {
  const error = parseErrorText(settings.error);
  const now = Date.now();
  const atOf = (flag: "--since" | "--before", raw: string | undefined) => {
    if (raw === undefined) return undefined;
    const at = parseSince(raw, flag);
    return at instanceof Date ? at : new Date(now - at * 1000);
  };
  const since = atOf("--since", settings.since);
  const before = atOf("--before", settings.before);
  // A minute of skew allowed, as the listing allows another host's clock.
  if (since !== undefined && since.getTime() > now + 60_000) {
    throw new CliUsageError(
      `--since ${since.toISOString()} is in the future: no task has finished since then`,
    );
  }
  if (since !== undefined && before !== undefined && since.getTime() >= before.getTime()) {
    throw new CliUsageError(
      "--since and --before leave no time between them (a span back from now: --since the longer one, --before the shorter)",
    );
  }
  if (settings.dedupeKey !== undefined && settings.dedupeKey === "") {
    throw new CliUsageError("--dedupe-key needs a key (got an empty one)");
  }
  // Statuses none of whose tasks can match are a mistake, not an empty listing.
  const ended = since !== undefined || before !== undefined;
  const possible = [...new Set([...ENDED_STATUSES, ...ERRED_STATUSES])].filter(
    (status) =>
      (!ended || ENDED_STATUSES.includes(status)) &&
      (error === undefined || ERRED_STATUSES.includes(status)),
  );
  if (
    (ended || error !== undefined) &&
    statuses &&
    ![...statuses].some((s) => possible.includes(s))
  ) {
    const flags = [ended ? "--since/--before" : "", error !== undefined ? "--error" : ""];
    throw new CliUsageError(
      `--status ${[...statuses].join(",")} matches nothing with ${flags.filter(Boolean).join(" and ")}: only tasks of ${possible.join(", ")} can match`,
    );
  }
  return {
    ...(error === undefined ? {} : { error }),
    ...(since === undefined ? {} : { since }),
    ...(before === undefined ? {} : { before }),
    ...(settings.dedupeKey === undefined ? {} : { dedupeKey: settings.dedupeKey }),
  };
}

function addInfo(group: Command): void {
  const command = group
    .command("info")
    .description("show one task: status, arguments, result or error with its stack, timestamps")
    .argument("<id>", "task id", nonEmptyId);
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (id: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<QueueSettings>();
    await withQueueOf(settings, id, queueGiven(cmd), async (queue) => {
      const task = await queue.getTask(id);
      if (!task) throw new TaskNotFoundError(id, queue.name);
      const claims = await runningClaims(queue.backend, queue.name, [task.toJSON()]);
      const lease = claims?.get(id);
      // Which worker holds it, as the workers announce what they hold (every heartbeat).
      const holder = lease === undefined ? undefined : holderAmong(await queue.workers(), id);
      if (settings.format === "json") printJson(withClaim(task.toJSON(), lease, holder));
      else {
        const data = task.toJSON();
        // A pending task of a key: which of the key's tasks hold its slots now (one past the limit says "more").
        const keyRunning =
          data.status === "pending" && data.concurrencyKey !== null
            ? (
                await queue.listTasks({
                  status: "processing",
                  concurrencyKey: data.concurrencyKey,
                  limit: (data.concurrencyLimit ?? 1) + 1,
                })
              ).tasks.map((t) => t.id)
            : undefined;
        const definers =
          unknownNameSince(data) === undefined
            ? undefined
            : definersText(await queue.workers(), data.name);
        print(
          renderTaskDetail(data, queue.name, {
            heartbeat: lease && heartbeatDetail(lease),
            worker: holder && holderDetail(holder),
            keyRunning,
            definers,
          }),
        );
      }
    });
  });
}

/** Adds `task list` and `task info` to the `task` group. */
export function addInspectCommands(group: Command): void {
  addList(group);
  addInfo(group);
}

/**
 * What the workers running a queue's tasks now say of task `name`, for a task
 * put back for its unknown name: which deploy lacks it is the question.
 */
function definersText(workers: readonly LiveWorker[] | null, name: string): string | undefined {
  if (workers === null) return undefined;
  const running = workers.filter(runsTasks);
  if (running.length === 0) return "no worker runs this queue's tasks now";
  const defining = running.filter((worker) => definesTask(worker, name) === true);
  const untold = running.filter((worker) => definesTask(worker, name) === undefined).length;
  const of = `of the ${running.length} worker${running.length === 1 ? "" : "s"} running this queue's tasks now`;
  const which = defining.map((worker) => holderDetail(worker)).join(", ");
  const told =
    defining.length === 0
      ? `${of}, none defines it`
      : `${of}, ${defining.length} define${defining.length === 1 ? "s" : ""} it: ${which}`;
  return untold === 0 ? told : `${told} (${untold} of an earlier version cannot tell)`;
}
