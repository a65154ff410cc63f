/**
 * @module cli/commands/task-inspect
 * `task list` and `task info`: read task records, as a table or as JSON
 * (the stored record form, the same on every backend).
 */
import type { Command } from "commander";
import type { ClaimLease } from "../../backends/backend.js";
import { CliUsageError, TaskNotFoundError } from "../../errors.js";
import type { TaskList } from "../../queue/list-tasks.js";
import { holderAmong } from "../../queue/live-worker.js";
import type { TaskData } from "../../task/task-record.js";
import {
  heartbeatCell,
  heartbeatDetail,
  holderDetail,
  runningClaims,
  withClaim,
} from "../claim-heartbeat.js";
import { addSettings, nonEmptyId, type OutputFormat, WHOLE_NUMBER } from "../env.js";
import {
  addConcurrencyKeyFilter,
  parseConcurrencyKeys,
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
} from "../output.js";
import { unmatchedMessage } from "../unmatched-filters.js";
import { warn } from "../warn.js";

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
    .option("-n, --name <names>", "only tasks of these names, comma-separated (e.g. emails.send)");
  addConcurrencyKeyFilter(command, "only tasks").option(
    "--limit <n>",
    "show at most this many (0: all)",
    "100",
  );
  addSettings(command, ["backendUrl", "queue", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<
      QueueSettings & { status?: string; name?: string; concurrencyKey?: string[]; limit: string }
    >();
    const statuses = parseStatuses(settings.status);
    const names = parseTaskNames(settings.name);
    const keys = parseConcurrencyKeys(settings.concurrencyKey);
    const limit = Number(settings.limit);
    if (!WHOLE_NUMBER.test(settings.limit.trim()) || !Number.isSafeInteger(limit)) {
      throw new CliUsageError(`--limit must be an integer ≥ 0 (got '${settings.limit}')`);
    }
    // The backend's listing walks newest first and filters as it goes: reading only the newest
    // --limit keeps the cost to what is shown, however many tasks the queue holds.
    let heartbeat: Column<TaskData> | undefined;
    let claims: Map<string, ClaimLease> | undefined;
    const newestFirst: TaskData[] = await withQueue(settings, async (queue) => {
      const found: TaskData[] = [];
      let cursor: string | null = null;
      do {
        const wanted = limit === 0 ? LIST_PAGE : Math.min(LIST_PAGE, limit - found.length);
        const page: TaskList = await queue.listTasks({
          status: statuses ? [...statuses] : undefined,
          name: names,
          concurrencyKey: keys,
          limit: wanted,
          cursor,
        });
        for (const task of page.tasks) found.push(task.toJSON());
        cursor = page.cursor;
      } while (cursor !== null && (limit === 0 || found.length < limit));
      if (found.length === 0) await warnIfQueueUnused(queue.backend, queue.name);
      // The whole queue was looked at: a name nothing has is more likely a typo than news.
      if (found.length === 0 && cursor === null && !statuses) {
        const unmatched = unmatchedMessage(queue.name, names, keys);
        if (unmatched) warn(unmatched);
      }
      const known = await runningClaims(queue.backend, queue.name, found);
      claims = known;
      if (known) heartbeat = { heading: "HEARTBEAT", value: (t) => heartbeatCell(known.get(t.id)) };
      return found;
    });
    const shown = newestFirst.reverse();
    // JSON rows are the stored records, a running one with its claim as the HTTP API gives it.
    const json = (row: TaskData) => withClaim(row, claims?.get(row.id));
    printRows(settings.format, shown, taskColumns(shown, heartbeat), json, "no tasks");
  });
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
        print(
          renderTaskDetail(task.toJSON(), queue.name, {
            heartbeat: lease && heartbeatDetail(lease),
            worker: holder && holderDetail(holder),
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
