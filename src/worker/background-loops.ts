/**
 * @module worker/background-loops
 * Starts the loops that run beside the claim loops for the whole of a
 * `work()` call — the scheduler, the cron manager, the expiry sweeper and, on
 * backends with leases, the lease keeper — each as its options ask, and wires
 * their failures to `worker:error` events and the log. Every worker also
 * keeps itself listed on its queues (`./presence.ts`). They end when the
 * run's `background` signal aborts.
 */
import { systemClock } from "../clock.js";
import { runCronManager } from "./cron-manager.js";
import { DeclaredCrons } from "./declared-crons.js";
import { runExpirySweeper } from "./expiry-sweeper.js";
import { cancelledAmong } from "./flights.js";
import { runLeaseKeeper } from "./lease-keeper.js";
import { runPresence } from "./presence.js";
import { settleExpired } from "./reclaim.js";
import { runScheduler } from "./scheduler.js";
import type { WorkRun } from "./work-run.js";
import type { WorkerContext } from "./worker-context.js";

/** The loops a `work()` call started. */
export interface BackgroundLoops {
  /** Settle once the loops have ended. */
  readonly loops: Promise<void>[];
  /**
   * Settles once the scheduler's first look has ended (at once without a
   * scheduler): tasks that fell due while no worker ran are claimable by then,
   * so the first claims weigh them by priority beside the pending ones instead
   * of taking lower-priority tasks before them.
   */
  readonly firstLook: Promise<void>;
  /**
   * Settles once the worker's first announcement of itself has ended: from
   * then on, tools listing a queue's workers see it.
   */
  readonly announced: Promise<void>;
}

/** Starts the background loops `context.options` asks for. */
export function startBackgroundLoops(context: WorkerContext, run: WorkRun): BackgroundLoops {
  const { queues, options } = context;
  const { logger, clock } = options;
  const signal = run.background.signal;
  /** A periodic loop's failure handler: one event per failure, one warning per outage. */
  const reportFailures =
    (during: string, warning: string) =>
    (error: unknown, first: boolean): void => {
      context.health.failing(during, null, error);
      context.events.emit("worker:error", { error, during });
      if (first) logger.warn({ err: error }, warning);
    };
  const recovered = (during: string, line: string) => () => {
    context.health.working(during, null);
    logger.warn(line);
  };
  const loops: Promise<void>[] = [];
  let firstLook = Promise.resolve();
  if (options.scheduler) {
    let looked!: () => void;
    firstLook = new Promise<void>((resolve) => {
      looked = resolve;
    });
    const { dueAlarm } = context;
    // A task scheduled through one of the worker's queues wakes the scheduler when it falls due.
    const unlisten = queues.map((queue) => queue.onScheduled((at) => dueAlarm.due(at)));
    loops.push(
      runScheduler({
        queues,
        clock,
        intervalMs: options.schedulerIntervalMs,
        signal,
        alarm: dueAlarm,
        onError: reportFailures(
          "scheduler",
          "scheduler calls to the backend fail; retrying with backoff",
        ),
        onRecovered: recovered("scheduler", "scheduler calls to the backend work again"),
        onFirstTick: looked,
      }).finally(() => {
        looked();
        for (const stop of unlisten) stop();
      }),
    );
  }
  if (options.cronManager) {
    const { configFile } = options;
    loops.push(
      runCronManager({
        queues,
        clock,
        intervalMs: options.cronIntervalMs,
        signal,
        declared: configFile === null ? undefined : new DeclaredCrons(configFile, queues, logger),
        logger,
        onError: reportFailures(
          "cron manager",
          "cron manager calls to the backend fail; retrying with backoff",
        ),
        onRecovered: recovered("cron manager", "cron manager calls to the backend work again"),
      }),
    );
  }
  loops.push(
    runExpirySweeper({
      queues,
      clock,
      intervalMs: options.expiryIntervalMs,
      signal,
      onError: reportFailures("expiry", "cannot delete expired records; will try again"),
      onRecovered: recovered("expiry", "deleting expired records works again"),
    }),
  );
  if (options.processing) loops.push(startLeaseKeeper(context, run));
  let announce!: () => void;
  const announced = new Promise<void>((resolve) => {
    announce = resolve;
  });
  loops.push(
    runPresence({
      queues,
      options,
      flights: context.flights,
      signal,
      // Not a health problem: a worker that cannot say it runs still runs its tasks, and a probe
      // restarting it for that would stop them (a backend that is down fails its claims anyway).
      onError: (error, first) => {
        context.events.emit("worker:error", { error, during: "presence" });
        if (first) {
          logger.warn(
            { err: error },
            "cannot announce this worker to the backend (worker list will not show it); will try again at the next heartbeat",
          );
        }
      },
      onRecovered: () => logger.warn("this worker's announcements reach the backend again"),
      onFirstAnnouncement: announce,
      state: () =>
        run.stop.signal.aborted ? "stopping" : context.gate.paused ? "paused" : "running",
      changed: context.presenceChanged,
    }).finally(announce),
  );
  return { loops, firstLook, announced };
}

