/**
 * @module backends/memory/memory-queue-state
 * Everything the memory backend holds for one queue: records by id, the
 * claimable FIFO, due and expiry indexes, claims with their fences, crons,
 * rate-limit windows, and who listens for finished tasks. Every record
 * leaves through {@link MemoryQueueState.remove}, so no index keeps an id
 * its record has gone from.
 */
import type { TaskData } from "../../task/task-record.js";
import { FifoSet } from "../../util/fifo-set.js";
import { Waiters } from "../../util/waiters.js";
import type { CronData } from "../backend.js";
import { newRateWindowState, type RateWindowState } from "../rate-window.js";
import { DueIndex } from "./memory-due-index.js";

/** A claim held right now: its fence and when it was last renewed (the backend's clock). */
export interface HeldClaim {
  readonly fence: number;
  renewedAt: number;
}

/** Fences of one task: the last one handed out, and the one whose settle was written last. */
export interface Fences {
  issued: number;
  settled: number;
}

export class MemoryQueueState {
  readonly tasks = new Map<string, TaskData>();
  readonly pending = new FifoSet();
  readonly due = new DueIndex();
  /** Finished ids by the time their record expires (only records that expire are indexed). */
  readonly expires = new DueIndex();
  /** Claims held right now, by task id. */
  readonly claims = new Map<string, HeldClaim>();
  /** Fences per task id (made on the first claim). */
  readonly fences = new Map<string, Fences>();
  /** Expired claims a reclaim has noted: the renewal it saw, and when it saw it. */
  readonly expiredSeen = new Map<string, { renewedAt: number; at: number }>();
  readonly crons = new Map<string, CronData>();
  readonly rateLimits = new Map<string, RateWindowState>();
  /** Waiting `claim` calls. */
  readonly claimable = new Waiters();
  /** `watchFinished` listeners. */
  readonly finishedListeners = new Set<(ids: readonly string[]) => void>();

  /** Takes `id` out of every index (its record stays): pending, due, claimed, expiring. */
  unlink(id: string): void {
    // A claimed id is never pending or due as well: settling a claimed task skips two lookups.
    if (!this.claims.delete(id)) {
      this.pending.delete(id);
      this.due.delete(id);
    }
    if (this.expires.size > 0) this.expires.delete(id);
    if (this.expiredSeen.size > 0) this.expiredSeen.delete(id);
  }

  /** Deletes a record and everything kept about it. */
  remove(id: string): boolean {
    this.unlink(id);
    this.fences.delete(id);
    return this.tasks.delete(id);
  }

  /** Removes every record, cron and rate-limit window; returns how many records and crons there were. */
  clear(): number {
    const removed = this.tasks.size + this.crons.size;
    this.tasks.clear();
    this.pending.clear();
    this.due.clear();
    this.claims.clear();
    this.fences.clear();
    this.expiredSeen.clear();
    this.expires.clear();
    this.crons.clear();
    this.rateLimits.clear();
    return removed;
  }

  /** The rate-limit window of `key`, created empty on first use. */
  rateWindow(key: string): RateWindowState {
    let window = this.rateLimits.get(key);
    if (!window) {
      window = newRateWindowState();
      this.rateLimits.set(key, window);
    }
    return window;
  }

  /** Deletes the records whose expiry is due by `now`; returns how many. */
  expire(now: number): number {
    if (this.expires.size === 0) return 0;
    let removed = 0;
    for (const id of this.expires.takeDue(now)) if (this.remove(id)) removed++;
    return removed;
  }

  /** Deletes the soonest-expiring finished records beyond `max` (`null`: no bound). */
  bound(max: number | null): void {
    if (max === null || this.expires.size <= max) return;
    for (const id of this.expires.takeEarliest(this.expires.size - max)) this.remove(id);
  }

  /** Whether `id`'s record has expired by `now` (it may not have been pruned yet). */
  isExpired(id: string, now: number): boolean {
    const at = this.expires.size > 0 ? this.expires.at(id) : undefined;
    return at !== undefined && at <= now;
  }

  /** Tells `watchFinished` listeners that `ids` finished (none: "look again"). */
  announceFinished(ids: readonly string[]): void {
    if (this.finishedListeners.size === 0) return;
    for (const listener of [...this.finishedListeners]) listener(ids);
  }
}
