/**
 * @module cli/commands/work
 * `sheppy work`: loads the task modules, runs the prestart hook, then runs a
 * `Worker` on the given queues until SIGINT/SIGTERM (or `--oneshot` /
 * `--max-tasks`). This is the only place environment settings become worker
 * options: the `Worker` itself reads no environment (WK-26).
 */

import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { type Command, Option } from "commander";
import type { Logger } from "pino";
import { CliUsageError, PrestartError } from "../../errors.js";
import { setDefaultLogger } from "../../observability/logger.js";
import { flushTracing } from "../../observability/tracing.js";
import { Queue } from "../../queue/queue.js";
import { twoCopiesNote } from "../../task/loaded-copies.js";
import { registeredTaskNames } from "../../task/task-registry.js";
import { registeredWorkflowNames } from "../../task/workflow-registry.js";
import { userTaskNames } from "../../task/workflow-resume-task.js";
import { maskUrl } from "../../util/mask-url.js";
import {
  onShutdownSignals,
  type SignalHandlers,
  TRACE_FLUSH_MS,
} from "../../worker/shutdown-signals.js";
import { Worker } from "../../worker/worker.js";
import { type HealthProblem, healthProblem } from "../../worker/worker-health.js";
import { taskModulesFromConfig } from "../config-file.js";
import { addSettings, type LogFormat, type LogLevel } from "../env.js";
import { loadFunction, loadModules } from "../load-modules.js";
import { createCliLogger, isPretty } from "../logger.js";
import { type MetricsServer, serveMetrics } from "../metrics-server.js";
import { openBackend, unusedQueueWarning } from "../open-queue.js";
import { checkWorkConflicts } from "../work-conflicts.js";
import { reachBackend } from "./reach-backend.js";
import { announce, logPauses, logSignals, logTaskEvents } from "./work-log.js";

/** Longest the command waits for the backend to disconnect once its worker has stopped. */
const DISCONNECT_WAIT_MS = 1000;

/** `sheppy work` settings after commander applied flags, environment and defaults. */
interface WorkSettings {
  readonly backendUrl?: string;
  readonly queue: readonly string[];
  readonly concurrency: number;
  readonly prefetch?: number;
  readonly shutdownTimeout: number;
  readonly unknownTaskGrace?: number;
  readonly leaseTimeout?: number;
  readonly heartbeatInterval?: number;
  readonly waitForBackend: number;
  readonly tasks?: readonly string[];
  readonly config: string;
  readonly prestart?: string;
  readonly oneshot?: boolean;
  readonly maxTasks?: number;
  readonly disableJobProcessing?: boolean;
  readonly disableScheduler?: boolean;
  readonly disableCronManager?: boolean;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
  readonly metricsPort?: number;
  readonly metricsHost: string;
  /** `false` with `--no-log-tasks` (or SHEPPY_LOG_TASKS=false); absent means on. */
  readonly logTasks?: boolean;
}

/**
 * Logs a warning for each queue that holds nothing while others do: most
 * often a mistyped `--queue`, with which the worker would wait for ever,
 * silently. In the background: the worker does not wait for it.
 */
function warnOfUnusedQueues(queues: readonly Queue[], logger: Logger): void {
  for (const queue of queues) {
    unusedQueueWarning(queue.backend, queue.name, "waiting for tasks all the same", true).then(
      (warning) => {
        if (warning) logger.warn(warning);
      },
      // Not knowing is no reason to say anything: the worker reports a backend it cannot reach.
      () => undefined,
    );
  }
}

/**
 * The error that ends `sheppy work`, as a `fatal` record among its JSON log
 * lines too (its one line on stderr stays, for whoever watches the
 * terminal): a log shipper that parses the JSON lines would otherwise miss
 * the one line that says why the worker stopped. Human-readable logs have
 * nothing to add to that line.
 */
function logEndingError(settings: WorkSettings, error: unknown): void {
  if (isPretty(settings.logFormat)) return;
  try {
    const message = error instanceof Error ? error.message : String(error);
    createCliLogger(settings.logLevel, settings.logFormat).fatal(
      { err: error },
      `error: ${message.split("\n")[0]}`,
    );
  } catch {
    // A setting the logger refuses was reported as the error itself.
  }
}

