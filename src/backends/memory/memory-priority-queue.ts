/**
 * @module backends/memory/memory-priority-queue
 * The claimable tasks of one in-memory queue in claim order: the highest
 * priority first, oldest first within one priority. One FIFO
 * (`./memory-claimable-queue.ts`) per priority in use, and the priorities
 * in use kept sorted, so adding, taking and removing stay O(1) apart from
 * the rare first task of a new priority.
 */
import { ClaimableQueue, type Queueable } from "./memory-claimable-queue.js";

/** What the queue needs of an entry: its place in a FIFO, its priority, and which FIFO it is in. */
export interface Prioritized extends Queueable {
  /** The priority it is claimed by (higher first). */
  readonly claimPriority: number;
  /** The priority of the FIFO holding it while queued. */
  queueLevel: number;
}

export class PriorityClaimableQueue<T extends Prioritized> implements Iterable<T> {
  readonly #levels = new Map<number, ClaimableQueue<T>>();
  /** Priorities with a FIFO, highest first. */
  #order: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(entry: T): boolean {
    return entry.queueTicket !== 0;
  }

  /** Appends `entry` at the back of its priority; an entry already queued keeps its place. */
  add(entry: T): void {
    if (entry.queueTicket !== 0) return;
    const level = entry.claimPriority;
    let fifo = this.#levels.get(level);
    if (!fifo) {
      fifo = new ClaimableQueue<T>();
      this.#levels.set(level, fifo);
      this.#order.push(level);
      this.#order.sort((a, b) => b - a);
    }
    fifo.add(entry);
    entry.queueLevel = level;
    this.#size++;
  }

  delete(entry: T): boolean {
    const fifo = this.#levels.get(entry.queueLevel);
    if (!fifo?.delete(entry)) return false;
    this.#size--;
    return true;
  }

  /** Removes and returns the next entry to claim. */
  shift(): T | undefined {
    for (const level of this.#order) {
      const entry = this.#levels.get(level)!.shift();
      if (entry !== undefined) {
        this.#size--;
        this.#drop();
        return entry;
      }
    }
    this.#drop();
    return undefined;
  }

  /** Empties the queue (its entries' tickets are cleared too). */
  clear(): void {
    for (const fifo of this.#levels.values()) fifo.clear();
    this.#levels.clear();
    this.#order = [];
    this.#size = 0;
  }

  /** Queued entries in claim order. */
  *[Symbol.iterator](): Iterator<T> {
    for (const level of this.#order) yield* this.#levels.get(level)!;
  }

  /** Forgets the FIFOs of priorities no longer in use, keeping the default one. */
  #drop(): void {
    if (this.#order.length === 1) return;
    for (const level of this.#order) {
      if (level !== 0 && this.#levels.get(level)!.size === 0) this.#levels.delete(level);
    }
    if (this.#levels.size !== this.#order.length) {
      this.#order = this.#order.filter((level) => this.#levels.has(level));
    }
  }
}
