/**
 * @module worker/worker-options
 * Worker options as users write them (seconds) and their checked form
 * (milliseconds). The worker reads no environment variables; the CLI maps
 * `SHEPPY_*` variables onto these options.
 */
import { resolve as resolvePath } from "node:path";
import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";
import { InvalidOptionError } from "../errors.js";
import type { Middleware } from "../execution/middleware.js";
import type { DependencyOverrides } from "../execution/run-context.js";
import { defaultLogger, type Logger } from "../observability/logger.js";
import { describeGiven } from "../task/describe-value.js";
import { checkOptionKeys } from "../util/unknown-keys.js";
import {
  clockOption,
  flag,
  loggerOption,
  logTasksOption,
  middlewareList,
  overrides,
  positiveInteger,
  seconds,
} from "./worker-option-checks.js";

/** What the reclaim confirmation window allows for a live worker to reconnect (backends reconnect at least this often). */
export const RECONNECT_ALLOWANCE_MS = 1000;

/** Seconds between a worker's cron-manager ticks, unless `cronInterval` says otherwise. */
export const DEFAULT_CRON_INTERVAL_S = 10;

export interface WorkerOptions {
  /** Most tasks running at once (integer ≥ 1, default 10). */
  concurrency?: number | undefined;
  /** Most tasks claimed per backend call (default: the concurrency); claims never exceed free slots. */
  prefetch?: number | undefined;
  /** Seconds running tasks get to finish after `close()` before they are interrupted and re-queued (default 30). */
  shutdownTimeout?: number | undefined;
  /** Worker-level middleware, outside each task's own. */
  middleware?: readonly Middleware[] | undefined;
  /** Dependency replacements (tests). */
  dependencyOverrides?: DependencyOverrides | undefined;
  /** Claim and run tasks (default true). */
  processing?: boolean | undefined;
  /** Move due scheduled tasks and retries to pending (default true). */
  scheduler?: boolean | undefined;
  /** Seconds between scheduler runs (default 1). */
  schedulerInterval?: number | undefined;
  /** Keep the next runs of every cron of the queues scheduled, and reconcile declared crons (default true). */
  cronManager?: boolean | undefined;
  /** Seconds between cron-manager runs (default 10). */
  cronInterval?: number | undefined;
  /**
   * The declared-cron config file (relative paths resolve against the working directory).
   * Absent or `null`: no declared crons — a worker in code reads no file unless told to
   * (`sheppy work` passes `sheppy.config.json` or its `--config`).
   */
  configFile?: string | null | undefined;
  /** Seconds an idle claim waits for a task before looking again (default 1; also bounds how long `close()` waits for it). */
  claimWait?: number | undefined;
  /**
   * Seconds a claimed task whose name no loaded module defines is put back for
   * other workers (with a growing delay, not counting as an attempt) before it
   * fails with `UnknownTaskError` (default 600: a rolling deploy must not lose
   * a new task to an old worker). `0` fails it at once.
   */
  unknownTaskGrace?: number | undefined;
  /** Seconds between lease renewals of running tasks (default 5). */
  heartbeatInterval?: number | undefined;
  /** Seconds without renewal after which a task's worker counts as dead (default 20). */
  leaseTimeout?: number | undefined;
  /** Seconds between scans for tasks of dead workers (default 5). */
  reclaimInterval?: number | undefined;
  /** Seconds between sweeps that delete finished records whose `ttl`/`errorTtl` ran out (default 60; reads never see them anyway). */
  expiryInterval?: number | undefined;
  /**
   * Stop gracefully on SIGINT/SIGTERM; a second signal forces. Once a signal's
   * shutdown has put running tasks back, the process ends (exit code 128 + the
   * signal's number), so their functions cannot run on beside their next
   * attempt (default false).
   */
  handleSignals?: boolean | undefined;
  /**
   * Which attempts get log lines. `"failures"` (the default): an attempt that
   * failed, `task failed; it will be retried` (warn) or `task failed` (error),
   * so a task that fails for good is never silent. `true`: every attempt, a
   * `task started` line (info) and its end, `task completed` (info) or one of
   * those two (`sheppy work` does this unless given `--no-log-tasks`); a busy
   * worker then writes two lines per task. `false`: none (the `task:*`
   * events still fire). Written inside the attempt's span, they carry its
   * `traceId`/`spanId` when the logger has `traceMixin` (see docs/observability.md).
   */
  logTasks?: boolean | "failures" | undefined;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
}

