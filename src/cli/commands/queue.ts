/**
 * @module cli/commands/queue
 * `sheppy queue list`: every queue of the backend — those holding tasks, and
 * also those that only hold crons or are paused (a paused queue may hold
 * nothing, e.g. a mistyped name) — with its counts by stage, crons and
 * whether it is paused; `sheppy queue pause | resume`: stop and restart
 * every worker's claims of one queue.
 */
import type { Command } from "commander";
import type { Backend, QueueStats } from "../../backends/backend.js";
import { addSettings, type OutputFormat } from "../env.js";
import { openBackend, withQueue } from "../open-queue.js";
import { type Column, print, printJson, printRows } from "../output.js";

type QueueRow = { queue: string; crons: number; paused: boolean } & QueueStats;

const COLUMNS: readonly Column<QueueRow>[] = [
  { heading: "QUEUE", value: (row) => row.queue },
  ...(
    ["pending", "scheduled", "processing", "completed", "failed", "crashed", "cancelled"] as const
  ).map(
    (stage): Column<QueueRow> => ({
      heading: stage.toUpperCase(),
      value: (row) => String(row[stage]),
    }),
  ),
  { heading: "CRONS", value: (row) => String(row.crons) },
  { heading: "PAUSED", value: (row) => (row.paused ? "yes" : "no") },
];

/** Whether `queue` holds no task record and no cron: a name nothing has used (or a typo). */
async function holdsNothing(backend: Backend, queue: string): Promise<boolean> {
  const stats = await backend.getStats(queue);
  if (Object.values(stats).some((count) => count > 0)) return false;
  return (await backend.getCrons(queue)).length === 0;
}

/** Adds `sheppy queue` and `queue list | pause | resume`. */
export function addQueueCommands(program: Command): void {
  const group = program.command("queue").description("inspect, pause and resume queues");
  const command = group
    .command("list")
    .description(
      "list the backend's queues (those holding tasks or crons, and paused ones) with their task and cron counts",
    );
  addSettings(command, ["backendUrl", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<{ backendUrl?: string; format: OutputFormat }>();
    const backend = openBackend(settings);
    let rows: QueueRow[];
    try {
      await backend.connect();
      const [held, withCrons, paused] = await Promise.all([
        backend.listQueues(),
        backend.listCronQueues(),
        backend.listPaused(),
      ]);
      const names = [...new Set([...held.keys(), ...withCrons, ...paused])].sort();
      rows = await Promise.all(
        names.map(async (queue) => ({
          queue,
          ...(await backend.getStats(queue)),
          crons: withCrons.includes(queue) ? (await backend.getCrons(queue)).length : 0,
          paused: paused.includes(queue),
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
          ? "stop every worker claiming the queue's tasks (running tasks finish; adds go on)"
          : "let workers claim the queue's tasks again",
      );
    addSettings(control, ["backendUrl", "queue", "format"]);
    control.action(async (_options: unknown, cmd: Command) => {
      const settings = cmd.optsWithGlobals<{
        backendUrl?: string;
        queue: string;
        format: OutputFormat;
      }>();
      const empty = await withQueue(settings, async (queue) => {
        await (paused ? queue.pause() : queue.resume());
        return holdsNothing(queue.backend, queue.name);
      });
      if (empty) {
        console.error(
          `warning: queue ${settings.queue} holds no tasks or crons: is the name right? (${paused ? "paused" : "resumed"} it all the same)`,
        );
      }
      if (settings.format === "json") printJson({ queue: settings.queue, paused });
      else print(`queue ${settings.queue} ${paused ? "paused" : "resumed"}`);
    });
  }
}
