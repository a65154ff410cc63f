/**
 * @module cli/commands/metrics
 * `sheppy metrics`: prints the Prometheus exposition of some queues once.
 * Counters are kept by the process that counts, so from here only the
 * queues' counts by status (`sheppy_queue_tasks`) carry values; a worker's
 * counters are read from its own endpoint (`sheppy work --metrics-port`).
 */
import type { Command } from "commander";
import { collectMetricsReport } from "../../queue/collect-metrics.js";
import { knownQueues } from "../../queue/known-queues.js";
import { Queue } from "../../queue/queue.js";
import { addSettings } from "../env.js";
import { openBackend, warnIfQueueUnused } from "../open-queue.js";

/** Longer than any backend's own time bound, so its error is the one reported. */
const ONE_SHOT_WAIT_MS = 120_000;

interface MetricsSettings {
  readonly backendUrl?: string;
  /** The queues named; none: every queue the backend knows, as `/metrics` without `?queue=`. */
  readonly queue?: readonly string[];
}

/** Adds `sheppy metrics`. */
export function addMetricsCommand(program: Command): void {
  const command = program
    .command("metrics")
    .description(
      "print the queues' Prometheus metrics once — every queue the backend knows, or those -q names: their counts by status (the counters and histograms are listed without series: a worker's are at its --metrics-port)",
    );
  addSettings(command, ["backendUrl", "queueFilter"]);
  command.addHelpText(
    "after",
    `
Examples:
  $ sheppy metrics -u redis://127.0.0.1:6379
  $ sheppy metrics -u redis://127.0.0.1:6379 -q emails,reports`,
  );
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<MetricsSettings>();
    const backend = openBackend(settings);
    try {
      await backend.connect();
      const names = settings.queue ?? [...(await knownQueues(backend)).keys()];
      const queues = names.map((name) => new Queue(backend, { name }));
      // Printed once, the counts are the point: a backend that does not answer is an error here,
      // reported as the backend gives it (its own time bound, not a scrape's).
      const { text, unread } = await collectMetricsReport(queues, ONE_SHOT_WAIT_MS);
      if (unread.length > 0) throw unread[0]!.error;
      if (settings.queue) {
        for (const queue of queues) await warnIfQueueUnused(backend, queue.name);
      }
      process.stdout.write(text);
    } finally {
      await backend.disconnect().catch(() => undefined);
    }
  });
}
