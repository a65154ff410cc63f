/**
 * @module worker/cron-manager
 * Keeps the next few runs of every cron of the worker's queues scheduled,
 * every `intervalMs` on the worker's clock (a `TestClock` drives it in tests)
 * — `addCron` schedules a new cron's first ones itself.
 * Each run's task id is derived from (cron, fire time), and adding is
 * unique by id, so however many workers do this at once each run exists once. On
 * each tick the declared-cron reconciler (if any) runs first, so a cron new
 * in the config file gets its runs in the same tick.
 */

import type { CronData } from "../backends/backend.js";
import type { Logger } from "../observability/logger.js";
import { readStoredCron } from "../queue/cron.js";
import { CRON_RUNS_AHEAD, type CronCoverage, scheduleRunsOf } from "../queue/cron-runs.js";
import type { Queue } from "../queue/queue.js";
import { findTask, registeredTaskNames } from "../task/task-registry.js";
import type { DeclaredCrons } from "./declared-crons.js";
import { type PeriodicLoopOptions, runPeriodically } from "./periodic-loop.js";

/** What the cron-manager loop needs from its worker. */
export interface CronManagerOptions extends PeriodicLoopOptions {
  queues: readonly Queue[];
  /** The config-file reconciler; absent when declared crons are off. */
  declared: DeclaredCrons | undefined;
  logger: Logger;
}

/** Runs a tick now, then every `intervalMs`, until `signal` aborts; backend errors back off and are reported. */
export function runCronManager(options: CronManagerOptions): Promise<void> {
  const { queues, clock, declared, logger } = options;
  const warned = new Set<string>();
  const onBadCron = (queue: Queue, id: string, why: string) => {
    if (warned.has(`${queue.name}\0${id}`)) return;
    warned.add(`${queue.name}\0${id}`);
    logger.warn({ queue: queue.name, cron: id }, `cannot schedule runs of a stored cron: ${why}`);
  };
  // Runs due before the tick after next are scheduled too, so a short interval
  // (`every: 1`) leaves no gap between ticks, even when one tick is late.
  const horizonMs = 2 * options.intervalMs;
  const coverage = new Map(queues.map((queue) => [queue, skippedRunsLog(queue, logger)]));
  const warnOfUnknownTask = unknownTaskWarnings(logger);
  return runPeriodically(options, async () => {
    await declared?.reconcile(clock.now());
    for (const queue of queues) {
      const { backend, name } = queue;
      const crons = await backend.getCrons(name);
      warnOfUnknownTask(name, crons);
      await scheduleRunsOf(
        backend,
        name,
        crons,
        clock.now(),
        CRON_RUNS_AHEAD,
        (id, why) => onBadCron(queue, id, why),
        horizonMs,
        coverage.get(queue),
      );
    }
  });
}

/**
 * The coverage of one queue's crons, saying the fire times that passed while
 * no tick could reach the backend (a server paused or down longer than the
 * runs scheduled ahead) and that no worker scheduled.
 */
function skippedRunsLog(queue: Queue, logger: Logger): CronCoverage {
  return {
    scheduledUntil: new Map(),
    onSkipped(cronId, skipped) {
      const first = new Date(skipped[0]!).toISOString();
      const last = new Date(skipped.at(-1)!).toISOString();
      logger.warn(
        { queue: queue.name, cron: cronId, skipped: skipped.length, first, last },
        `${skipped.length} fire time${skipped.length === 1 ? "" : "s"} of a cron passed unscheduled while the backend could not be reached (${first === last ? first : `${first} to ${last}`}); missed fire times are not made up`,
      );
    },
  };
}

/**
 * Schedules the next `count` runs after `now` of every cron of `queue`, and
 * any later ones due within `horizonMs` (see `cronRunsAhead`); runs that
 * exist already are left alone. Returns how many it added. `onBadCron` hears
 * about stored crons it cannot read or evaluate.
 */
export async function scheduleCronRuns(
  queue: Queue,
  now: number,
  count: number,
  onBadCron: (queue: Queue, id: string, why: string) => void = () => undefined,
  horizonMs = 0,
): Promise<number> {
  const { backend, name } = queue;
  return scheduleRunsOf(
    backend,
    name,
    await backend.getCrons(name),
    now,
    count,
    (id, why) => onBadCron(queue, id, why),
    horizonMs,
  );
}

/**
 * Warns, once per cron, of a stored cron whose task this process does not
 * define while it defines others: most often a task a deploy removed or
 * renamed, whose cron goes on adding runs that no worker can run — each put
 * back until the unknown-task grace fails it. A process that defines no
 * task (a scheduler alone) says nothing: it runs none anyway.
 */
export function unknownTaskWarnings(
  logger: Logger,
): (queue: string, crons: readonly CronData[]) => void {
  const warned = new Set<string>();
  return (queue, crons) => {
    if (registeredTaskNames().length === 0) return;
    for (const data of crons) {
      const cron = readStoredCron(data);
      if (!cron || findTask(cron.name)) continue;
      const key = `${queue}\0${cron.deterministicId}`;
      if (warned.has(key)) continue;
      warned.add(key);
      logger.warn(
        { queue, cron: cron.id, task: cron.name },
        `cron ${cron.id} adds runs of task '${cron.name}', which this worker does not define: each run is put back for a worker that knows it, and fails once the unknown-task grace is over; if the task is gone, delete the cron (sheppy cron delete ${cron.id}${cron.declaration === null ? "" : ", or remove its entry from the config file"})`,
      );
    }
  };
}
