/**
 * @module util/fifo-set
 * A FIFO queue of unique ids with O(1) push, shift, membership and removal
 * anywhere (a removed id is skipped when the head reaches it). A plain `Set`
 * would do the same, but iterating it from the front after many deletions
 * walks over every deleted slot until it rehashes — a hot spot for a queue.
 */
export class FifoSet implements Iterable<string> {
  #items: string[] = [];
  #head = 0;
  /** Absolute position of `#items[0]`. */
  #base = 0;
  /** Live ids → absolute position (a stale copy of an id at another position is skipped). */
  readonly #live = new Map<string, number>();

  get size(): number {
    return this.#live.size;
  }

  has(id: string): boolean {
    return this.#live.has(id);
  }

  /** Appends `id` at the back; an id already queued keeps its place. */
  add(id: string): void {
    if (this.#live.has(id)) return;
    this.#live.set(id, this.#base + this.#items.length);
    this.#items.push(id);
  }

  delete(id: string): boolean {
    return this.#live.delete(id);
  }

  /** Removes and returns the oldest id. */
  shift(): string | undefined {
    const items = this.#items;
    while (this.#head < items.length) {
      const position = this.#base + this.#head;
      const id = items[this.#head++]!;
      if (this.#live.get(id) === position) {
        this.#live.delete(id);
        this.#compact();
        return id;
      }
    }
    this.#compact();
    return undefined;
  }

  #compact(): void {
    if (this.#head < 1024 || this.#head * 2 < this.#items.length) return;
    this.#items = this.#items.slice(this.#head);
    this.#base += this.#head;
    this.#head = 0;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
    this.#base = 0;
    this.#live.clear();
  }

  /** Live ids, oldest first. */
  *[Symbol.iterator](): Iterator<string> {
    for (let i = this.#head; i < this.#items.length; i++) {
      const id = this.#items[i]!;
      if (this.#live.get(id) === this.#base + i) yield id;
    }
  }
}
