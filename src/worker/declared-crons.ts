/**
 * @module worker/declared-crons
 * Keeps the crons of the worker's queues in line with the config file, on
 * every cron-manager tick:
 * - creates each declared cron (marked `managedBy: "config"`) that is missing;
 * - deletes config-managed crons whose entry left the file, and removes their
 *   runs still waiting for their time (so the entry, put back, schedules them again);
 * - never touches crons added from code — an identical code cron has the same
 *   deterministic id, so the declaration is simply not added again;
 * - changes nothing when the file is missing or broken.
 *
 * Every declared cron carries its entry's key (task, expression, args, queue
 * as written). A cron is "removed from the file" only when no entry has its
 * key, so a worker that cannot resolve an entry (its task is not loaded in
 * this process) leaves the crons other workers made from it alone. Problems
 * are logged once while they last, not on every tick.
 */
import type { Logger } from "../observability/logger.js";
import { newStoredCron, readStoredCron, removeCronRuns, type StoredCron } from "../queue/cron.js";
import { parseCronSchedule, scheduleText } from "../queue/cron-schedule.js";
import type { Queue } from "../queue/queue.js";
import { taskSpecByName } from "../task/task-by-name.js";
import { type CronDeclaration, readCronConfig } from "./cron-config.js";

interface Problem {
  readonly level: "info" | "warn";
  readonly message: string;
}

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
    if (config.kind !== "ok") {
      this.#report([
        { level: config.kind === "missing" ? "info" : "warn", message: config.message },
      ]);
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
    for (const queue of this.#queues) await this.#apply(queue, wanted.get(queue.name)!, fileKeys);
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

  async #apply(queue: Queue, wanted: Wanted, fileKeys: Set<string>): Promise<void> {
    const backend = queue.backend;
    const existing = (await backend.getCrons(queue.name)).flatMap((data) => {
      const cron = readStoredCron(data);
      return cron ? [cron] : [];
    });
    for (const cron of existing) {
      if (cron.managedBy !== "config") continue;
      const removed = cron.declaration === null || !fileKeys.has(cron.declaration);
      // Same entry, different cron: the task's options or argument schema changed since.
      const outdated =
        !removed && wanted.keys.has(cron.declaration!) && !wanted.crons.has(cron.deterministicId);
      if (!removed && !outdated) continue;
      if (!(await backend.deleteCron(queue.name, cron.deterministicId))) continue;
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
    const present = new Set(existing.map((cron) => cron.deterministicId));
    for (const cron of wanted.crons.values()) {
      if (present.has(cron.deterministicId)) continue;
      if (await backend.addCron(queue.name, cron.deterministicId, cron)) {
        this.#logger.info(
          { queue: queue.name, task: cron.name, schedule: scheduleText(cron) },
          "created a declared cron from the config file",
        );
      }
    }
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
