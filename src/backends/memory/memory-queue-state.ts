/**
 * @module backends/memory/memory-queue-state
 * Everything the memory backend holds for one queue: an entry per task (its
 * record, claim, fences and expiry together, so the hot path of a task —
 * claim, settle, expire — touches one map entry, not one per index), the
 * claimable FIFO, the due index, the expiry queue, crons, rate-limit windows,
 * and who listens for finished tasks. Every entry leaves through
 * {@link MemoryQueueState.remove} or the expiry sweep, so no index keeps an
 * id its entry has gone from for longer than it takes to skip it.
 */
import { ERROR_STATUSES, type TaskData, type TaskStatus } from "../../task/task-record.js";
import { TimeQueue } from "../../util/time-queue.js";
import { Waiters } from "../../util/waiters.js";
import type { CronData, RetentionSettings } from "../backend.js";

/** The count bounds of finished records: of the completed ones, and of the others. */
export type CountBounds = Pick<RetentionSettings, "maxFinished" | "maxFailed">;

import type { DedupeSlot } from "../dedupe-decision.js";
import { newRateWindowState, type RateWindowState } from "../rate-window.js";
import { creationTimeOf } from "../task-listing.js";
import { CreationIndex } from "./memory-creation-index.js";
import { DueIndex } from "./memory-due-index.js";
import { type Prioritized, PriorityClaimableQueue } from "./memory-priority-queue.js";
import { MemoryWorkflows } from "./memory-workflows.js";

/** The newest fence handed out in this process, over every queue and backend instance. */
let lastFence = 0;

/** What the memory backend keeps about one task. */
export class TaskEntry implements Prioritized {
  /** The ticket of its place among the claimable tasks; 0 while it is not claimable. */
  queueTicket = 0;
  /** The priority whose FIFO holds it while claimable. */
  queueLevel = 0;
  /** The fence of the claim held now; 0 while the task is not claimed. */
  claimFence = 0;
  /** When the claim held now was last renewed (the backend's clock). */
  renewedAt = 0;
  /** The lease its holder claimed it under (ms); 0 when not told (the reclaimer's own counts). */
  leaseMs = 0;
  /** The fence whose settle was written last; 0 before the first. */
  settledFence = 0;
  /** When the finished record expires; `null` when it is kept (or not finished). */
  expiresAt: number | null = null;
  /** The records it is bounded among while it has an `expiresAt` (completed ones, or failed, crashed and cancelled ones). */
  expiring: ExpiringRecords | null = null;
  /** Its concurrency key's slot: `taken` while claimable or claimed, `held` while waiting for one, `null` without. */
  slot: "taken" | "held" | null = null;
  /** The creation time its id is listed under (see `./memory-creation-index.ts`); set when stored. */
  listedAt: number;

  constructor(public record: TaskData) {
    this.listedAt = creationTimeOf(record);
  }

  /** The priority it is claimed by: its record's. */
  get claimPriority(): number {
    return this.record.priority;
  }

  /**
   * The next fence to hand out: one no claim of any task of this process was
   * given before — not even of an earlier record under the same id (deleted,
   * or cleared, and added again), whose holder may still be running and must
   * not match the new claim. A claim always holds its task's newest fence.
   */
  takeFence(): number {
    lastFence = Math.max(lastFence, this.claimFence, this.settledFence) + 1;
    return lastFence;
  }
}

/**
 * The finished records of one kind (completed, or ended otherwise) that
 * expire, by the time they do: each kind is bounded on its own
 * (`maxFinished`, `maxFailed`), so a run of failures never deletes the results of the tasks that
 * completed, nor a run of successes the failures.
 */
class ExpiringRecords {
  /** By expiry (stale once the entry's `expiresAt` or `expiring` differs). */
  readonly queue = new TimeQueue<TaskEntry>();
  count = 0;
}

/** One concurrency key's slots: how many its claimable and claimed tasks take, and the tasks held for one, oldest first. */
class KeySlots {
  taken = 0;
  /** A set keeps insertion order and deletes in O(1): a cancelled held task leaves from anywhere. */
  readonly held = new Set<TaskEntry>();
}