async function runWork(settings: WorkSettings, configGiven: boolean): Promise<void> {
  // Only the default file may be absent: a file named on purpose that is not there is a mistake.
  if (configGiven && !existsSync(settings.config)) {
    throw new CliUsageError(
      `config file ${settings.config} does not exist (given by --config or SHEPPY_CONFIG)`,
    );
  }
  const logger = createCliLogger(settings.logLevel, settings.logFormat);
  setDefaultLogger(logger);
  await loadModules(settings.tasks ?? (await taskModulesFromConfig(settings.config)));
  const prestart = settings.prestart ? await loadFunction(settings.prestart) : undefined;
  const backend = openBackend(settings, "create");
  const queues = settings.queue.map((name) => new Queue(backend, { name }));
  const processing = !settings.disableJobProcessing;
  const scheduler = !settings.disableScheduler;
  const cronManager = !settings.disableCronManager;
  // Built before the hook runs, so a bad combination of options fails before any side effect.
  const worker = new Worker(queues, {
    concurrency: settings.concurrency,
    ...(settings.prefetch === undefined ? {} : { prefetch: settings.prefetch }),
    shutdownTimeout: settings.shutdownTimeout,
    ...(settings.unknownTaskGrace === undefined
      ? {}
      : { unknownTaskGrace: settings.unknownTaskGrace }),
    ...(settings.leaseTimeout === undefined ? {} : { leaseTimeout: settings.leaseTimeout }),
    ...(settings.heartbeatInterval === undefined
      ? {}
      : { heartbeatInterval: settings.heartbeatInterval }),
    processing,
    scheduler,
    cronManager,
    configFile: settings.config,
    // Without the per-attempt lines (--no-log-tasks), failures and retries still get theirs.
    logTasks: (settings.logTasks ?? true) ? true : "failures",
    logger,
  });
  let signalHandlers: SignalHandlers | undefined;
  let stopLoggingSignals: (() => void) | undefined;
  let stopLoggingPauses: (() => void) | undefined;
  let metrics: MetricsServer | undefined;
  const stopGuarding = guardProcess(worker, logger);
  try {
    // Listening first: a port in use stops the command before any task runs, and while the
    // command waits for its backend (--wait-for-backend) /livez answers and /healthz says
    // `starting`, so a liveness probe does not restart a worker that only waits.
    let working = false;
    // While it waits for its backend, /healthz says why: the latest failed connect.
    let unreached: HealthProblem | undefined;
    if (settings.metricsPort !== undefined) {
      metrics = await serveMetrics(
        queues,
        settings.metricsPort,
        settings.metricsHost,
        logger,
        () => {
          const now = worker.health();
          if (working || now.status !== "stopped") return now;
          return { ...now, status: "starting", problems: unreached ? [unreached] : [] };
        },
      );
    }
    await reachBackend(queues[0]!, settings.waitForBackend, logger, (since, error) => {
      unreached = healthProblem("connect", null, since, error);
    });
    unreached = undefined;
    if (prestart) {
      try {
        await prestart({ queues });
      } catch (error) {
        throw new PrestartError(
          `prestart hook ${settings.prestart} failed: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
    }
    // Checked after the prestart hook, which may load task modules itself.
    if (processing && registeredTaskNames().length === 0) throw noTasksError(settings);
    logTaskEvents(worker, logger);
    worker.once("worker:started", () => {
      // The command takes the signals itself, not through the worker's handleSignals: that
      // would end the process before the summary is logged; the command ends it below instead.
      signalHandlers = onShutdownSignals(
        () => void worker.close(),
        () => void worker.close({ force: true }),
      );
      stopLoggingSignals = logSignals(logger, settings.shutdownTimeout);
      announce(
        {
          backend: maskUrl(settings.backendUrl ?? ""),
          queues: settings.queue,
          loops: [
            ...(processing ? ["job processing"] : []),
            ...(scheduler ? ["scheduler"] : []),
            ...(cronManager ? ["cron manager"] : []),
          ],
          concurrency: settings.concurrency,
          prefetch: settings.prefetch ?? settings.concurrency,
          shutdownTimeout: settings.shutdownTimeout,
          // A workflow's resume task is its workflow's, listed under workflows.
          tasks: userTaskNames(),
          workflows: registeredWorkflowNames(),
        },
        logger,
        isPretty(settings.logFormat),
      );
      if (processing) stopLoggingPauses = logPauses(queues, logger);
      if (processing) warnOfUnusedQueues(queues, logger);
      const untilStopped = !settings.oneshot && settings.maxTasks === undefined;
      if (processing && untilStopped && !backend.capabilities.crossProcess) {
        logger.warn(
          `${maskUrl(settings.backendUrl ?? "")} keeps its tasks inside this process: only what this process adds (a prestart hook, crons) reaches this worker, and no other process can add to its queues; share a queue with redis://, postgres:// or sqlite:///path/to/file.db`,
        );
      }
    });
    working = true;
    const summary = await worker.work({
      ...(settings.maxTasks === undefined ? {} : { maxTasks: settings.maxTasks }),
      oneshot: settings.oneshot ?? false,
    });
    logger.info(summary, "worker stopped");
  } finally {
    stopGuarding();
    signalHandlers?.remove();
    stopLoggingSignals?.();
    stopLoggingPauses?.();
    await metrics?.close();
    // The process ends next, and its sockets with it: a server that does not answer (paused)
    // must not hold the exit past the worker's own bound while the backend says goodbye.
    await Promise.race([
      backend.disconnect().catch(() => undefined),
      sleep(DISCONNECT_WAIT_MS, undefined, { ref: false }),
    ]);
  }
  // The worker has stopped. Tasks it interrupted are back in the queue, and their functions
  // may still be running here (a task that ignores its signal): nothing of this process may
  // go on, so it ends now rather than when its last timer does — once the application's tracing
  // SDK, if it has one, has handed over the last attempts' spans. Logs are written synchronously.
  await flushTracing(TRACE_FLUSH_MS);
  process.exit(process.exitCode ?? 0);
}

