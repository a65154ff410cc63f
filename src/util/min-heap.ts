/**
 * @module util/min-heap
 * A binary min-heap keyed by a number: O(log n) push and pop of the smallest.
 * Used for due times (scheduled tasks, retries), expiry times and test-clock
 * timers. Keys and values live in two parallel arrays and entries move by
 * shifting a hole, not by swapping: a heap on a busy queue sees a push and a
 * pop per task, and one object per entry or per swap would be garbage.
 */
export class MinHeap<T> {
  readonly #keys: number[] = [];
  readonly #values: T[] = [];

  get size(): number {
    return this.#keys.length;
  }

  push(key: number, value: T): void {
    const keys = this.#keys;
    const values = this.#values;
    let i = keys.length;
    keys.push(key);
    values.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (keys[parent]! <= key) break;
      keys[i] = keys[parent]!;
      values[i] = values[parent]!;
      i = parent;
    }
    keys[i] = key;
    values[i] = value;
  }

  /** The smallest key, if any. */
  peekKey(): number | undefined {
    return this.#keys[0];
  }

  /** The value with the smallest key, if any (left in place). */
  peek(): T | undefined {
    return this.#values[0];
  }

  /** Removes and returns the value with the smallest key. */
  pop(): T | undefined {
    const keys = this.#keys;
    const values = this.#values;
    if (keys.length === 0) return undefined;
    const top = values[0];
    const lastKey = keys.pop()!;
    const lastValue = values.pop()!;
    const n = keys.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        const child = right < n && keys[right]! < keys[left]! ? right : left;
        if (keys[child]! >= lastKey) break;
        keys[i] = keys[child]!;
        values[i] = values[child]!;
        i = child;
      }
      keys[i] = lastKey;
      values[i] = lastValue;
    }
    return top;
  }

  clear(): void {
    this.#keys.length = 0;
    this.#values.length = 0;
  }
}
