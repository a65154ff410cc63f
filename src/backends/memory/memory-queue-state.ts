/**
 * @module backends/memory/memory-queue-state
 * Everything the memory backend holds for one queue. Pending is an insertion-
 * FIFO set (O(1) removal on cancel); due times live in a heap
 * with an index, so a cancelled or re-queued entry is skipped, not searched for.
 */
import type { TaskData } from "../../task/task-record.js";
import { expiryOf, type RetentionDefaults } from "../../task/ttl.js";
import { FifoSet } from "../../util/fifo-set.js";
import { MinHeap } from "../../util/min-heap.js";
import { Waiters } from "../../util/waiters.js";
import { newRateWindowState, type RateWindowState } from "../../worker/rate-limit.js";
import type { CronData } from "../backend.js";
import { MemoryWorkflows } from "./memory-workflows.js";

/** Ids by a time (due time of scheduled tasks; expiry of finished records); an entry whose sequence number no longer matches the index is stale. */
export class DueIndex {
  readonly #heap = new MinHeap<{ id: string; seq: number }>();
  readonly #entries = new Map<string, { at: number; seq: number }>();
  #seq = 0;

  get size(): number {
    return this.#entries.size;
  }

  has(id: string): boolean {
    return this.#entries.has(id);
  }

  add(id: string, at: number): void {
    const seq = ++this.#seq;
    this.#entries.set(id, { at, seq });
    this.#heap.push(at, { id, seq });
  }

  delete(id: string): boolean {
    const had = this.#entries.delete(id);
    // Deleted entries stay in the heap until popped; once nothing is indexed, drop them all.
    if (had && this.#entries.size === 0) this.#heap.clear();
    return had;
  }

  /** The time `id` is indexed for, if it is. */
  at(id: string): number | undefined {
    return this.#entries.get(id)?.at;
  }

  /** Removes and returns the ids due by `now`, earliest first. */
  takeDue(now: number): string[] {
    const due: string[] = [];
    for (;;) {
      const at = this.#heap.peekKey();
      if (at === undefined || at > now) break;
      const { id, seq } = this.#heap.pop()!;
      if (this.#entries.get(id)?.seq !== seq) continue;
      this.#entries.delete(id);
      due.push(id);
    }
    return due;
  }

  /** Earliest due time still indexed (may be a stale heap entry's; callers only use it to set a wake-up). */
  nextDue(): number | undefined {
    return this.#heap.peekKey();
  }

  /** Ids with due times, earliest first. */
  ordered(): string[] {
    return [...this.#entries.entries()].sort((a, b) => a[1].at - b[1].at).map(([id]) => id);
  }

  clear(): void {
    this.#entries.clear();
    this.#heap.clear();
  }
}

export class MemoryQueueState {
  readonly tasks = new Map<string, TaskData>();
  readonly pending = new FifoSet();
  readonly due = new DueIndex();
  /** Finished ids by the time their record expires (only records that expire are indexed). */
  readonly expires = new DueIndex();
  /** Claimed ids → time of the last claim or heartbeat. */
  readonly processing = new Map<string, number>();
  readonly crons = new Map<string, CronData>();
  readonly workflows = new MemoryWorkflows();
  readonly rateLimits = new Map<string, RateWindowState>();
  /** Waiting `pop` calls. */
  readonly claimable = new Waiters();
  /** Waiting `getResults` calls. */
  readonly finished = new Waiters();

  /** Takes the id out of pending, due, processing and the expiry index (a re-queued record loses its expiry, TTL-12). */
  unlink(id: string): void {
    // A claimed id is never pending or due as well: storing a claimed task's outcome skips two lookups.
    if (!this.processing.delete(id)) {
      this.pending.delete(id);
      this.due.delete(id);
    }
    if (this.expires.size > 0) this.expires.delete(id);
  }

  /** Removes every record, cron and rate-limit window (workflows stay); returns how many records and crons there were. */
  clear(): number {
    const removed = this.tasks.size + this.crons.size;
    this.tasks.clear();
    this.pending.clear();
    this.due.clear();
    this.processing.clear();
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

  /** Indexes a record finished at `now` for deletion when its retention runs out (a record kept forever is not indexed). */
  trackExpiry(record: TaskData, retention: RetentionDefaults, now: number): void {
    const expiresAt = expiryOf(record, retention, now);
    if (expiresAt !== null) this.expires.add(record.id, expiresAt);
  }

  /** Deletes the records whose expiry is due by `now`; returns how many. */
  expire(now: number): number {
    if (this.expires.size === 0) return 0;
    let removed = 0;
    for (const id of this.expires.takeDue(now)) if (this.tasks.delete(id)) removed++;
    return removed;
  }

  /** Whether `id`'s record has expired by `now` (it may not have been pruned yet). */
  isExpired(id: string, now: number): boolean {
    const at = this.expires.size > 0 ? this.expires.at(id) : undefined;
    return at !== undefined && at <= now;
  }
}