function startLeaseKeeper(context: WorkerContext, run: WorkRun): Promise<void> {
  const { queues, options, flights, events } = context;
  const { logger } = options;
  return runLeaseKeeper({
    // Every queue's claims are renewed, so a worker hears of a task cancelled (or deleted) while it
    // runs; only backends with leases have claims of dead workers to take over.
    queues,
    reclaimQueues: queues.filter((q) => q.backend.capabilities.leases),
    // Leases are a matter of real time (the server's), whatever clock the tasks see.
    clock: systemClock,
    heartbeatMs: options.heartbeatMs,
    reclaimMs: options.reclaimMs,
    leaseMs: options.leaseMs,
    confirmMs: options.reclaimConfirmMs,
    signal: run.background.signal,
    claimsIn: (queue) => flights.claimsIn(queue),
    onLost: (queue, claims) => {
      const running = flights.markLost(queue, claims);
      if (running.length === 0) return;
      // Which were cancelled while they ran: their signal says so, and that is no fault to warn of.
      void cancelledAmong(queue, running).then((cancelled) => {
        flights.interruptLost(queue, running, cancelled);
        const taken = [...new Set(running.map((r) => r.id))].filter((id) => !cancelled.has(id));
        if (cancelled.size > 0) {
          logger.info(
            { queue: queue.name, tasks: [...cancelled] },
            "running tasks were cancelled; their signal fired, and their outcomes will be discarded",
          );
        }
        if (taken.length === 0) return;
        logger.warn(
          { queue: queue.name, tasks: taken },
          "running tasks are no longer this worker's: another worker took them over (their claims were not renewed in time), they were deleted or their queue cleared, or the backend lost what it held (a server restarted without its data); their outcomes will be discarded",
        );
      });
    },
    onExpired: (queue, claims) => settleExpired(context, queue, claims, run),
    onError: (error, during, first) => {
      context.health.failing(during, null, error);
      events.emit("worker:error", { error, during });
      // Once per streak: an outage would otherwise log a line at every heartbeat.
      if (first) logger.warn({ err: error, during }, "lease upkeep failed; will try again");
    },
    onRecovered: (during) => {
      context.health.working(during, null);
      logger.warn({ during }, "lease upkeep works again");
    },
    onStall: (stalledMs) => {
      const held = queues.flatMap((queue) =>
        flights.claimsIn(queue).map((claim) => ({ queue: queue.name, taskId: claim.id })),
      );
      const blocked = `this worker's event loop was blocked (or the process paused) for ${(stalledMs / 1000).toFixed(1)} s: a task running synchronous code holds every other task, timer and lease renewal of the process (run CPU-bound work as a sandbox: true task)`;
      // A takeover needs a claim unrenewed for a whole lease: a shorter block lost nothing yet.
      if (stalledMs < options.leaseMs) {
        logger.warn(
          { stalledMs: Math.round(stalledMs), tasks: held },
          `${blocked}; it stayed within the ${options.leaseMs / 1000} s lease, so no claim was taken over`,
        );
        return;
      }
      logger.error(
        { stalledMs: Math.round(stalledMs), tasks: held },
        `${blocked}; claims not renewed in time may have been taken over by another worker, and their outcomes here will be discarded`,
      );
    },
  });
}
