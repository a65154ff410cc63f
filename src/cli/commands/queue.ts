/**
 * @module cli/commands/queue
 * `sheppy queue list`: every queue of the backend with its counts by stage
 * and whether it is paused; `sheppy queue pause | resume`: stop and restart
 * every worker's claims of one queue.
 */
import type { Command } from "commander";
import type { QueueStats } from "../../backends/backend.js";
import { addSettings, type OutputFormat } from "../env.js";
import { openBackend, withQueue } from "../open-queue.js";
import { type Column, print, printJson, printRows } from "../output.js";

type QueueRow = { queue: string; paused: boolean } & QueueStats;

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
  { heading: "PAUSED", value: (row) => (row.paused ? "yes" : "no") },
];

/** Adds `sheppy queue` and `queue list | pause | resume`. */
export function addQueueCommands(program: Command): void {
  const group = program.command("queue").description("inspect, pause and resume queues");
  const command = group
    .command("list")
    .description("list the backend's queues with their task counts");
  addSettings(command, ["backendUrl", "format"]);
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<{ backendUrl?: string; format: OutputFormat }>();
    const backend = openBackend(settings);
    let rows: QueueRow[];
    try {
      await backend.connect();
      const names = [...(await backend.listQueues()).keys()].sort();
      rows = await Promise.all(
        names.map(async (queue) => ({
          queue,
          ...(await backend.getStats(queue)),
          paused: await backend.isPaused(queue),
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
      await withQueue(settings, (queue) => (paused ? queue.pause() : queue.resume()));
      if (settings.format === "json") printJson({ queue: settings.queue, paused });
      else print(`queue ${settings.queue} ${paused ? "paused" : "resumed"}`);
    });
  }
}
