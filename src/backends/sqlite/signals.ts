/**
 * @module backends/sqlite/signals
 * Waking waiting claims and telling finished-listeners, without a server to
 * send notifications:
 * - Inside one process, every backend on the same file shares a hub: an add,
 *   promotion or settle that makes work claimable wakes that queue's waiting
 *   claims at once, and a settle or cancel that finishes tasks hands their
 *   ids to that queue's listeners at once; an append to a queue's event log
 *   wakes that queue's waiting event reads at once.
 * - From other processes, a backend that has waiters polls the file's change
 *   counter (`PRAGMA data_version`, which reads shared memory, no disk): every
 *   5 ms after a change, backing off to every 250 ms while nothing changes.
 *   A change wakes its waiting claims and event reads to look again, and hands listeners the
 *   ids other processes logged as finished since (`finished_log`, appended
 *   by every write that finishes tasks); a listener whose rows were trimmed
 *   before it read them is told to look again (an empty list).
 */
import type { Logger } from "../../observability/logger.js";
import type { SqliteDatabase } from "./database.js";
import { PROCESS_ORIGIN } from "./rows.js";

type FinishedListener = (ids: readonly string[]) => void;

/** Poll intervals for other processes' changes: after a change, and at most. */
const POLL_FIRST_MS = 5;
const POLL_LAST_MS = 250;

const LOG_END = "SELECT coalesce(max(seq), 0) AS seq FROM finished_log";
const LOG_START = "SELECT coalesce(min(seq), 0) AS seq FROM finished_log";
const LOG_AFTER =
  "SELECT seq, queue, ids, origin FROM finished_log WHERE seq > ? ORDER BY seq LIMIT ?";
/** Log rows read per statement. */
const LOG_BATCH = 500;

interface LogRow {
  seq: number;
  queue: string;
  ids: string;
  origin: string;
}

/** What one process shares between the backends on one file. */
class Hub {
  readonly waiters = new Map<string, Set<() => void>>();
  readonly eventWaiters = new Map<string, Set<() => void>>();
  readonly listeners = new Map<string, Set<FinishedListener>>();

  work(queue: string): void {
    wakeAll(this.waiters.get(queue));
  }

  events(queue: string): void {
    wakeAll(this.eventWaiters.get(queue));
  }

  finished(queue: string, ids: readonly string[]): void {
    for (const listener of [...(this.listeners.get(queue) ?? [])]) listener(ids);
  }
}

function wakeAll(waiting: Set<() => void> | undefined): void {
  if (waiting) for (const wake of [...waiting]) wake();
}

const hubs = new Map<string, Hub>();

function hubFor(key: string | null): Hub {
  if (key === null) return new Hub();
  let hub = hubs.get(key);
  if (!hub) {
    hub = new Hub();
    hubs.set(key, hub);
  }
  return hub;
}

function addTo<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

/** A wake-up for one waiting claim: armed before it looks, awaited after. */
export interface WorkSignal {
  /** Resolves on work for the queue (since arming), after `ms`, or when the backend disconnects. */
  wait(ms: number): Promise<void>;
  cancel(): void;
}

