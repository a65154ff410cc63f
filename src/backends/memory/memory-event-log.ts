/**
 * @module backends/memory/memory-event-log
 * One queue's event log in memory: the newest `cap` bodies in a ring, each
 * under a position that counts up from 1 and never repeats — not even after
 * `clear`, so a reader that resumes after a cleared position never skips
 * what came later.
 */
import { Waiters } from "../../util/waiters.js";
import type { StoredEvent } from "../backend.js";

export class MemoryEventLog {
  /** Readers waiting for a first body. */
  readonly appended = new Waiters();
  /** Bodies by position modulo the capacity, once the ring is full. */
  #ring: string[] = [];
  /** Position of the oldest body kept (the newest is `#last`). */
  #first = 1;
  #last = 0;

  constructor(private readonly cap: number) {}

  /** Position of the newest body; 0 when none was ever appended. */
  get last(): number {
    return this.#last;
  }

  /** Appends `bodies` in order and wakes waiting readers. */
  append(bodies: readonly (string | undefined)[]): void {
    if (this.cap === 0) return;
    let any = false;
    for (const body of bodies) {
      if (body === undefined) continue;
      this.#push(body);
      any = true;
    }
    if (any) this.appended.notify();
  }

  #push(body: string): void {
    this.#last++;
    this.#ring[this.#last % this.cap] = body;
    if (this.#last - this.#first >= this.cap) this.#first = this.#last - this.cap + 1;
  }

  /** Up to `limit` bodies after position `after`, oldest first. */
  read(after: number, limit: number): StoredEvent[] {
    const from = Math.max(after + 1, this.#first);
    const to = Math.min(this.#last, from + limit - 1);
    const out: StoredEvent[] = [];
    for (let position = from; position <= to; position++)
      out.push({ id: String(position), body: this.#ring[position % this.cap]! });
    return out;
  }

  /** Drops every body; positions go on counting. */
  clear(): void {
    this.#ring = [];
    this.#first = this.#last + 1;
  }
}
