/**
 * @module cli/commands/worker
 * `sheppy worker list`: the workers serving the backend's queues now, one
 * row per worker — where it runs, its queues, how many tasks it holds
 * against its concurrency, what it does (tasks, scheduler, crons), when it
 * started and when it last announced itself. A queue whose tasks wait while
 * no worker serves it is named, since that is the first thing to rule out
 * when tasks do not run.
 */
import type { Command } from "commander";
import type { Backend } from "../../backends/backend.js";
import type { LiveWorker } from "../../queue/live-worker.js";
import { Queue } from "../../queue/queue.js";
import { addSettings, type OutputFormat } from "../env.js";
import { openBackend } from "../open-queue.js";
import { type Column, formatWait, print, printJson, renderTable } from "../output.js";
import { warn } from "../warn.js";

interface WorkerListSettings {
  backendUrl?: string;
  queue?: string[];
  format: OutputFormat;
}

/** One worker over the queues listed, as the table shows it. */
interface WorkerRow {
  readonly worker: LiveWorker;
  /** The listed queues it was seen on, with what it holds on each. */
  readonly seenOn: Map<string, number>;
  readonly seenAgoMs: number;
}

const COLUMNS: readonly Column<WorkerRow>[] = [
  { heading: "WORKER", value: (row) => row.worker.id.slice(0, 8) },
  { heading: "HOST", value: (row) => row.worker.host },
  { heading: "PID", value: (row) => String(row.worker.pid) },
  { heading: "QUEUES", value: (row) => row.worker.queues.join(",") },
  {
    heading: "HOLDING",
    value: (row) =>
      `${[...row.seenOn.values()].reduce((a, b) => a + b, 0)}/${row.worker.concurrency}`,
  },
  { heading: "DOES", value: (row) => roles(row.worker) },
  {
    heading: "STARTED",
    value: (row) => `${formatWait(Date.now() - Date.parse(row.worker.startedAt))} ago`,
  },
  { heading: "SEEN", value: (row) => `${formatWait(row.seenAgoMs)} ago` },
  { heading: "VERSION", value: (row) => row.worker.version || "-" },
];

/** What a worker does, in a word or three. */
function roles(worker: LiveWorker): string {
  const does = [
    worker.processing ? "tasks" : null,
    worker.scheduler ? "scheduler" : null,
    worker.cronManager ? "crons" : null,
  ].filter((role) => role !== null);
  return does.join(",") || "-";
}

/** Adds `sheppy worker` and `worker list`. */
export function addWorkerCommands(program: Command): void {
  const group = program.command("worker").description("see which workers serve the queues");
  const command = group
    .command("list")
    .description(
      "list the workers serving the backend's queues now (each announces itself every heartbeat and drops out a lease after it stops), with what they hold, and name the queues whose tasks wait with no worker to run them",
    );
  addSettings(command, ["backendUrl", "queueFilter", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<WorkerListSettings>();
    const backend = openBackend(settings);
    let perQueue: { queue: string; workers: LiveWorker[] | null; waiting: number }[];
    try {
      await backend.connect();
      const names = settings.queue ? [...new Set(settings.queue)] : await knownQueues(backend);
      perQueue = await Promise.all(
        names.map(async (name) => {
          const queue = new Queue(backend, { name });
          const [workers, stats] = await Promise.all([queue.workers(), backend.getStats(name)]);
          return { queue: name, workers, waiting: stats.pending + stats.processing };
        }),
      );
    } finally {
      await backend.disconnect().catch(() => undefined);
    }
    if (perQueue.some((entry) => entry.workers === null)) {
      warn("this backend does not keep track of workers: none can be listed");
    } else if (!backend.capabilities.crossProcess) {
      warn(
        "this backend keeps its tasks inside one process: no other process's workers are here (use sqlite:///path/to/file.db, redis:// or postgres://)",
      );
    }
    if (settings.format === "json") {
      printJson(
        perQueue.flatMap(({ queue, workers }) =>
          (workers ?? []).map((worker) => ({ queue, ...worker })),
        ),
      );
      return;
    }
    const rows = new Map<string, WorkerRow>();
    for (const { queue, workers } of perQueue) {
      for (const worker of workers ?? []) {
        const row = rows.get(worker.id);
        if (row) {
          row.seenOn.set(queue, worker.holding);
          rows.set(worker.id, { ...row, seenAgoMs: Math.min(row.seenAgoMs, worker.seenAgoMs) });
        } else {
          rows.set(worker.id, {
            worker,
            seenOn: new Map([[queue, worker.holding]]),
            seenAgoMs: worker.seenAgoMs,
          });
        }
      }
    }
    const listed = [...rows.values()];
    print(listed.length === 0 ? "no workers" : renderTable(listed, COLUMNS));
    // Tasks waiting where no worker that runs tasks serves: the likeliest reason they do not run.
    const unserved = perQueue.filter(
      ({ workers, waiting }) =>
        workers !== null && waiting > 0 && !workers.some((worker) => worker.processing),
    );
    for (const { queue, waiting } of unserved) {
      print(
        `queue ${queue}: ${waiting} task${waiting === 1 ? "" : "s"} pending or running, and no worker runs its tasks (start one: sheppy work -q ${queue} <modules>)`,
      );
    }
  });
}

/** The queues `queue list` shows: those holding tasks or crons, and paused ones. */
async function knownQueues(backend: Backend): Promise<string[]> {
  const [held, withCrons, paused] = await Promise.all([
    backend.listQueues(),
    backend.listCronQueues(),
    backend.listPaused(),
  ]);
  return [...new Set([...held.keys(), ...withCrons, ...paused])].sort();
}
