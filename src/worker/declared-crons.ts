/**
 * @module worker/declared-crons
 * Keeps the crons of the worker's queues in line with the config file, on
 * every cron-manager tick:
 * - creates each declared cron (marked `managedBy: "config"`) that is missing;
 * - deletes config-managed crons whose entry left the file, and removes their
 *   runs still waiting for their time (so the entry, put back, schedules them again);
 * - never touches crons added from code — an identical code cron has the same
 *   deterministic id, so the declaration is simply not added again;
 * - changes nothing when the file is missing or broken. A missing file is
 *   said at info when it matters — this worker read one before, or the
 *   queues hold crons a file declared (a worker started from another
 *   directory) — and at debug otherwise: most apps have no such file.
 *
 * Every declared cron carries its entry's key (task, expression, args, queue
 * as written). A cron is "removed from the file" only when no entry has its
 * key, so a worker that cannot resolve an entry (its task is not loaded in
 * this process) leaves the crons other workers made from it alone. Problems
 * are logged once while they last, not on every tick.
 *
 * Workers of one queue that read different files (a rolling deploy, a worker
 * started from another directory) disagree: one deletes the cron the other
 * puts back, on every tick, and the cron may never run. Each notices — a cron
 * it deleted is back, or one it had is gone while its file still declares it
 * — and says so at warn level. The one deleting then leaves that cron alone
 * for {@link CONTESTED_HOLD_MS} and tries again after: a cron stays while any
 * worker still declares it (the old workers of a deploy), and goes once none
 * does.
 */
import type { Logger } from "../observability/logger.js";
import { newStoredCron, readStoredCron, removeCronRuns, type StoredCron } from "../queue/cron.js";
import { parseCronSchedule, scheduleText } from "../queue/cron-schedule.js";
import type { Queue } from "../queue/queue.js";
import { taskSpecByName } from "../task/task-by-name.js";
import { type CronDeclaration, readCronConfig } from "./cron-config.js";

interface Problem {
  readonly level: "debug" | "info" | "warn";
  readonly message: string;
}

/** How long a worker leaves alone a declared cron it deleted that another worker put back. */
export const CONTESTED_HOLD_MS = 5 * 60_000;

/** One cron of one queue, as the maps below key it. */
const cronKey = (queue: string, id: string): string => `${queue}\0${id}`;

/** What one queue should hold, as far as this worker can tell. */
interface Wanted {
  /** Declared crons this worker resolved into the queue, by deterministic id. */
  readonly crons: Map<string, StoredCron>;
  /** Keys of the entries those came from. */
  readonly keys: Set<string>;
}

/** The reconciler of one worker: one per `work()` run, remembering which problems it has logged. */
export class DeclaredCrons {
  readonly #path: string;
  readonly #queues: readonly Queue[];
  readonly #logger: Logger;
  /** Problems logged by the previous reconcile; logged again only after they went away. */
  #reported = new Set<string>();
  /** Per queue: config crons this worker deleted (by deterministic id). */
  readonly #deleted = new Map<string, Set<string>>();
  /** Per queue: declared crons present after this worker's last pass. */
  readonly #held = new Map<string, Set<string>>();
  /** Deleted crons another worker put back, left alone until the time (ms) each maps to. */
  readonly #contested = new Map<string, number>();
  /** When this worker last warned that another deleted a cron it declares. */
  readonly #warnedAt = new Map<string, number>();
  /**
   * Whether this worker has found a file at its path, or config-managed crons
   * in its queues; `undefined` until it looked (once: a tick must stay cheap).
   */
  #declares: boolean | undefined;

  /**
   * @param queues the worker's queues; an entry without `queue` goes to the only one,
   * and is skipped when there are several.
   */
  constructor(path: string, queues: readonly Queue[], logger: Logger) {
    this.#path = path;
    this.#queues = queues;
    this.#logger = logger;
  }

