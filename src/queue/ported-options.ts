/**
 * @module queue/ported-options
 * Options of a BullMQ job that code ported to Sheppy often still passes, and
 * what Sheppy calls them: an add given one is refused naming the option it
 * meant, not only the list of valid ones.
 */
import { InvalidOptionError } from "../errors.js";

/** An entry of a list (`addBulk`'s `opts`, spread into the entry). */
export const PORTED_ENTRY_OPTIONS: Readonly<Record<string, string>> = {
  delay:
    "Sheppy's is 'at': a delay in seconds (not milliseconds), a Date, or ISO text with an offset",
  jobId: "Sheppy's is 'id'",
  deduplication: "Sheppy's is 'dedupe': { key, mode, window }",
  attempts: "retries are the task's option ('retry', counting retries, not attempts)",
  opts: "an entry's options sit beside its task: { task, id, dedupe, at, priority, concurrency }",
};

/** The options of one `queue.add(task, options)` call. */
export const PORTED_ADD_OPTIONS: Readonly<Record<string, string>> = {
  delay:
    "a delayed add is queue.schedule(task, seconds) — seconds, not milliseconds — or a Date or ISO text with an offset",
  // An entry of a list takes `at`; one add does not: it is queue.schedule's argument.
  at: "a task added for later is queue.schedule(task, at): seconds from now, a Date or ISO text with an offset",
  jobId: "Sheppy's is 'id'",
  deduplication: "Sheppy's is 'dedupe': { key, mode, window }",
  attempts: "retries are the task's option ('retry', counting retries, not attempts)",
  backoff: "the delay between retries is the task's option 'retryDelay'",
  removeOnComplete: "retention is the task's (or the backend's) 'ttl', in seconds",
  removeOnFail: "retention of failed tasks is the task's (or the backend's) 'errorTtl', in seconds",
  repeat: "repeating is queue.addCron(task, expression, { timezone }) or { every: seconds }",
};

/** Refuses `options` when it holds one of `ported`'s keys, saying what Sheppy calls it. */
export function refusePortedOption(
  options: unknown,
  ported: Readonly<Record<string, string>>,
  where: string,
): void {
  if (typeof options !== "object" || options === null) return;
  const key = Object.keys(options).find((name) => Object.hasOwn(ported, name));
  if (key !== undefined) {
    throw new InvalidOptionError(`${where}: unknown option '${key}'; ${ported[key]}`);
  }
}
