/**
 * @module backends/memory/memory-claimable-queue
 * The claimable tasks of one in-memory queue, oldest first: O(1) add, take,
 * membership and removal anywhere. It queues the tasks' entries themselves,
 * and each entry carries the ticket of its place in the queue, so taking the
 * next task needs no lookup by id; a removed entry's ticket is cleared and
 * its place is skipped when the front reaches it. (A `Set` of ids would do
 * the same, but iterating one from the front after many deletions walks
 * every deleted slot until it rehashes — a hot spot for a queue.)
 */

/** What the queue needs of an entry: the ticket of its place, 0 when not queued. */
export interface Queueable {
  queueTicket: number;
}

/** Below this many taken places the queue's front is not worth copying away. */
const COMPACT_AFTER = 1024;

export class ClaimableQueue<T extends Queueable> implements Iterable<T> {
  #items: T[] = [];
  #tickets: number[] = [];
  #head = 0;
  #nextTicket = 1;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  has(entry: T): boolean {
    return entry.queueTicket !== 0;
  }

  /** Appends `entry` at the back; an entry already queued keeps its place. */
  add(entry: T): void {
    if (entry.queueTicket !== 0) return;
    const ticket = this.#nextTicket++;
    entry.queueTicket = ticket;
    this.#items.push(entry);
    this.#tickets.push(ticket);
    this.#size++;
  }

  delete(entry: T): boolean {
    if (entry.queueTicket === 0) return false;
    entry.queueTicket = 0;
    this.#size--;
    return true;
  }

  /** Removes and returns the oldest entry. */
  shift(): T | undefined {
    const items = this.#items;
    while (this.#head < items.length) {
      const entry = items[this.#head]!;
      const ticket = this.#tickets[this.#head++]!;
      if (entry.queueTicket === ticket) {
        entry.queueTicket = 0;
        this.#size--;
        this.#compact();
        return entry;
      }
    }
    this.#compact();
    return undefined;
  }

  /** Empties the queue (its entries' tickets are cleared too). */
  clear(): void {
    for (const entry of this) entry.queueTicket = 0;
    this.#items = [];
    this.#tickets = [];
    this.#head = 0;
    this.#size = 0;
  }

  /** Queued entries, oldest first. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) {
      const entry = this.#items[i]!;
      if (entry.queueTicket === this.#tickets[i]) yield entry;
    }
  }

  #compact(): void {
    const head = this.#head;
    if (head === this.#items.length) {
      this.#items.length = 0;
      this.#tickets.length = 0;
      this.#head = 0;
      return;
    }
    if (head < COMPACT_AFTER || head * 2 < this.#items.length) return;
    this.#items = this.#items.slice(head);
    this.#tickets = this.#tickets.slice(head);
    this.#head = 0;
  }
}