export class Signals {
  #hub = new Hub();
  /** This backend's own waiters and listeners (the hub holds every backend's of the file). */
  readonly #wakes = new Map<string, Set<() => void>>();
  readonly #eventWakes = new Map<string, Set<() => void>>();
  readonly #listening = new Map<string, Set<FinishedListener>>();
  /** The last row of the finished log read (while anything listens). */
  #logSeq: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #interval = POLL_FIRST_MS;
  #version: number | undefined;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly logger: Logger,
  ) {}

  /** Joins the hub of the database file (its real absolute path), or one of its own (`null`: in memory). Called at connect. */
  useFile(file: string | null): void {
    this.#hub = hubFor(file);
  }

  /** Work became claimable in `queue` (after the write committed). */
  announceWork(queue: string): void {
    this.#hub.work(queue);
  }

  /** Tasks or workflows of `queue` finished (after the write committed). */
  announceFinished(queue: string, ids: readonly string[]): void {
    if (ids.length > 0) this.#hub.finished(queue, ids);
  }

  /** Entries were appended to `queue`'s event log (after the write committed). */
  announceEvents(queue: string): void {
    this.#hub.events(queue);
  }

  workSignal(queue: string): WorkSignal {
    return this.#signal(this.#hub.waiters, this.#wakes, queue);
  }

  /** A signal for appends to `queue`'s event log. */
  eventSignal(queue: string): WorkSignal {
    return this.#signal(this.#hub.eventWaiters, this.#eventWakes, queue);
  }

  #signal(
    shared: Map<string, Set<() => void>>,
    own: Map<string, Set<() => void>>,
    queue: string,
  ): WorkSignal {
    let woken = false;
    let resolve: (() => void) | undefined;
    const wake = () => {
      woken = true;
      resolve?.();
    };
    addTo(shared, queue, wake);
    addTo(own, queue, wake);
    this.#poll();
    const remove = () => {
      removeFrom(shared, queue, wake);
      removeFrom(own, queue, wake);
    };
    return {
      cancel: () => {
        remove();
        // A wait under way ends now.
        resolve?.();
      },
      wait: (ms) =>
        new Promise<void>((done) => {
          if (woken) {
            remove();
            done();
            return;
          }
          const timer = setTimeout(() => resolve?.(), ms);
          resolve = () => {
            clearTimeout(timer);
            remove();
            done();
          };
        }),
    };
  }

  /** Calls `listener` with the ids of tasks of `queue` that finish from now on; returns the stop. */
  listenFinished(queue: string, listener: FinishedListener): () => void {
    if (this.#listening.size === 0) this.#logSeq = this.#logEnd();
    addTo(this.#hub.listeners, queue, listener);
    addTo(this.#listening, queue, listener);
    this.#poll();
    return () => {
      removeFrom(this.#hub.listeners, queue, listener);
      removeFrom(this.#listening, queue, listener);
    };
  }

  /** The backend disconnects: waiting claims and event reads end, listeners look again one last time. */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeOwn();
    for (const [queue, listeners] of [...this.#listening]) {
      for (const listener of [...listeners]) {
        listener([]);
        removeFrom(this.#hub.listeners, queue, listener);
      }
    }
    this.#listening.clear();
  }

  #logEnd(): number {
    return (this.db.statement(LOG_END).get() as { seq: number }).seq;
  }

  /** Starts polling for other processes' changes while anything waits or listens. */
  #poll(): void {
    if (this.#timer || !this.db.isConnected) return;
    // The counter as it stands before anything waits: a change after this point is seen.
    this.#version ??= this.db.dataVersion();
    this.#interval = POLL_FIRST_MS;
    this.#timer = setTimeout(() => this.#tick(), this.#interval);
    // Waiters keep their own timers; this one alone never holds the process open.
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = undefined;
    if (
      !this.db.isConnected ||
      (this.#wakes.size === 0 && this.#eventWakes.size === 0 && this.#listening.size === 0)
    )
      return;
    try {
      const version = this.db.dataVersion();
      if (version !== this.#version) {
        this.#version = version;
        this.#interval = POLL_FIRST_MS;
        this.#changed();
      } else {
        this.#interval = Math.min(this.#interval * 2, POLL_LAST_MS);
      }
    } catch (error) {
      this.logger.warn({ err: error }, "sqlite: checking the file for changes failed");
    }
    this.#timer = setTimeout(() => this.#tick(), this.#interval);
    this.#timer.unref();
  }

  /** Wakes this backend's waiting claims and event reads. */
  #wakeOwn(): void {
    for (const wakes of [...this.#wakes.values(), ...this.#eventWakes.values()]) wakeAll(wakes);
  }

  /** Another connection committed: waiting claims and event reads look again; listeners hear what other processes finished. */
  #changed(): void {
    this.#wakeOwn();
    if (this.#listening.size > 0) this.#readLog();
  }

  /** Hands listeners the ids other processes logged as finished since the last row read. */
  #readLog(): void {
    let seq = this.#logSeq ?? this.#logEnd();
    const after = this.db.statement(LOG_AFTER);
    for (;;) {
      const rows = after.all(seq, LOG_BATCH) as LogRow[];
      if (rows.length > 0 && rows[0]!.seq > seq + 1 && this.#trimmedAfter(seq)) {
        // Rows this process never read were trimmed: every listener looks again.
        for (const listeners of [...this.#listening.values()]) {
          for (const listener of [...listeners]) listener([]);
        }
      }
      for (const row of rows) {
        seq = row.seq;
        if (row.origin === PROCESS_ORIGIN) continue;
        const listeners = this.#listening.get(row.queue);
        if (!listeners) continue;
        const ids = JSON.parse(row.ids) as string[];
        for (const listener of [...listeners]) listener(ids);
      }
      if (rows.length < LOG_BATCH) break;
    }
    this.#logSeq = seq;
  }

  /** Whether rows after `seq` were trimmed (rather than never written: a write rolled back). */
  #trimmedAfter(seq: number): boolean {
    return (this.db.statement(LOG_START).get() as { seq: number }).seq > seq + 1;
  }
}
