/**
 * @module cli/commands/metrics
 * `sheppy metrics`: prints the Prometheus exposition of some queues once.
 * Counters are kept by the process that counts, so from here only the
 * queues' counts by status (`sheppy_queue_tasks`) carry values; a worker's
 * counters are read from its own endpoint (`sheppy work --metrics-port`).
 */
import type { Command } from "commander";
import { collectMetrics } from "../../queue/collect-metrics.js";
import { Queue } from "../../queue/queue.js";
import { addSettings } from "../env.js";
import { openBackend, warnIfQueueUnused } from "../open-queue.js";

interface MetricsSettings {
  readonly backendUrl?: string;
  readonly queue: readonly string[];
}

/** Adds `sheppy metrics`. */
export function addMetricsCommand(program: Command): void {
  const command = program
    .command("metrics")
    .description(
      "print the queues' Prometheus metrics once (counts by status; a worker's counters are at its --metrics-port)",
    );
  addSettings(command, ["backendUrl", "queueNames"]);
  command.addHelpText(
    "after",
    `
Examples:
  $ sheppy metrics -u redis://127.0.0.1:6379 -q emails,reports`,
  );
  command.action(async (_options: unknown, cmd: Command) => {
    const settings = cmd.optsWithGlobals<MetricsSettings>();
    const backend = openBackend(settings);
    try {
      const queues = settings.queue.map((name) => new Queue(backend, { name }));
      const text = await collectMetrics(...queues);
      for (const queue of queues) await warnIfQueueUnused(backend, queue.name);
      process.stdout.write(text);
    } finally {
      await backend.disconnect().catch(() => undefined);
    }
  });
}