/** Every key of {@link WorkerOptions}, in documentation order (the compiler keeps it complete). */
const WORKER_OPTION_KEYS = Object.keys({
  concurrency: true,
  prefetch: true,
  shutdownTimeout: true,
  middleware: true,
  dependencyOverrides: true,
  processing: true,
  scheduler: true,
  schedulerInterval: true,
  cronManager: true,
  cronInterval: true,
  configFile: true,
  claimWait: true,
  unknownTaskGrace: true,
  heartbeatInterval: true,
  leaseTimeout: true,
  reclaimInterval: true,
  expiryInterval: true,
  handleSignals: true,
  logTasks: true,
  logger: true,
  clock: true,
} satisfies Record<keyof WorkerOptions, true>);

export interface ResolvedWorkerOptions {
  concurrency: number;
  prefetch: number;
  shutdownTimeoutMs: number;
  middleware: readonly Middleware[];
  dependencyOverrides: DependencyOverrides | undefined;
  processing: boolean;
  scheduler: boolean;
  schedulerIntervalMs: number;
  cronManager: boolean;
  cronIntervalMs: number;
  /** Absolute path, or `null` when declared crons are off. */
  configFile: string | null;
  claimWaitMs: number;
  unknownTaskGraceMs: number;
  heartbeatMs: number;
  leaseMs: number;
  reclaimMs: number;
  /**
   * How long a claim must stay expired, as the backend sees it, before a
   * reclaim takes it over: one and a half heartbeat intervals plus a second
   * (the longest a worker waits between attempts to reconnect), so after an
   * outage or a server pause of any length every live holder renews first.
   */
  reclaimConfirmMs: number;
  expiryIntervalMs: number;
  handleSignals: boolean;
  logTasks: boolean | "failures";
  logger: Logger;
  clock: Clock;
}

export function resolveWorkerOptions(options: WorkerOptions): ResolvedWorkerOptions {
  // A typo (`retries: 3`, `concurency`) must not leave a default silently in place.
  checkOptionKeys(options, WORKER_OPTION_KEYS, "Worker");
  const concurrency = positiveInteger("concurrency", options.concurrency, 10);
  const processing = flag("processing", options.processing, true);
  const scheduler = flag("scheduler", options.scheduler, true);
  const cronManager = flag("cronManager", options.cronManager, true);
  if (!processing && !scheduler && !cronManager) {
    throw new InvalidOptionError(
      "Worker has nothing to do: processing, scheduler and cron manager are all disabled",
    );
  }
  const resolved: ResolvedWorkerOptions = {
    concurrency,
    prefetch: positiveInteger("prefetch", options.prefetch, concurrency),
    shutdownTimeoutMs: seconds("shutdownTimeout", options.shutdownTimeout, 30, true),
    middleware: middlewareList(options.middleware),
    dependencyOverrides: overrides(options.dependencyOverrides),
    processing,
    scheduler,
    schedulerIntervalMs: seconds("schedulerInterval", options.schedulerInterval, 1),
    cronManager,
    cronIntervalMs: seconds("cronInterval", options.cronInterval, DEFAULT_CRON_INTERVAL_S),
    configFile: resolveConfigFile(options.configFile),
    claimWaitMs: seconds("claimWait", options.claimWait, 1),
    unknownTaskGraceMs: seconds("unknownTaskGrace", options.unknownTaskGrace, 600, true),
    heartbeatMs: seconds("heartbeatInterval", options.heartbeatInterval, 5),
    leaseMs: seconds("leaseTimeout", options.leaseTimeout, 20),
    reclaimMs: seconds("reclaimInterval", options.reclaimInterval, 5),
    reclaimConfirmMs: 0,
    expiryIntervalMs: seconds("expiryInterval", options.expiryInterval, 60),
    handleSignals: flag("handleSignals", options.handleSignals, false),
    logTasks: logTasksOption(options.logTasks),
    logger: loggerOption(options.logger, defaultLogger),
    clock: clockOption(options.clock, systemClock),
  };
  if (resolved.heartbeatMs >= resolved.leaseMs) {
    throw new InvalidOptionError(
      `Worker option heartbeatInterval (${resolved.heartbeatMs / 1000}s) must be shorter than leaseTimeout (${resolved.leaseMs / 1000}s), or live workers would lose their tasks`,
    );
  }
  resolved.reclaimConfirmMs = Math.round(resolved.heartbeatMs * 1.5) + RECONNECT_ALLOWANCE_MS;
  return resolved;
}

function resolveConfigFile(file: string | null | undefined): string | null {
  if (file === null) return null;
  if (file !== undefined && (typeof file !== "string" || file === "")) {
    throw new InvalidOptionError(
      `Worker option configFile must be a file path, or null to turn declared crons off (got ${describeGiven(file)})`,
    );
  }
  return file === undefined ? null : resolvePath(file);
}
