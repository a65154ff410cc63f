/**
 * @module cli/commands/queue
 * `sheppy queue list`: every queue of the backend with its counts by stage.
 */
import type { Command } from "commander";
import type { QueueStats } from "../../backends/backend.js";
import { addSettings, type OutputFormat } from "../env.js";
import { openBackend } from "../open-queue.js";
import { type Column, printRows } from "../output.js";

type QueueRow = { queue: string } & QueueStats;

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
];

/** Adds `sheppy queue` and `queue list`. */
export function addQueueCommands(program: Command): void {
  const group = program.command("queue").description("inspect queues");
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
        names.map(async (queue) => ({ queue, ...(await backend.getStats(queue)) })),
      );
    } finally {
      await backend.disconnect().catch(() => undefined);
    }
    printRows(settings.format, rows, COLUMNS, (row) => row, "no queues");
  });
}
