/**
 * @module cli/work-conflicts
 * Options of `sheppy work` that cannot go together. A worker with job
 * processing off claims no task, so it never finds its queues empty nor
 * finishes a task: `--oneshot` or `--max-tasks` with it would never exit.
 * And the `--metrics-host` flag says where to serve metrics, which only
 * `--metrics-port` turns on: alone, it would be ignored.
 */
import type { Command } from "commander";
import { CliUsageError } from "../errors.js";

/** How a user gave an option: the flag, or its variable when that is where the value came from. */
function given(cmd: Command, key: string, flag: string, env: string): string {
  return cmd.getOptionValueSource(key) === "env" ? `${env} (${flag})` : flag;
}

/** Throws a `CliUsageError` naming both options when `cmd`'s values conflict. */
export function checkWorkConflicts(cmd: Command): void {
  const values = cmd.opts<{
    disableJobProcessing?: boolean;
    oneshot?: boolean;
    maxTasks?: number;
    metricsPort?: number;
  }>();
  // The flag only: SHEPPY_METRICS_HOST is often set for every process of a deployment, the port for some.
  if (values.metricsPort === undefined && cmd.getOptionValueSource("metricsHost") === "cli") {
    throw new CliUsageError(
      "--metrics-host needs --metrics-port (or SHEPPY_METRICS_PORT): without a port no metrics are served",
    );
  }
  if (!values.disableJobProcessing) return;
  const stop = values.oneshot
    ? given(cmd, "oneshot", "--oneshot", "SHEPPY_ONESHOT")
    : values.maxTasks !== undefined
      ? given(cmd, "maxTasks", "--max-tasks", "SHEPPY_MAX_TASKS")
      : undefined;
  if (stop === undefined) return;
  const off = given(
    cmd,
    "disableJobProcessing",
    "--disable-job-processing",
    "SHEPPY_DISABLE_JOB_PROCESSING",
  );
  throw new CliUsageError(
    `${stop} cannot be used with ${off}: a worker that runs no tasks would never stop`,
  );
}
