/**
 * @module cli/commands/queue
 * `sheppy queue list`: every queue of the backend — those holding tasks, and
 * also those that only hold crons, are paused (a paused queue may hold
 * nothing, e.g. a mistyped name) or are served by a worker — with its counts by stage, crons and
 * how long its next task has waited since it was due, its cap on running
 * tasks, whether it is paused and how many workers run its tasks now;
 * `sheppy queue pause |
 * resume`: stop and restart every worker's claims of each queue named
 * (`-q a,b`); `sheppy queue cap`: set or lift that cap; `sheppy queue clear`:
 * delete everything a queue holds (asked to confirm with `--yes`).
 */
import type { Command } from "commander";
import type { Backend, QueueStats } from "../../backends/backend.js";
import { systemClock } from "../../clock.js";
import { CliUsageError } from "../../errors.js";
import { knownQueues } from "../../queue/known-queues.js";
import { Queue } from "../../queue/queue.js";
import { queueLatencyMs } from "../../queue/queue-latency.js";
import { runningWorkerCount } from "../../queue/readable-workers.js";
import { MAX_CONCURRENCY_LIMIT } from "../../task/concurrency.js";
import { addSettings, type OutputFormat } from "../env.js";
import { openBackend, warnIfQueueUnused } from "../open-queue.js";
import { type Column, formatWait, print, printJson, printRows } from "../output.js";

type QueueRow = {
  queue: string;
  /** How long the next task to be claimed has waited since it was due (`queue.latency()`). */
  latencyMs: number;
  cap: number | null;
  crons: number;
  paused: boolean;
  /** Workers running its tasks now (see `queue.workers()`); `null` when the backend cannot tell. */
  workers: number | null;
} & QueueStats;

const COLUMNS: readonly Column<QueueRow>[] = [
  { heading: "QUEUE", value: (row) => row.queue },
  { heading: "PENDING", value: (row) => String(row.pending) },
  // Of those pending, the ones waiting for a slot of their concurrency key: idle workers leave them be.
  { heading: "HELD", value: (row) => (row.held === undefined ? "-" : String(row.held)) },
  ...(["scheduled", "processing", "completed", "failed", "crashed", "cancelled"] as const).map(
    (stage): Column<QueueRow> => ({
      heading: stage.toUpperCase(),
      value: (row) => String(row[stage]),
    }),
  ),
  { heading: "WAITED", value: (row) => formatWait(row.latencyMs) },
  { heading: "CAP", value: (row) => (row.cap === null ? "-" : String(row.cap)) },
  { heading: "CRONS", value: (row) => String(row.crons) },
  { heading: "PAUSED", value: (row) => (row.paused ? "yes" : "no") },
  { heading: "WORKERS", value: (row) => (row.workers === null ? "?" : String(row.workers)) },
];

/** Adds `sheppy queue` and `queue list | pause | resume`. */
export function addQueueCommands(program: Command): void {
  const group = program
    .command("queue")
    .description("inspect, pause, resume, cap and clear queues");
  const command = group
    .command("list")
    // Where people look for counts first (BullMQ's getJobCounts, `sheppy queue stats`).
    .alias("stats")
    .description(
      "list the backend's queues (those holding tasks or crons, paused ones and those workers serve) with their task and cron counts, the pending ones held for a slot of their concurrency key (HELD), how long each one's next task has waited since it was due (WAITED) and how many workers run its tasks now (WORKERS; sheppy worker list shows them)",
    );
  addSettings(command, ["backendUrl", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<{ backendUrl?: string; format: OutputFormat }>();
    const backend = openBackend(settings);
    let rows: QueueRow[];
    try {
      await backend.connect();
      const names = [...(await knownQueues(backend)).keys()];
      rows = await Promise.all(
        names.map(async (queue) => ({
          queue,
          ...(await backend.getStats(queue)),
          // Read as the backend's rows are, not through a Queue made for each row.
          latencyMs: await queueLatencyMs(backend, queue, (backend.clock ?? systemClock).now()),
          cap: await backend.getConcurrencyLimit(queue),
          crons: (await backend.getCrons(queue)).length,
          paused: await backend.isPaused(queue),
          workers: await runningWorkerCount(new Queue(backend, { name: queue })),
        })),
      );
    } finally {
      await backend.disconnect().catch(() => undefined);
    }
    printRows(settings.format, rows, COLUMNS, (row) => row, "no queues");
  });
  for (const [name, paused] of [
    ["pause", true],
    ["resume", false],
  ] as const) {
    const control = group
      .command(name)
      .description(
        paused
          ? "stop every worker claiming the tasks of each queue named (running tasks finish; adds go on)"
          : "let workers claim the tasks of each queue named again",
      );
    addSettings(control, ["backendUrl", "queueNames", "format"]);
    control.action(async (_options: unknown, cmd: Command) => {
      const settings = cmd.optsWithGlobals<{
        backendUrl?: string;
        queue: string[];
        format: OutputFormat;
      }>();
      const names = [...new Set(settings.queue)];
      const backend = openBackend(settings);
      const done: { queue: string; paused: boolean }[] = [];
      try {
        await backend.connect();
        // One queue after the other, each reported as it is done, so a failure part-way shows which were.
        for (const name of names) {
          const queue = new Queue(backend, { name });
          await (paused ? queue.pause() : queue.resume());
          await warnIfQueueUnused(
            backend,
            name,
            `${paused ? "paused" : "resumed"} it all the same`,
          );
          done.push({ queue: name, paused });
          if (settings.format !== "json") print(`queue ${name} ${paused ? "paused" : "resumed"}`);
        }
      } finally {
        await backend.disconnect().catch(() => undefined);
      }
      // One queue: the object as before; several: one object per queue, in the order given.
      if (settings.format === "json") printJson(done.length === 1 ? done[0] : done);
    });
  }
  addCapCommand(group);
  addClearCommand(group);
}