  /** One pass: read the file and bring every queue in line. Backend errors propagate (the loop backs off). */
  async reconcile(now: number): Promise<void> {
    const config = await readCronConfig(this.#path);
    if (config.kind === "missing") {
      this.#declares ??= await this.#holdsDeclaredCrons();
      this.#report([{ level: this.#declares ? "info" : "debug", message: config.message }]);
      return;
    }
    this.#declares = true;
    if (config.kind === "broken") {
      this.#report([{ level: "warn", message: config.message }]);
      return;
    }
    const problems: Problem[] = config.problems.map((message) => ({ level: "warn", message }));
    const fileKeys = new Set(config.declarations.map((d) => d.key));
    const wanted = new Map<string, Wanted>(
      this.#queues.map((q) => [q.name, { crons: new Map(), keys: new Set() }]),
    );
    for (const declaration of config.declarations) {
      const outcome = this.#resolve(declaration, now);
      if (typeof outcome === "string") {
        problems.push({
          level: "warn",
          message: `${this.#path}: crons[${declaration.index}] skipped: ${outcome}`,
        });
        continue;
      }
      const target = wanted.get(outcome.queue)!;
      target.crons.set(outcome.deterministicId, outcome);
      target.keys.add(declaration.key);
    }
    for (const queue of this.#queues)
      await this.#apply(queue, wanted.get(queue.name)!, fileKeys, now);
    this.#report(problems);
  }

  /** The cron an entry declares, or why this worker skips it. */
  #resolve(declaration: CronDeclaration, now: number): StoredCron | string {
    // With several queues there is no right default: "the first queue" depends on each
    // worker's order, so workers listing their queues differently would each create the cron.
    if (declaration.queue === null && this.#queues.length > 1) {
      const names = this.#queues.map((q) => q.name).join(", ");
      return `task '${declaration.task}' names no queue and this worker serves several (${names}); add "queue" to the entry`;
    }
    const queueName = declaration.queue ?? this.#queues[0]!.name;
    if (!this.#queues.some((q) => q.name === queueName)) {
      return `task '${declaration.task}' is declared for queue '${queueName}', which this worker does not serve`;
    }
    try {
      // Declared crons run with the task definition's own options, like a task from its factory.
      const spec = taskSpecByName(declaration.task, declaration.args);
      const schedule = parseCronSchedule(
        declaration.every === undefined ? declaration.expression : { every: declaration.every },
        declaration.timezone === undefined ? undefined : { timezone: declaration.timezone },
        `task '${declaration.task}'`,
      );
      return newStoredCron(spec, schedule, queueName, now, "config", declaration.key);
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Whether a queue of this worker holds a cron that a config file declared. */
  async #holdsDeclaredCrons(): Promise<boolean> {
    for (const queue of this.#queues) {
      const crons = await queue.backend.getCrons(queue.name);
      if (crons.some((data) => readStoredCron(data)?.managedBy === "config")) return true;
    }
    return false;
  }

  async #apply(queue: Queue, wanted: Wanted, fileKeys: Set<string>, now: number): Promise<void> {
    const backend = queue.backend;
    const existing = (await backend.getCrons(queue.name)).flatMap((data) => {
      const cron = readStoredCron(data);
      return cron ? [cron] : [];
    });
    const deleted = this.#deleted.get(queue.name) ?? new Set<string>();
    this.#deleted.set(queue.name, deleted);
    const held = this.#held.get(queue.name);
    const present = new Set(existing.map((cron) => cron.deterministicId));
    for (const cron of existing) {
      if (cron.managedBy !== "config") continue;
      const id = cron.deterministicId;
      const removed = cron.declaration === null || !fileKeys.has(cron.declaration);
      // Same entry, different cron: the task's options or argument schema changed since.
      const outdated = !removed && wanted.keys.has(cron.declaration!) && !wanted.crons.has(id);
      if (!removed && !outdated) continue;
      // Deleted by this worker, and back: another worker declares it. Left alone only when this
      // worker's file dropped it: two versions of one entry (task options that differ between
      // the workers) would both be kept, and both would run.
      if (removed && deleted.has(id)) {
        deleted.delete(id);
        this.#contested.set(cronKey(queue.name, id), now + CONTESTED_HOLD_MS);
        this.#logger.warn(
          { queue: queue.name, task: cron.name, schedule: scheduleText(cron) },
          `a declared cron this worker deleted (its file no longer declares it) was put back by another process: workers of queue ${queue.name} read different config files (a deploy under way, or a worker started elsewhere); this one leaves it for ${CONTESTED_HOLD_MS / 60_000} minutes — give every worker of the queue the same file`,
        );
      }
      const hold = this.#contested.get(cronKey(queue.name, id));
      if (hold !== undefined && now < hold) continue;
      this.#contested.delete(cronKey(queue.name, id));
      if (!(await backend.deleteCron(queue.name, id))) continue;
      if (removed) deleted.add(id);
      present.delete(id);
      const removedRuns = await removeCronRuns(
        backend,
        queue.name,
        cron.deterministicId,
        queue.clock.now(),
      );
      this.#logger.info(
        {
          queue: queue.name,
          task: cron.name,
          schedule: scheduleText(cron),
          removedRuns,
        },
        removed
          ? "removed a declared cron that left the config file"
          : "replaced an outdated declared cron",
      );
    }
    for (const cron of wanted.crons.values()) {
      if (present.has(cron.deterministicId)) continue;
      if (
        held?.has(cron.deterministicId) &&
        this.#firstWarning(queue.name, cron.deterministicId, now)
      ) {
        this.#logger.warn(
          { queue: queue.name, task: cron.name, schedule: scheduleText(cron) },
          `a declared cron this worker's config file still declares was deleted by another process: workers of queue ${queue.name} read different config files (a deploy under way, or a worker started elsewhere); this one puts it back — give every worker of the queue the same file`,
        );
      }
      deleted.delete(cron.deterministicId);
      if (await backend.addCron(queue.name, cron.deterministicId, cron)) {
        this.#logger.info(
          { queue: queue.name, task: cron.name, schedule: scheduleText(cron) },
          "created a declared cron from the config file",
        );
      }
      present.add(cron.deterministicId);
    }
    this.#held.set(queue.name, new Set([...wanted.crons.keys()].filter((id) => present.has(id))));
  }

  /** Whether a warning about cron `id` is the first in {@link CONTESTED_HOLD_MS}: a disagreement is said once a while, not on every tick. */
  #firstWarning(queue: string, id: string, now: number): boolean {
    const key = cronKey(queue, id);
    const last = this.#warnedAt.get(key);
    if (last !== undefined && now - last < CONTESTED_HOLD_MS) return false;
    this.#warnedAt.set(key, now);
    return true;
  }

  #report(problems: readonly Problem[]): void {
    const now = new Set<string>();
    for (const { level, message } of problems) {
      now.add(message);
      if (!this.#reported.has(message)) this.#logger[level](message);
    }
    this.#reported = now;
  }
}
