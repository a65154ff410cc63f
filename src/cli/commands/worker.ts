/**
 * @module cli/commands/worker
 * `sheppy worker list`: the workers serving the backend's queues now, one
 * row per worker — where it runs, its queues, whether it runs, is paused or
 * stops, how many tasks it holds against its concurrency, what it does
 * (tasks, scheduler, crons), when it started and when it last announced
 * itself. A queue whose tasks wait while no worker runs them is named, in
 * the table and in the JSON, since that is the first thing to rule out when
 * tasks do not run; so is a paused queue that holds pending tasks, whose
 * workers look as busy as ever while none of its tasks start.
 */
import type { Command } from "commander";
import { knownQueues } from "../../queue/known-queues.js";
import { byStart, type LiveWorker, runsTasks } from "../../queue/live-worker.js";
import { Queue } from "../../queue/queue.js";
import { addSettings, type OutputFormat } from "../env.js";
import { openBackend, warnIfQueueUnused } from "../open-queue.js";
import { type Column, formatWait, print, printJson, renderTable } from "../output.js";
import { warn } from "../warn.js";

interface WorkerListSettings {
  backendUrl?: string;
  queue?: string[];
  format: OutputFormat;
}

/** A queue whose tasks wait (pending or running) while no worker runs its tasks now. */
interface Unserved {
  readonly queue: string;
  readonly waiting: number;
  /** Why the workers it has do not run them: `2 paused, 1 stopping`; empty when it has none. */
  readonly workersIdle: string;
}

/** Why the workers of a queue that runs none of its tasks do not: each state or role counted. */
function whyIdle(workers: readonly LiveWorker[]): string {
  const counts = new Map<string, number>();
  for (const worker of workers) {
    const why = !worker.processing ? "not running tasks (scheduler or crons only)" : worker.state;
    counts.set(why, (counts.get(why) ?? 0) + 1);
  }
  return [...counts].map(([why, n]) => `${n} ${why}`).join(", ");
}

/** Characters of the QUEUES cell before the rest is counted instead of listed. */
const QUEUES_SHOWN = 40;

/**
 * A worker's state, and which of its queues are paused: a worker runs on
 * while a queue it serves is paused, and claims nothing from that queue.
 */
function stateCell(worker: LiveWorker, paused: ReadonlySet<string>): string {
  const held = worker.queues.filter((queue) => paused.has(queue));
  if (held.length === 0 || worker.state !== "running") return worker.state;
  if (held.length === worker.queues.length) {
    return worker.queues.length === 1 ? "running (queue paused)" : "running (queues paused)";
  }
  return `running (${held.length} of ${worker.queues.length} queues paused)`;
}

/** The table's columns; `paused`: the queues paused now. */
const columns = (paused: ReadonlySet<string>): readonly Column<LiveWorker>[] => [
  { heading: "WORKER", value: (worker) => worker.id.slice(0, 8) },
  { heading: "HOST", value: (worker) => worker.host },
  { heading: "PID", value: (worker) => String(worker.pid) },
  { heading: "STATE", value: (worker) => stateCell(worker, paused) },
  { heading: "QUEUES", value: (worker) => queuesCell(worker.queues) },
  // Over all its queues: its concurrency bounds them together.
  {
    heading: "HOLDING",
    value: (worker) => (worker.processing ? `${worker.holdingAll}/${worker.concurrency}` : "-"),
  },
  { heading: "DOES", value: roles },
  {
    heading: "STARTED",
    value: (worker) => `${formatWait(Date.now() - Date.parse(worker.startedAt))} ago`,
  },
  { heading: "SEEN", value: seenCell },
  { heading: "VERSION", value: (worker) => worker.version || "-" },
];

/** The queues, cut to a readable width: `a,b,c,… (+38)`. */
function queuesCell(queues: readonly string[]): string {
  let shown = "";
  for (const [i, queue] of queues.entries()) {
    const next = shown === "" ? queue : `${shown},${queue}`;
    if (next.length > QUEUES_SHOWN && shown !== "") return `${shown},… (+${queues.length - i})`;
    shown = next;
  }
  return shown;
}