export class MemoryQueueState {
  readonly entries = new Map<string, TaskEntry>();
  /** Claimable tasks, oldest first. */
  readonly pending = new PriorityClaimableQueue<TaskEntry>();
  readonly due = new DueIndex();
  /** Ids by creation time, for `listTasks`; an entry is live while the task's `listedAt` matches it. */
  readonly created = new CreationIndex();
  /** Completed entries that expire, and entries that failed, crashed or were cancelled and expire. */
  readonly #completed = new ExpiringRecords();
  readonly #errors = new ExpiringRecords();
  /** Entries claimed right now, by task id. */
  readonly claims = new Map<string, TaskEntry>();
  /** Expired claims a reclaim has noted: the renewal it saw, and when it saw it. */
  readonly expiredSeen = new Map<string, { renewedAt: number; at: number }>();
  readonly crons = new Map<string, CronData>();
  readonly workflows = new MemoryWorkflows();
  readonly rateLimits = new Map<string, RateWindowState>();
  /** Concurrency keys with a slot taken or a task held, by key. */
  readonly keySlots = new Map<string, KeySlots>();
  /** How many tasks are held for their key's slot, over every key. */
  heldSize = 0;
  /** A held task was made claimable since the last {@link takeAdmitted}. */
  #admitted = false;
  /** Dedupe keys and the tasks holding them (see `./memory-dedupe.ts`). */
  readonly dedupe = new Map<string, DedupeSlot>();
  /** Waiting `claim` calls. */
  readonly claimable = new Waiters();
  /** `watchFinished` listeners. */
  readonly finishedListeners = new Set<(ids: readonly string[]) => void>();

  /** Stores `record` under its id: in the existing entry (its fences kept), or a new one. */
  put(record: TaskData): TaskEntry {
    let entry = this.entries.get(record.id);
    if (!entry) {
      entry = new TaskEntry(record);
      this.entries.set(record.id, entry);
    } else {
      this.unlink(record.id, entry);
      entry.record = record;
      entry.listedAt = creationTimeOf(record);
    }
    this.created.add(record.id, entry.listedAt);
    this.compactCreated();
    return entry;
  }

  /**
   * Makes `entry` claimable, if its concurrency key (if any) has a free
   * slot; otherwise holds it behind the key's other held tasks. Returns
   * whether it is claimable now.
   */
  enqueue(entry: TaskEntry): boolean {
    const key = entry.record.concurrencyKey;
    if (key !== null) {
      let slots = this.keySlots.get(key);
      if (!slots) {
        slots = new KeySlots();
        this.keySlots.set(key, slots);
      }
      if (slots.held.size > 0 || slots.taken >= (entry.record.concurrencyLimit ?? 1)) {
        entry.slot = "held";
        slots.held.add(entry);
        this.heldSize++;
        return false;
      }
      slots.taken++;
      entry.slot = "taken";
    }
    this.pending.add(entry);
    return true;
  }

