/**
 * @module backends/memory/memory-due-index
 * Ids of waiting records by their due time, in a time queue with an index
 * beside it, so a cancelled or re-queued entry is skipped when it surfaces
 * instead of being searched for. A queued entry is live while the index
 * still gives its id the same time; an id removed and added again at the
 * same time leaves a copy that finds the id gone once the first is taken.
 */
import { TimeQueue } from "../../util/time-queue.js";

export class DueIndex {
  readonly #queue = new TimeQueue<string>();
  readonly #at = new Map<string, number>();

  get size(): number {
    return this.#at.size;
  }

  has(id: string): boolean {
    return this.#at.has(id);
  }

  add(id: string, at: number): void {
    this.#at.set(id, at);
    this.#queue.push(at, id);
  }

  delete(id: string): boolean {
    const had = this.#at.delete(id);
    // Deleted entries stay queued until taken; once nothing is indexed, drop them all.
    if (had && this.#at.size === 0) this.#queue.clear();
    return had;
  }

  /** Removes and returns the ids due by `now`, earliest first. */
  takeDue(now: number): string[] {
    const taken: string[] = [];
    for (;;) {
      const at = this.#queue.peekAt();
      if (at === undefined || at > now) return taken;
      const id = this.#queue.pop()!;
      if (this.#at.get(id) !== at) continue;
      this.#at.delete(id);
      taken.push(id);
    }
  }

  /** The earliest time an indexed id is due at, `undefined` when none is (stale copies dropped on the way). */
  nextAt(): number | undefined {
    for (;;) {
      const at = this.#queue.peekAt();
      if (at === undefined) return undefined;
      const id = this.#queue.peek()!;
      if (this.#at.get(id) === at) return at;
      this.#queue.pop();
    }
  }

  /** Ids with their times, earliest first. */
  ordered(): string[] {
    return [...this.#at.entries()].sort((a, b) => a[1] - b[1]).map(([id]) => id);
  }

  clear(): void {
    this.#at.clear();
    this.#queue.clear();
  }
}