/** When it last announced itself; `late` past two of its intervals (it may be gone: it drops out at the lease). */
function seenCell(worker: LiveWorker): string {
  const ago = `${formatWait(worker.seenAgoMs)} ago`;
  const { everyMs, seenAgoMs } = worker;
  return everyMs > 0 && seenAgoMs > 2 * everyMs + 1000 ? `${ago} (late)` : ago;
}

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
      "list the workers serving the backend's queues now (each announces itself every heartbeat and drops out a lease after it stops), with what they hold, and name the queues whose tasks wait with no worker running them and the paused ones holding pending tasks (--format json: { workers, unserved, paused })",
    );
  addSettings(command, ["backendUrl", "queueFilter", "format"]);
  // `sheppy worker -t ./tasks.ts` is `sheppy work` one letter off: the group's own errors say so.
  // Set after `list` is made, so that its errors (which copy the settings at creation) do not.
  group.configureOutput({
    outputError: (text, write) =>
      write(
        `${text.replace(/\n$/, "")} (sheppy work runs a worker; sheppy worker list lists the running ones)\n`,
      ),
  });
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<WorkerListSettings>();
    const backend = openBackend(settings);
    let perQueue: {
      queue: string;
      workers: LiveWorker[] | null;
      waiting: number;
      pending: number;
      paused: boolean;
    }[];
    // Every queue paused now that a listed worker serves, those not asked for with -q included.
    const pausedNow = new Set<string>();
    try {
      await backend.connect();
      const named = settings.queue ? [...new Set(settings.queue)] : undefined;
      const names = named ?? [...(await knownQueues(backend)).keys()];
      perQueue = await Promise.all(
        names.map(async (name) => {
          const queue = new Queue(backend, { name });
          const [workers, stats, paused] = await Promise.all([
            queue.workers(),
            backend.getStats(name),
            backend.isPaused(name),
          ]);
          return {
            queue: name,
            workers,
            waiting: stats.pending + stats.processing,
            pending: stats.pending,
            paused,
          };
        }),
      );
      const looked = new Set(names);
      const alsoServed = new Set(
        perQueue.flatMap((entry) => (entry.workers ?? []).flatMap((worker) => worker.queues)),
      );
      for (const entry of perQueue) if (entry.paused) pausedNow.add(entry.queue);
      await Promise.all(
        [...alsoServed]
          .filter((queue) => !looked.has(queue))
          .map(async (queue) => {
            if (await backend.isPaused(queue)) pausedNow.add(queue);
          }),
      );
      // A name given that nothing uses and no worker serves is most likely mistyped.
      for (const { queue, workers } of perQueue) {
        if (named && (workers ?? []).length === 0) await warnIfQueueUnused(backend, queue);
      }
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
    // Tasks waiting where no worker runs tasks now: the likeliest reason they do not run.
    const unserved: Unserved[] = perQueue
      .filter(
        ({ workers, waiting, paused }) =>
          !paused && workers !== null && waiting > 0 && !workers.some(runsTasks),
      )
      .map(({ queue, waiting, workers }) => ({
        queue,
        waiting,
        workersIdle: whyIdle(workers ?? []),
      }));
    // Paused with tasks to start: its workers claim nothing from it until it is resumed.
    const paused = perQueue
      .filter((entry) => entry.paused && entry.pending > 0)
      .map(({ queue, pending }) => ({ queue, pending }));
    if (settings.format === "json") {
      printJson({
        workers: perQueue.flatMap(({ queue, workers }) =>
          (workers ?? []).map((worker) => ({ queue, ...worker })),
        ),
        unserved,
        paused,
      });
      return;
    }
    // One row per worker: the freshest of its announcements says best what it does now.
    const rows = new Map<string, LiveWorker>();
    for (const { workers } of perQueue) {
      for (const worker of workers ?? []) {
        const row = rows.get(worker.id);
        if (!row || worker.seenAgoMs < row.seenAgoMs) rows.set(worker.id, worker);
      }
    }
    const listed = [...rows.values()].sort(byStart);
    print(listed.length === 0 ? "no workers" : renderTable(listed, columns(pausedNow)));
    for (const { queue, waiting, workersIdle } of unserved) {
      const workers = workersIdle === "" ? "" : `; its workers: ${workersIdle}`;
      print(
        `queue ${queue}: ${waiting} task${waiting === 1 ? "" : "s"} pending or running, and no worker runs its tasks (start one: sheppy work -q ${queue} <modules>${workers})`,
      );
    }
    for (const { queue, pending } of paused) {
      print(
        `queue ${queue} is paused, holding ${pending} pending task${pending === 1 ? "" : "s"}: none starts until it is resumed (sheppy queue resume -q ${queue})`,
      );
    }
  });
}
