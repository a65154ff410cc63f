/**
 * @module backends/memory/memory-due-index
 * Ids by a time — due times of waiting records, expiry times of finished
 * ones — in a heap with an index beside it, so a cancelled or re-queued entry
 * is skipped when it surfaces instead of being searched for.
 */
import { MinHeap } from "../../util/min-heap.js";

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
    return this.#take((at) => at <= now);
  }

  /** Removes and returns the `count` earliest ids. */
  takeEarliest(count: number): string[] {
    return this.#take((_, taken) => taken < count);
  }

  #take(more: (at: number, taken: number) => boolean): string[] {
    const taken: string[] = [];
    for (;;) {
      const at = this.#heap.peekKey();
      if (at === undefined || !more(at, taken.length)) break;
      const { id, seq } = this.#heap.pop()!;
      if (this.#entries.get(id)?.seq !== seq) continue;
      this.#entries.delete(id);
      taken.push(id);
    }
    return taken;
  }

  /** Earliest time still indexed (may be a stale heap entry's; callers only use it to set a wake-up). */
  nextDue(): number | undefined {
    return this.#heap.peekKey();
  }

  /** Ids with their times, earliest first. */
  ordered(): string[] {
    return [...this.#entries.entries()].sort((a, b) => a[1].at - b[1].at).map(([id]) => id);
  }

  clear(): void {
    this.#entries.clear();
    this.#heap.clear();
  }
}
