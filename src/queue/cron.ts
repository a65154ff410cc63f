/**
 * @module queue/cron
 * Cron definitions: what is stored (`StoredCron`, the backend's opaque
 * `CronData`), what callers read (`CronDefinition`), and the two derived ids
 * that make crons safe with many workers:
 * - the **deterministic id** of a cron: a UUIDv5 of task name + arguments +
 *   config + schedule (cron text, with its time zone unless UTC, or the interval). Registering the same cron twice — from code, from a
 *   config file, from two processes — lands on one id, so the second is refused.
 * - the **run id** of one fire time: a UUIDv5 of (deterministic id, fire time).
 *   Every worker's cron manager computes the same task id for the same run, and
 *   the backend's unique `add` keeps exactly one task per run.
 */
import { randomUUID } from "node:crypto";
import type { Backend, CronData } from "../backends/backend.js";
import { isoAt } from "../clock.js";
import type { JsonValue } from "../json.js";
import type { TaskConfig } from "../task/task-options.js";
import { newTaskData, type TaskData } from "../task/task-record.js";
import { canonicalJson } from "../util/canonical-json.js";
import { uuidV5 } from "../util/uuid-v5.js";
import type { CronSchedule } from "./cron-expression.js";
import {
  type StoredSchedule,
  scheduleFromStored,
  scheduleKey,
  storedScheduleFields,
} from "./cron-schedule.js";

/** Namespace of every cron's deterministic id (a fixed, random UUID: Sheppy's own). */
const CRON_NAMESPACE = "b5e0994b-e7a3-45e3-bda0-89f43592aa24";

/** Who owns a cron: `"config"` for crons a worker created from the config file; `null` for crons added in code. */
export type CronManagedBy = "config" | null;

/**
 * Why a cron a config file declares is not deleted from outside the file:
 * the workers that declare it would create it again at their next look.
 * `force` names how the caller deletes it all the same.
 */
export function declaredCronDeletionRefusal(id: string, queue: string, force: string): string {
  return `cron ${id} of queue ${queue} was created from a worker's config file, and the workers that declare it create it again at their next look: remove its entry from the file (they then delete it themselves), or ${force} to delete it all the same`;
}

/** What a cron runs: a task name, its JSON arguments and its options. */
export interface CronSpec {
  readonly name: string;
  readonly args: readonly JsonValue[];
  readonly config: Readonly<TaskConfig>;
  /** The claim priority of its runs (the task's); not part of the deterministic id. */
  readonly priority?: number;
  /** Its runs' concurrency key and limit (the task's); not part of the deterministic id. */
  readonly concurrency?: { readonly key: string; readonly limit: number } | null;
}

/** The stored form of a cron (backends keep it as opaque JSON under `deterministicId`). */
export interface StoredCron extends CronData {
  v: 1;
  /** Random id of this registration. */
  id: string;
  deterministicId: string;
  name: string;
  args: JsonValue[];
  config: JsonValue;
  /** Cron text read in UTC; `null` when `schedule` holds the schedule (older versions skip such records). */
  expression: string | null;
  /** An interval, or cron text in another zone; absent for cron text in UTC (see `queue/cron-schedule`). */
  schedule?: StoredSchedule;
  queue: string;
  managedBy: CronManagedBy;
  createdAt: string;
  /** Declared crons: the config-file entry it was created from (see `worker/declared-crons`). */
  declaration: string | null;
  /** The claim priority of its runs; absent: 0. */
  priority?: number;
  /** Its runs share this concurrency key (absent: none), at most `concurrencyLimit` running. */
  concurrencyKey?: string;
  concurrencyLimit?: number;
}