  /** Frees what `entry` holds of its concurrency key, giving a freed slot to the key's oldest held task. */
  #leaveSlot(entry: TaskEntry): void {
    const key = entry.record.concurrencyKey;
    const slots = key === null ? undefined : this.keySlots.get(key);
    const slot = entry.slot;
    entry.slot = null;
    if (!slots || slot === null) return;
    if (slot === "held") {
      slots.held.delete(entry);
      this.heldSize--;
    } else slots.taken--;
    for (const next of slots.held) {
      if (slots.taken >= (next.record.concurrencyLimit ?? 1)) break;
      slots.held.delete(next);
      this.heldSize--;
      slots.taken++;
      next.slot = "taken";
      this.pending.add(next);
      this.#admitted = true;
    }
    if (slots.taken <= 0 && slots.held.size === 0) this.keySlots.delete(key!);
  }

  /** Whether a held task became claimable since the last call (its waiters are to be woken). */
  takeAdmitted(): boolean {
    const admitted = this.#admitted;
    this.#admitted = false;
    return admitted;
  }

  /** Whether `entry` waits to be claimed: claimable, or held for its key's slot. */
  isWaitingForClaim(entry: TaskEntry): boolean {
    return entry.slot === "held" || this.pending.has(entry);
  }

  /** Whether the creation index entry (`id`, `at`) still lists a live task. */
  isListed(id: string, at: number): boolean {
    return this.entries.get(id)?.listedAt === at;
  }

  /** Drops stale creation index entries once they could make up most of it, so the work is amortised. */
  compactCreated(): void {
    if (this.created.length > 2 * this.entries.size + 1024) {
      this.created.compact((id, at) => this.isListed(id, at));
    }
  }

  /** Takes `entry` (of `id`) out of every index; it stays stored: claimed, pending, due, expiring. */
  unlink(id: string, entry: TaskEntry): void {
    if (entry.slot !== null) this.#leaveSlot(entry);
    if (entry.claimFence !== 0) {
      // A claimed record is not pending, due or finished: settling one skips those lookups.
      this.claims.delete(id);
      entry.claimFence = 0;
      if (this.expiredSeen.size > 0) this.expiredSeen.delete(id);
      return;
    }
    if (!this.pending.delete(entry)) this.due.delete(id);
    // Its place in the expiry queue goes stale and is skipped when it surfaces.
    if (entry.expiring !== null) {
      entry.expiring.count--;
      entry.expiring = null;
      entry.expiresAt = null;
    }
  }

  /** Makes `entry` (finished, now with `status`) expire at `at`. */
  expireAt(entry: TaskEntry, at: number, status: TaskStatus): void {
    const records = ERROR_STATUSES.has(status) ? this.#errors : this.#completed;
    if (entry.expiring !== null) entry.expiring.count--;
    records.count++;
    entry.expiring = records;
    entry.expiresAt = at;
    records.queue.push(at, entry);
  }

  /** Marks `entry` (of `id`) claimed under `fence` since `now`. */
  hold(id: string, entry: TaskEntry, fence: number, now: number, leaseMs = 0): void {
    entry.claimFence = fence;
    entry.renewedAt = now;
    entry.leaseMs = leaseMs;
    this.claims.set(id, entry);
  }

  /** Deletes a task and everything kept about it. */
  remove(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.unlink(id, entry);
    return this.entries.delete(id);
  }

  /** Removes every record, workflow, cron and rate-limit window; returns how many records, workflows and crons there were. */
  clear(): number {
    const removed = this.entries.size + this.crons.size + this.workflows.entries.size;
    this.workflows.entries.clear();
    this.entries.clear();
    this.created.clear();
    this.pending.clear();
    this.due.clear();
    this.claims.clear();
    this.expiredSeen.clear();
    for (const records of [this.#completed, this.#errors]) {
      records.queue.clear();
      records.count = 0;
    }
    this.crons.clear();
    this.rateLimits.clear();
    this.keySlots.clear();
    this.heldSize = 0;
    this.dedupe.clear();
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
    let removed = 0;
    for (const records of [this.#completed, this.#errors]) {
      while (records.count > 0) {
        const at = records.queue.peekAt();
        if (at === undefined || at > now) break;
        if (this.#dropExpiring(records, at)) removed++;
      }
    }
    return removed;
  }

  /**
   * Deletes the soonest-expiring finished records beyond their bound
   * (`null`: none): the completed ones beyond `maxFinished`, the others
   * beyond `maxFailed`.
   */
  bound(bounds: CountBounds): void {
    const kinds = [
      [this.#completed, bounds.maxFinished],
      [this.#errors, bounds.maxFailed],
    ] as const;
    for (const [records, max] of kinds) {
      if (max === null) continue;
      while (records.count > max) this.#dropExpiring(records, records.queue.peekAt()!);
    }
  }

  /**
   * Takes the earliest entry (due `at`) out of `records`' expiry queue and
   * deletes its task if it is still live there. A live one is finished, so in
   * no other index: only its entry goes.
   */
  #dropExpiring(records: ExpiringRecords, at: number): boolean {
    const entry = records.queue.pop()!;
    // An entry deleted or re-queued since was unlinked: its expiresAt no longer matches.
    if (entry.expiresAt !== at || entry.expiring !== records) return false;
    entry.expiresAt = null;
    entry.expiring = null;
    records.count--;
    return this.entries.delete(entry.record.id);
  }

  /** Whether `entry`'s record has expired by `now` (it may not have been pruned yet). */
  isExpired(entry: TaskEntry, now: number): boolean {
    return entry.expiresAt !== null && entry.expiresAt <= now;
  }

  /** Tells `watchFinished` listeners that `ids` finished (none: "look again"). */
  announceFinished(ids: readonly string[]): void {
    if (this.finishedListeners.size === 0) return;
    for (const listener of [...this.finishedListeners]) listener(ids);
  }
}