/**
 * What task code does outside its own promise chain must not end the worker
 * unannounced, taking every task it holds into their leases' expiry: a
 * promise that rejects with nothing awaiting it (a forgotten `await`) is
 * logged and the worker goes on; an exception thrown where nothing catches
 * it (a throw in a task's own timer) is logged and the worker stops as on
 * SIGTERM — running tasks get their shutdown time, unstarted ones go back to
 * the queue — and the command exits with 1. Returns the uninstaller.
 */
function guardProcess(worker: Worker, logger: ReturnType<typeof createCliLogger>): () => void {
  const onRejection = (reason: unknown) => {
    logger.error(
      { err: reason },
      "a promise rejected with nothing awaiting it (a task that did not await something?); the worker goes on",
    );
  };
  const onException = (error: unknown) => {
    logger.error(
      { err: error },
      "an exception was thrown where nothing catches it (in a task's timer or callback?); stopping the worker",
    );
    process.exitCode = 1;
    void worker.close().catch(() => undefined);
  };
  process.on("unhandledRejection", onRejection);
  process.on("uncaughtException", onException);
  return () => {
    process.off("unhandledRejection", onRejection);
    process.off("uncaughtException", onException);
  };
}

/**
 * A worker that knows no task would claim every task and fail it, or with a
 * grace period only hold the queue up: starting one is always a mistake.
 */
function noTasksError(settings: WorkSettings): CliUsageError {
  const loaded =
    settings.tasks === undefined
      ? `no task modules given (pass --tasks <module>, or list them under "tasks" in ${settings.config})`
      : `the task modules given (${settings.tasks.join(", ")}) define no tasks`;
  const twoCopies = twoCopiesNote();
  return new CliUsageError(
    `${loaded}; a worker that knows no tasks cannot run any (--disable-job-processing runs only the scheduler and cron manager)${twoCopies ? `; ${twoCopies}` : ""}`,
  );
}

/** Adds `sheppy work`. */
export function addWorkCommand(program: Command): void {
  const command = program
    .command("work")
    .description("run a worker: claim tasks from the queues and run them until SIGINT/SIGTERM");
  addSettings(command, [
    "backendUrl",
    "queues",
    "tasks",
    "concurrency",
    "prefetch",
    "shutdownTimeout",
    "unknownTaskGrace",
    "leaseTimeout",
    "heartbeatInterval",
    "waitForBackend",
    "oneshot",
    "maxTasks",
    "disableJobProcessing",
    "disableScheduler",
    "disableCronManager",
    "config",
    "prestart",
    "logFormat",
    "metricsPort",
    "metricsHost",
    "logTasks",
  ]);
  // Shares `logTasks` with --log-tasks: the lines are on by default, so the negation is the flag people use.
  command.addOption(new Option("--no-log-tasks", "do not log task started / task completed lines"));
  command.addHelpText(
    "after",
    `
Examples:
  $ sheppy work -u redis://127.0.0.1:6379 --tasks ./src/tasks.ts
  $ sheppy work -u redis://127.0.0.1:6379 --tasks ./src/tasks.ts --metrics-port 9464
  $ SHEPPY_BACKEND_URL=redis://127.0.0.1:6379 SHEPPY_QUEUE=emails,reports sheppy work -t ./dist/tasks.js -c 50`,
  );
  command.action(async (_options: unknown, cmd: Command) => {
    checkWorkConflicts(cmd);
    const settings = cmd.optsWithGlobals<WorkSettings>();
    try {
      await runWork(settings, cmd.getOptionValueSource("config") !== "default");
    } catch (error) {
      logEndingError(settings, error);
      throw error;
    }
  });
}