/** A registered cron as `queue.getCrons()` returns it. */
export interface CronDefinition {
  /** Random id of this registration (a re-registration after deletion gets a new one). */
  readonly id: string;
  /** Id derived from name + args + config + expression; equal definitions share it. */
  readonly deterministicId: string;
  /** The five-field expression or macro, whitespace normalised; `null` for an interval (`every`). */
  readonly expression: string | null;
  /** The interval in seconds, fire times aligned to its multiples since the Unix epoch; `null` for cron text. */
  readonly every: number | null;
  /** The IANA zone the expression is read in (`"UTC"` unless one was given); `null` for an interval. */
  readonly timezone: string | null;
  /** Task name. */
  readonly name: string;
  readonly args: readonly JsonValue[];
  readonly config: Readonly<TaskConfig>;
  readonly queue: string;
  /** `"config"` when created from the config file by a worker; `null` when added in code. */
  readonly managedBy: CronManagedBy;
  readonly createdAt: Date;
  /** The next fire time after now, by the queue's clock. */
  readonly nextRunAt: Date | null;
}

/**
 * The deterministic id of a cron (CRON-5): `managedBy` and the queue take no
 * part (CRON-6). `schedule` is a checked schedule, or cron text in UTC
 * (normalised); cron text in UTC gives the id older versions gave.
 */
export function cronDeterministicId(spec: CronSpec, schedule: CronSchedule | string): string {
  const key = canonicalJson([
    spec.name,
    spec.args as JsonValue[],
    spec.config as unknown as JsonValue,
    typeof schedule === "string" ? schedule : scheduleKey(schedule),
  ]);
  return uuidV5(CRON_NAMESPACE, key);
}

/** The task id of the run of cron `deterministicId` at `at` (epoch ms): the same in every process. */
export function cronRunId(deterministicId: string, at: number): string {
  return uuidV5(deterministicId, isoAt(at));
}

/** A new stored cron. `schedule` is the checked schedule. */
export function newStoredCron(
  spec: CronSpec,
  schedule: CronSchedule,
  queue: string,
  now: number,
  managedBy: CronManagedBy = null,
  declaration: string | null = null,
): StoredCron {
  return {
    v: 1,
    id: randomUUID(),
    deterministicId: cronDeterministicId(spec, schedule),
    name: spec.name,
    args: [...spec.args] as JsonValue[],
    config: spec.config as unknown as JsonValue,
    ...storedScheduleFields(schedule),
    queue,
    managedBy,
    ...(spec.priority ? { priority: spec.priority } : {}),
    ...(spec.concurrency
      ? { concurrencyKey: spec.concurrency.key, concurrencyLimit: spec.concurrency.limit }
      : {}),
    createdAt: isoAt(now),
    declaration,
  };
}

/**
 * The stored cron, checked, or `null` when the data is not a cron this
 * version understands (written by hand, or corrupted): callers skip it.
 */
export function readStoredCron(data: CronData): StoredCron | null {
  const d = data as Partial<StoredCron>;
  const ok =
    typeof d.deterministicId === "string" &&
    typeof d.id === "string" &&
    typeof d.name === "string" &&
    d.name !== "" &&
    Array.isArray(d.args) &&
    typeof d.config === "object" &&
    d.config !== null &&
    (typeof d.expression === "string" ||
      (d.expression === null && typeof d.schedule === "object" && d.schedule !== null)) &&
    (d.managedBy === null || d.managedBy === "config" || d.managedBy === undefined) &&
    typeof d.createdAt === "string";
  if (!ok) return null;
  return {
    ...(data as StoredCron),
    managedBy: d.managedBy ?? null,
    declaration: d.declaration ?? null,
  };
}

/**
 * The schedule of a stored cron. Throws `CronExpressionError` when it does not
 * parse (a record written by hand or by another version).
 */
export function cronScheduleOf(cron: StoredCron): CronSchedule {
  return scheduleFromStored(cron.expression, cron.schedule, `cron ${cron.deterministicId}`);
}

/** Fire times of a stored cron strictly after `from` (throws as {@link cronScheduleOf}). */
export function cronNextRuns(cron: StoredCron, from: number, count: number): number[] {
  return cronScheduleOf(cron).nextRuns(from, count);
}

/** The most runs of one cron {@link cronRunsAhead} returns, however short its interval. */
export const MAX_RUNS_AHEAD = 1000;

/**
 * The runs of a stored cron to keep scheduled at `now`: the next `count`, and
 * also every later one up to `now + horizonMs` (so an interval shorter than
 * the cron manager's own period leaves no gap), at most {@link MAX_RUNS_AHEAD}.
 * Throws as {@link cronScheduleOf}.
 */
