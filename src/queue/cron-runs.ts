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
import { cronRunId, cronRunsAhead, cronRunTask, readStoredCron } from "./cron.js";

/** How many runs of each cron are kept scheduled ahead (CRON-12). */
export const CRON_RUNS_AHEAD = 3;

/**
 * How far ahead `addCron` schedules a new cron's runs besides its next
 * {@link CRON_RUNS_AHEAD}: two default cron-manager periods, so a short
 * interval (`every: 2`) has runs until a worker's cron manager takes over.
 */
export const FIRST_RUNS_HORIZON_MS = 20_000;

/**
 * What a cron manager keeps between its ticks to tell fire times that passed
 * unscheduled: for each cron, the last fire time it scheduled. A tick that
 * follows a stretch in which none could reach the backend finds the fire
 * times in between, and those no run exists for (another worker may have
 * scheduled them) are said to be skipped; they are not made up.
 */
export interface CronCoverage {
  /** Cron id → the last fire time scheduled for it (ms). */
  readonly scheduledUntil: Map<string, number>;
  onSkipped(cronId: string, skipped: readonly number[]): void;
}

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
  coverage?: CronCoverage,
): Promise<number> {
  const runs: TaskData[] = [];
  /** Fire times past `now` that no tick scheduled, by cron: perhaps skipped. */
  const passed = new Map<string, number[]>();
  const reached = new Map<string, number>();
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
    if (coverage === undefined || times.length === 0) continue;
    reached.set(cron.deterministicId, times.at(-1)!);
    const until = coverage.scheduledUntil.get(cron.deterministicId);
    if (until !== undefined && until < now) {
      const between = cronRunsAhead(cron, until, 1, now - until).filter((t) => t < now);
      if (between.length > 0) passed.set(cron.deterministicId, between);
    }
  }
  const added =
    runs.length === 0
      ? 0
      : (await backend.add(queue, runs, "unique", addOptionsFor(backend, runs, now))).filter(
          Boolean,
        ).length;
  if (coverage !== undefined) await noteSkipped(backend, queue, passed, coverage);
  for (const [id, at] of reached) coverage?.scheduledUntil.set(id, at);
  return added;
}

/** Tells `coverage` which of the fire times that passed unscheduled have no run. */
async function noteSkipped(
  backend: Backend,
  queue: string,
  passed: ReadonlyMap<string, readonly number[]>,
  coverage: CronCoverage,
): Promise<void> {
  for (const [id, times] of passed) {
    const found = await backend.getTasks(
      queue,
      times.map((at) => cronRunId(id, at)),
    );
    const skipped = times.filter((at) => !found.has(cronRunId(id, at)));
    if (skipped.length > 0) coverage.onSkipped(id, skipped);
  }
}