interface NamedQueuesSettings {
  backendUrl?: string;
  queue: string[];
  format: OutputFormat;
}

/** `limit` as the cap it sets: a whole number from 1 to the largest cap, or `none` (no cap). */
function parseCap(limit: string): number | null {
  if (limit.trim().toLowerCase() === "none") return null;
  const n = Number(limit);
  if (/^\d+$/.test(limit.trim()) && n >= 1 && n <= MAX_CONCURRENCY_LIMIT) return n;
  throw new CliUsageError(
    `queue cap: expected a whole number of running tasks from 1 to ${MAX_CONCURRENCY_LIMIT}, or none to lift the cap (got ${JSON.stringify(limit)})`,
  );
}

/** `sheppy queue cap <limit|none> -q a,b`. */
function addCapCommand(group: Command): void {
  const command = group
    .command("cap")
    .argument("<limit>", "most tasks of each queue running at once across every worker, or none")
    .description(
      "cap how many tasks of each queue named run at once across every worker (none lifts it); running tasks are not stopped",
    );
  addSettings(command, ["backendUrl", "queueNames", "format"]);
  command.action(async (limit: string, _options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<NamedQueuesSettings>();
    const cap = parseCap(limit);
    const backend = openBackend(settings);
    const done: { queue: string; cap: number | null }[] = [];
    try {
      await backend.connect();
      for (const name of new Set(settings.queue)) {
        await new Queue(backend, { name }).setConcurrencyLimit(cap);
        await warnIfQueueUnused(backend, name, "set its cap all the same");
        done.push({ queue: name, cap });
        if (settings.format !== "json")
          print(cap === null ? `queue ${name}: no cap` : `queue ${name}: at most ${cap} running`);
      }
    } finally {
      await backend.disconnect().catch(() => undefined);
    }
    if (settings.format === "json") printJson(done.length === 1 ? done[0] : done);
  });
}

/** `sheppy queue clear -q a,b --yes`. */
function addClearCommand(group: Command): void {
  const command = group
    .command("clear")
    .description(
      "delete every task (whatever its status), cron and rate-limit state of each queue named; running tasks finish, and their outcomes are not stored",
    )
    .option("--yes", "confirm: nothing cleared can be brought back");
  addSettings(command, ["backendUrl", "queueNames", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<NamedQueuesSettings & { yes?: boolean }>();
    const names = [...new Set(settings.queue)];
    const backend = openBackend(settings);
    const done: { queue: string; removed: number }[] = [];
    try {
      await backend.connect();
      if (!settings.yes) {
        // Says what it would delete, so the confirmation is given knowing it.
        const holds = await Promise.all(names.map((name) => whatClearDeletes(backend, name)));
        throw new CliUsageError(
          `queue clear would delete ${holds.join("; ")}, and nothing cleared can be brought back: add --yes to confirm`,
        );
      }
      for (const name of names) {
        const removed = await new Queue(backend, { name }).clear();
        done.push({ queue: name, removed });
        if (settings.format !== "json")
          print(`queue ${name} cleared: ${removed} removed (tasks and crons)`);
      }
    } finally {
      await backend.disconnect().catch(() => undefined);
    }
    if (settings.format === "json") printJson(done.length === 1 ? done[0] : done);
  });
}

/** "12 tasks (3 pending, 9 completed) and 1 cron of queue emails": what `queue clear` would delete. */
async function whatClearDeletes(backend: Backend, queue: string): Promise<string> {
  const [stats, crons] = await Promise.all([backend.getStats(queue), backend.getCrons(queue)]);
  // `held` is a part of `pending`: counted once, as pending.
  const { held: _held, ...byStage } = stats;
  const counts = Object.entries(byStage).filter(
    (entry): entry is [string, number] => typeof entry[1] === "number" && entry[1] > 0,
  );
  const tasks = counts.reduce((sum, [, n]) => sum + n, 0);
  const byStatus = counts.map(([status, n]) => `${n} ${status}`).join(", ");
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(tasks, "task")}${tasks > 0 ? ` (${byStatus})` : ""} and ${plural(crons.length, "cron")} of queue ${queue}`;
}