export function cronRunsAhead(
  cron: StoredCron,
  now: number,
  count: number,
  horizonMs = 0,
): number[] {
  const schedule = cronScheduleOf(cron);
  const times = schedule.nextRuns(now, count);
  const until = now + horizonMs;
  while (times.length > 0 && times.length < MAX_RUNS_AHEAD && times.at(-1)! < until) {
    const more = schedule
      .nextRuns(times.at(-1)!, Math.min(100, MAX_RUNS_AHEAD - times.length))
      .filter((t) => t <= until);
    if (more.length === 0) break;
    times.push(...more);
  }
  return times;
}

/** What `getCrons()` returns for a stored cron, with its next run after `now` (`null` if it cannot run). */
export function toCronDefinition(cron: StoredCron, queue: string, now: number): CronDefinition {
  let schedule: CronSchedule | undefined;
  try {
    schedule = cronScheduleOf(cron);
  } catch {
    schedule = undefined;
  }
  const next = schedule?.nextRuns(now, 1)[0];
  return Object.freeze({
    id: cron.id,
    deterministicId: cron.deterministicId,
    expression: schedule ? schedule.expression : cron.expression,
    every: schedule?.every ?? null,
    timezone: schedule ? schedule.timezone : null,
    name: cron.name,
    args: cron.args,
    config: cron.config as unknown as TaskConfig,
    queue,
    managedBy: cron.managedBy,
    createdAt: new Date(cron.createdAt),
    nextRunAt: next === undefined ? null : new Date(next),
  });
}

/** The task of one run: id from (deterministic id, fire time), status `scheduled` for `at`, `cronId` set (CRON-10). */
export function cronRunTask(cron: StoredCron, at: number, now: number): TaskData {
  const data = newTaskData(
    cronRunId(cron.deterministicId, at),
    cron.name,
    cron.args,
    cron.config as unknown as TaskConfig,
    now,
    {
      cronId: cron.deterministicId,
      priority: runPriority(cron),
      concurrency: runConcurrency(cron),
    },
  );
  return { ...data, status: "scheduled", scheduledAt: isoAt(at) };
}

/** The concurrency key and limit of a cron's runs: the ones stored with it, when they are usable. */
function runConcurrency(cron: StoredCron): { key: string; limit: number } | null {
  const { concurrencyKey: key, concurrencyLimit: limit } = cron;
  if (typeof key !== "string" || key === "") return null;
  return { key, limit: Number.isSafeInteger(limit) && limit! >= 1 ? limit! : 1 };
}

/** The priority a cron's runs are claimed by: the one stored with it, when it is one. */
function runPriority(cron: StoredCron): number {
  const { priority } = cron;
  return typeof priority === "number" && Number.isSafeInteger(priority) ? priority : 0;
}

/**
 * Removes the runs of a cron that are still waiting for their time, so a
 * deleted cron does not fire again, and returns how many it removed. Removed,
 * not just cancelled: a run's id depends only on (cron, fire time), so a
 * `cancelled` record left behind would keep the same cron, added again later,
 * from scheduling those fire times (adding is unique by id). The backend
 * contract deletes only finished records, hence cancel first, then delete. A
 * run that a worker already moved to pending or started is left to finish.
 */
export async function removeCronRuns(
  backend: Backend,
  queue: string,
  deterministicId: string,
  now: number,
): Promise<number> {
  const runs: TaskData[] = [];
  let cursor: string | null = null;
  do {
    const page = await backend.getScheduled(queue, { cursor, limit: 1000 });
    for (const t of page.tasks)
      if (t.cronId === deterministicId && t.status === "scheduled") runs.push(t);
    cursor = page.cursor;
  } while (cursor !== null);
  const removed = await Promise.all(
    runs.map(
      async (t) =>
        (await backend.cancel(queue, t.id, { at: now, expiresAt: null })) !== null &&
        backend.deleteTask(queue, t.id),
    ),
  );
  return removed.filter(Boolean).length;
}
