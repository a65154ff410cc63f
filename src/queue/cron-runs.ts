/**
 * @module queue/cron-runs
 * Scheduling a cron's runs: each run is a task whose id is derived from (cron,
 * fire time), added unique by id, so however many processes do this at once
 * each run exists once. `addCron` schedules a new cron's first runs at once;
 * a worker's cron manager keeps every cron's next runs scheduled after that.
 */
import type { Backend, CronData } from "../backends/backend.js";
import type { TaskData } from "../task/task-record.js";
import { addOptionsFor } from "./add-events.js";
import { cronRunsAhead, cronRunTask, readStoredCron } from "./cron.js";

/** How many runs of each cron are kept scheduled ahead (CRON-12). */
export const CRON_RUNS_AHEAD = 3;

/**
 * How far ahead `addCron` schedules a new cron's runs besides its next
 * {@link CRON_RUNS_AHEAD}: two default cron-manager periods, so a short
 * interval (`every: 2`) has runs until a worker's cron manager takes over.
 */
export const FIRST_RUNS_HORIZON_MS = 20_000;

/**
 * Schedules the next `count` runs after `now` of each of `crons` (stored
 * records of queue `queue`), and any later ones due within `horizonMs` (see
 * `cronRunsAhead`); runs that exist already are left alone. Returns how many
 * it added. `onBadCron` hears about stored crons it cannot read or evaluate.
 */
export async function scheduleRunsOf(
  backend: Backend,
  queue: string,
  crons: readonly CronData[],
  now: number,
  count: number,
  onBadCron: (id: string, why: string) => void = () => undefined,
  horizonMs = 0,
): Promise<number> {
  const runs: TaskData[] = [];
  for (const data of crons) {
    const cron = readStoredCron(data);
    if (!cron) {
      onBadCron(String(data.deterministicId), "it is not a cron record this version understands");
      continue;
    }
    let times: number[];
    try {
      times = cronRunsAhead(cron, now, count, horizonMs);
    } catch (error) {
      onBadCron(cron.deterministicId, (error as Error).message);
      continue;
    }
    for (const at of times) runs.push(cronRunTask(cron, at, now));
  }
  if (runs.length === 0) return 0;
  return (await backend.add(queue, runs, "unique", addOptionsFor(backend, runs, now))).filter(
    Boolean,
  ).length;
}
