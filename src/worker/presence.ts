/**
 * @module worker/presence
 * Keeps a running worker listed on each of its queues (`queue.workers()`,
 * `sheppy worker list`, the dashboard): it announces itself at once and then
 * every heartbeat, saying what it holds there, and withdraws when its run
 * ends. An announcement lapses after the longer of a lease and three
 * heartbeats, so a worker that was killed drops out by itself in about the
 * time its tasks take to be taken over. Backends without a worker directory
 * are skipped; a failed announcement is reported (`onError`) and tried
 * again at the next heartbeat.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { systemClock } from "../clock.js";
import {
  encodeWorkerAnnouncement,
  hasWorkerDirectory,
  type WorkerState,
} from "../queue/live-worker.js";
import type { Queue } from "../queue/queue.js";
import { userTaskNames } from "../task/workflow-resume-task.js";
import { VERSION } from "../util/version.js";
import type { DueAlarm } from "./due-alarm.js";
import type { Flights } from "./flights.js";
import { runPeriodically } from "./periodic-loop.js";
import type { ResolvedWorkerOptions } from "./worker-options.js";

/** How a worker keeps itself listed. */
export interface PresenceOptions {
  queues: readonly Queue[];
  options: ResolvedWorkerOptions;
  flights: Flights;
  signal: AbortSignal;
  onError: (error: unknown, first: boolean) => void;
  onRecovered: () => void;
  /** Called once the first announcement has ended (whether it worked or not), or at once when there is none to make. */
  onFirstAnnouncement: () => void;
  /** What the worker is doing now. */
  state: () => WorkerState;
  /** Told when what the worker says changes (paused, resumed, stopping): it announces at once. */
  changed: DueAlarm;
}

/** Announces until `signal` aborts, then withdraws from every queue (best effort). */
export async function runPresence(presence: PresenceOptions): Promise<void> {
  const { options, flights, signal } = presence;
  const directories = presence.queues.flatMap((queue) => {
    const backend = queue.backend;
    return hasWorkerDirectory(backend) ? [{ queue, directory: backend }] : [];
  });
  if (directories.length === 0) {
    presence.onFirstAnnouncement();
    return;
  }
  const id = randomUUID();
  const started = new Date(systemClock.now()).toISOString();
  const served = presence.queues.map((queue) => queue.name);
  const ttlMs = Math.max(options.leaseMs, options.heartbeatMs * 3);
  // The modules are loaded before a run starts; a task defined later is named from the next run.
  const tasks = userTaskNames();
  await runPeriodically(
    {
      // Presence is a matter of real time, whatever clock the tasks see.
      clock: systemClock,
      intervalMs: options.heartbeatMs,
      signal,
      onError: presence.onError,
      onRecovered: presence.onRecovered,
      onFirstTick: presence.onFirstAnnouncement,
      alarm: presence.changed,
    },
    async () => {
      const state = presence.state();
      const held = new Map(
        presence.queues.map((queue) => [queue, flights.claimsIn(queue).map((claim) => claim.id)]),
      );
      const holdingAll = [...held.values()].reduce((sum, ids) => sum + ids.length, 0);
      for (const { queue, directory } of directories) {
        const taskIds = held.get(queue) ?? [];
        const body = encodeWorkerAnnouncement({
          host: hostname(),
          pid: process.pid,
          startedAt: started,
          queues: served,
          concurrency: options.concurrency,
          state,
          holding: taskIds.length,
          holdingAll,
          taskIds,
          processing: options.processing,
          scheduler: options.scheduler,
          cronManager: options.cronManager,
          version: VERSION,
          everyMs: options.heartbeatMs,
          tasks,
          taskCount: tasks.length,
        });
        await directory.announceWorker(queue.name, id, body, ttlMs);
      }
    },
  );
  // The run is over: leave the lists now rather than a lease from now. A backend that does not
  // answer leaves the announcement to lapse; the worker's stop grace bounds the wait.
  await Promise.all(
    directories.map(({ queue, directory }) =>
      directory.withdrawWorker(queue.name, id).catch(() => undefined),
    ),
  );
}
