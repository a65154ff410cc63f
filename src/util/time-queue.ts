/**
 * @module util/time-queue
 * Values by a time, taken earliest first. Values that arrive in time order —
 * expiry times of records finished one after another with the same
 * retention, the common case by far — go to a plain queue and are taken in
 * O(1); only values that arrive out of order go to a heap (O(log n)). The
 * earlier of the two heads is always taken first. Removing a value is the
 * caller's business: it keeps its own record of what is live and skips stale
 * values as they come out.
 */
import { MinHeap } from "./min-heap.js";

/** Below this many taken entries the ordered queue's front is not worth copying away. */
const COMPACT_AFTER = 1024;

export class TimeQueue<T> {
  readonly #heap = new MinHeap<T>();
  #orderedAt: number[] = [];
  #orderedValues: T[] = [];
  #head = 0;

  /** Entries queued, stale ones included. */
  get size(): number {
    return this.#heap.size + this.#orderedAt.length - this.#head;
  }

  push(at: number, value: T): void {
    const last = this.#orderedAt.length - 1;
    if (last < this.#head || this.#orderedAt[last]! <= at) {
      this.#orderedAt.push(at);
      this.#orderedValues.push(value);
    } else {
      this.#heap.push(at, value);
    }
  }

  /** The earliest time queued, if any. */
  peekAt(): number | undefined {
    const fromHeap = this.#heap.peekKey();
    if (this.#head >= this.#orderedAt.length) return fromHeap;
    const ordered = this.#orderedAt[this.#head]!;
    return fromHeap === undefined || ordered <= fromHeap ? ordered : fromHeap;
  }

  /** The value with the earliest time (the one {@link pop} would take), left in place. */
  peek(): T | undefined {
    const fromHeap = this.#heap.peekKey();
    if (this.#head >= this.#orderedAt.length) return this.#heap.peek();
    const ordered = this.#orderedAt[this.#head]!;
    return fromHeap === undefined || ordered <= fromHeap
      ? this.#orderedValues[this.#head]
      : this.#heap.peek();
  }

  /** Removes and returns the value with the earliest time (the one {@link peekAt} gives). */
  pop(): T | undefined {
    const head = this.#head;
    const fromHeap = this.#heap.peekKey();
    if (
      head < this.#orderedAt.length &&
      (fromHeap === undefined || this.#orderedAt[head]! <= fromHeap)
    ) {
      const value = this.#orderedValues[head]!;
      this.#head++;
      this.#compact();
      return value;
    }
    return this.#heap.pop();
  }

  clear(): void {
    this.#heap.clear();
    this.#orderedAt = [];
    this.#orderedValues = [];
    this.#head = 0;
  }

  /** Gives the ordered queue's taken front back once it is most of the arrays. */
  #compact(): void {
    const head = this.#head;
    if (head === this.#orderedAt.length) {
      this.#orderedAt.length = 0;
      this.#orderedValues.length = 0;
      this.#head = 0;
      return;
    }
    if (head < COMPACT_AFTER || head * 2 < this.#orderedAt.length) return;
    this.#orderedAt = this.#orderedAt.slice(head);
    this.#orderedValues = this.#orderedValues.slice(head);
    this.#head = 0;
  }
}
