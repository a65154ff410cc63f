/**
 * @module worker/worker-health
 * What a worker knows of its own health: the parts of its work that are
 * failing now — claiming a queue's tasks, storing outcomes, renewing leases,
 * the scheduler, the cron manager — each since when and with which error.
 * Every part reports its first failure of a streak and its recovery (the
 * moments it logs), so a look costs nothing on the paths that work.
 * `worker.health()` reads it; `sheppy work --metrics-port` serves it at
 * `/healthz`.
 */
import { describeValue } from "../task/describe-value.js";

/** One part of a worker's work that fails now. */
export interface HealthProblem {
  /** What fails: `connect` (while starting), `claim`, `settle`, `heartbeat`, `reclaim`, `scheduler`, `cron manager`, `expiry`. */
  readonly what: string;
  /** The queue it fails for; `null` for a part that serves every queue. */
  readonly queue: string | null;
  /** When it began to fail (ISO-8601). */
  readonly since: string;
  /** The latest error, as one line. */
  readonly error: string;
}

/**
 * `starting` (connecting, before `worker:started`), `ok`, `failing` (some
 * part of its work fails now: see `problems`), `stopping` (closing: no new
 * claims), `stopped` (not working).
 */
export type WorkerStatus = "starting" | "ok" | "failing" | "stopping" | "stopped";

export interface WorkerHealth {
  readonly status: WorkerStatus;
  /** Paused by `worker.pause()`: it claims no task until `resume()` (a pause is no failure: `status` stays as it is). */
  readonly paused: boolean;
  /** Tasks whose function is running now. */
  readonly running: number;
  /** How long (ms) the task running longest has run so far; 0 when none runs. A task that hangs shows here. */
  readonly longestRunningMs: number;
  /** The most that run at once (the `concurrency` option). */
  readonly concurrency: number;
  /** What fails now, oldest first; empty unless `status` is `failing` (or stopping with failures). */
  readonly problems: HealthProblem[];
}

/** Longest error line a report gives: a health answer is read by probes and people, not archived. */
const MAX_ERROR_CHARS = 500;

const errorLine = (error: unknown): string =>
  error instanceof Error
    ? describeValue(`${error.name}: ${error.message}`, MAX_ERROR_CHARS).replace(/^"|"$/g, "")
    : describeValue(error, MAX_ERROR_CHARS);

/** A problem as a health answer gives it: `error` as one bounded line, `since` as ISO-8601. */
export function healthProblem(
  what: string,
  queue: string | null,
  since: number,
  error: unknown,
): HealthProblem {
  let line: string;
  try {
    line = errorLine(error);
  } catch {
    line = "(an error that could not be described)";
  }
  return { what, queue, since: new Date(since).toISOString(), error: line };
}

/** The failures a worker's parts report, each kept until that part works again. */
export class HealthBook {
  readonly #problems = new Map<
    string,
    { what: string; queue: string | null; since: number; error: unknown }
  >();

  /** `what` (of `queue`, or of the whole worker) failed with `error`; `true` when it worked until now. */
  failing(what: string, queue: string | null, error: unknown): boolean {
    const key = `${what}\u0000${queue ?? ""}`;
    const known = this.#problems.get(key);
    if (known) known.error = error;
    else this.#problems.set(key, { what, queue, since: Date.now(), error });
    return known === undefined;
  }

  /** `what` (of `queue`) works again; `true` when it was failing until now. */
  working(what: string, queue: string | null): boolean {
    return this.#problems.size > 0 && this.#problems.delete(`${what}\u0000${queue ?? ""}`);
  }

  /** Forgets every failure (a new run starts). */
  clear(): void {
    this.#problems.clear();
  }

  get failingNow(): boolean {
    return this.#problems.size > 0;
  }

  problems(): HealthProblem[] {
    return [...this.#problems.values()]
      .sort((a, b) => a.since - b.since)
      .map(({ what, queue, since, error }) => healthProblem(what, queue, since, error));
  }
}
