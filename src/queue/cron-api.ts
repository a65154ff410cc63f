/**
 * @module queue/cron-api
 * The cron methods of `Queue` (`addCron`, `deleteCron`, `getCrons`): check the
 * caller's arguments, turn them into stored crons (see `queue/cron`) and make
 * the backend calls. Deleting a cron also removes its runs still waiting.
 */

import { InvalidOptionError } from "../errors.js";
import type { JsonValue } from "../json.js";
import { describeGiven } from "../task/describe-value.js";
import type { Task } from "../task/task-record.js";
import { canonicalJson } from "../util/canonical-json.js";
import {
  type CronDefinition,
  cronDeterministicId,
  newStoredCron,
  readStoredCron,
  removeCronRuns,
  toCronDefinition,
} from "./cron.js";
import type { CronSchedule } from "./cron-expression.js";
import { CRON_RUNS_AHEAD, FIRST_RUNS_HORIZON_MS, scheduleRunsOf } from "./cron-runs.js";
import { type CronEvery, type CronOptions, parseCronSchedule } from "./cron-schedule.js";
import type { QueueHandle } from "./queue-handle.js";
import { checkTasks } from "./task-refs.js";

/** `queue.addCron(task, schedule, options)`: `false` when an identical cron exists. */
export async function registerCron(
  queue: QueueHandle,
  task: Task,
  input: string | CronEvery,
  options?: CronOptions,
): Promise<boolean> {
  checkTasks([task], "queue.addCron()", queue.maxPayloadBytes, false);
  const schedule = parseCronSchedule(input, options, "queue.addCron()");
  // The task's own concurrency key and limit go with the cron, for every run to carry.
  const concurrency =
    task.concurrencyKey === null
      ? null
      : { key: task.concurrencyKey, limit: task.concurrencyLimit ?? 1 };
  const spec = {
    name: task.name,
    args: task.args,
    config: task.config,
    priority: task.priority,
    concurrency,
  };
  const cron = newStoredCron(spec, schedule, queue.name, queue.clock.now());
  const backend = await queue.connect();
  if (!(await backend.addCron(queue.name, cron.deterministicId, cron))) return false;
  // Its first runs now, not at a worker's next cron-manager tick (up to cronInterval later,
  // by which time the fire times in between would have passed unscheduled).
  await scheduleRunsOf(
    backend,
    queue.name,
    [cron],
    queue.clock.now(),
    CRON_RUNS_AHEAD,
    undefined,
    FIRST_RUNS_HORIZON_MS,
  );
  return true;
}

/** `queue.deleteCron(task, schedule, options)`: removes the cron and its waiting runs; `false` when there is none. */
export async function removeCron(
  queue: QueueHandle,
  task: Task,
  input: string | CronEvery,
  options?: CronOptions,
): Promise<boolean> {
  checkTasks([task], "queue.deleteCron()", Number.POSITIVE_INFINITY, false);
  const schedule = parseCronSchedule(input, options, "queue.deleteCron()");
  const id = cronDeterministicId(task, schedule);
  const backend = await queue.connect();
  if (!(await backend.deleteCron(queue.name, id))) {
    const near = (await listCrons(queue)).filter((cron) => sameTaskAndTimes(cron, task, schedule));
    if (near.length > 0) throw addedOtherwise(task, schedule, near);
    return false;
  }
  await removeCronRuns(backend, queue.name, id, queue.clock.now());
  return true;
}

/**
 * Whether `cron` runs task `task` (name and arguments) at the times of
 * `schedule` — its expression or interval, whatever its time zone or the
 * task's options: the cron a delete most likely meant when it names none.
 */
function sameTaskAndTimes(cron: CronDefinition, task: Task, schedule: CronSchedule): boolean {
  return (
    cron.name === task.name &&
    cron.expression === (schedule.every === null ? schedule.expression : null) &&
    cron.every === schedule.every &&
    canonicalJson(cron.args as JsonValue[]) === canonicalJson(task.args as JsonValue[])
  );
}

/**
 * A delete that names no cron while the queue has the same task at the same
 * times added with another time zone or other task options: answering
 * `false` would leave that cron firing unnoticed.
 */
function addedOtherwise(
  task: Task,
  schedule: CronSchedule,
  near: readonly CronDefinition[],
): InvalidOptionError {
  const times =
    schedule.every === null ? JSON.stringify(schedule.expression) : `every ${schedule.every} s`;
  const given = schedule.every === null ? ` in ${schedule.timezone}` : "";
  const shown = near
    .slice(0, 3)
    .map(
      (cron) =>
        `${cron.deterministicId}${cron.timezone !== null && cron.timezone !== schedule.timezone ? ` (timezone '${cron.timezone}')` : ""}${canonicalJson(cron.config as unknown as JsonValue) === canonicalJson(task.config as unknown as JsonValue) ? "" : " (other task options)"}`,
    )
    .join(", ");
  return new InvalidOptionError(
    `queue.deleteCron(): no cron of task '${task.name}' at ${times}${given} with these task options; the queue has ${near.length === 1 ? "one" : near.length} of that task at those times added otherwise: ${shown}${near.length > 3 ? ", …" : ""}. Pass the { timezone } and task options it was added with, or delete it by id: queue.deleteCron(id)`,
  );
}

/** Whether `value` is a cron as `getCrons()` lists it (a task has no `deterministicId`). */
export function isCronDefinition(value: unknown): value is CronDefinition {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Partial<CronDefinition>).deterministicId === "string" &&
    typeof (value as Partial<CronDefinition>).id === "string" &&
    typeof (value as Partial<CronDefinition>).queue === "string"
  );
}

/**
 * `queue.deleteCron(id)`: the same, by either id `getCrons()` lists for a
 * cron — its `deterministicId`, or the `id` of its registration.
 */
export async function removeCronById(queue: QueueHandle, id: string): Promise<boolean> {
  if (typeof id !== "string" || id === "") {
    throw new InvalidOptionError(
      `queue.deleteCron(): expected a Task and an expression, or a cron id (got ${describeGiven(id)})`,
    );
  }
  const backend = await queue.connect();
  let deterministicId = id;
  if (!(await backend.deleteCron(queue.name, deterministicId))) {
    const registered = (await listCrons(queue)).find((cron) => cron.id === id);
    if (!registered) return false;
    deterministicId = registered.deterministicId;
    if (!(await backend.deleteCron(queue.name, deterministicId))) return false;
  }
  await removeCronRuns(backend, queue.name, deterministicId, queue.clock.now());
  return true;
}

/** `queue.getCrons()`: the queue's readable crons, oldest first, next fire times by its clock. */
export async function listCrons(queue: QueueHandle): Promise<CronDefinition[]> {
  const now = queue.clock.now();
  return (await (await queue.connect()).getCrons(queue.name))
    .flatMap((data) => {
      const cron = readStoredCron(data);
      return cron ? [toCronDefinition(cron, queue.name, now)] : [];
    })
    .sort(
      (a, b) =>
        a.createdAt.getTime() - b.createdAt.getTime() ||
        a.deterministicId.localeCompare(b.deterministicId),
    );
}
