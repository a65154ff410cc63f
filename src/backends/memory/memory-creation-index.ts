/**
 * @module backends/memory/memory-creation-index
 * Task ids by creation time, oldest first, for `listTasks` (which walks it
 * backwards): two parallel arrays kept sorted by (time, id). Records are
 * mostly added newest, so an insert is mostly an append. Removal is lazy: the
 * queue's entry says under which time its id is listed, and an index entry
 * whose task is gone, or listed under another time now, is skipped when met
 * and dropped when the index is compacted.
 */
import { comparePositions, compareTaskIds, type ListPosition } from "../task-listing.js";

export class CreationIndex {
  #at: number[] = [];
  #ids: string[] = [];

  /** Index entries, stale ones included. */
  get length(): number {
    return this.#ids.length;
  }

  /** The position at index `i` (0 is the oldest). */
  at(i: number): ListPosition {
    return { at: this.#at[i]!, id: this.#ids[i]! };
  }

  /** Lists `id` under time `at`; an entry already there (left by an earlier copy of the task) is reused. */
  add(id: string, at: number): void {
    const n = this.#ids.length;
    const last = this.#at[n - 1];
    if (
      last === undefined ||
      at > last ||
      (at === last && compareTaskIds(this.#ids[n - 1]!, id) < 0)
    ) {
      this.#at.push(at);
      this.#ids.push(id);
      return;
    }
    const i = this.#lowerBound({ at, id });
    if (i < n && this.#at[i] === at && this.#ids[i] === id) return;
    this.#at.splice(i, 0, at);
    this.#ids.splice(i, 0, id);
  }

  /**
   * Index of the newest entry strictly older than `position` (`null`: the
   * newest of all); -1 when there is none.
   */
  before(position: ListPosition | null): number {
    return position === null ? this.#ids.length - 1 : this.#lowerBound(position) - 1;
  }

  /** Drops the entries `live` rejects. */
  compact(live: (id: string, at: number) => boolean): void {
    const at: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < this.#ids.length; i++) {
      if (!live(this.#ids[i]!, this.#at[i]!)) continue;
      at.push(this.#at[i]!);
      ids.push(this.#ids[i]!);
    }
    this.#at = at;
    this.#ids = ids;
  }

  clear(): void {
    this.#at = [];
    this.#ids = [];
  }

  /** Index of the first entry not older than `position`. */
  #lowerBound(position: ListPosition): number {
    let lo = 0;
    let hi = this.#ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePositions(this.at(mid), position) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
