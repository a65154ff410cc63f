/**
 * @module execution/unknown-task-gate
 * A claimed task whose name no loaded module defines is, by default, not
 * failed at once: in a rolling deploy it may be a new task an old worker has
 * never heard of, and another worker may know it. It is put back for later,
 * not counting as an attempt, and fails with `UnknownTaskError` only once
 * it has been unknown for the grace period — counted from the earliest of
 * this worker's first sighting and the time the record keeps from an earlier
 * put-back (by any worker, one since restarted among them). A grace of 0
 * fails it at once.
 *
 * The delay is 1 s, or a tenth of the time this worker has found the task
 * unknown once that is longer (at most 1 min). It grows with time rather than
 * with each put-back: the worker that knows the task races this one for it
 * each time it comes due, and a delay doubling at every lost race left some
 * tasks of a rolling deploy waiting tens of seconds beside an idle worker
 * that could run them. Growing with time still spaces out a task nobody
 * knows: about fifty put-backs over the default grace of ten minutes.
 */
import type { TaskData } from "../task/task-record.js";
import { findTask } from "../task/task-registry.js";
import { storedUnknownSince, withUnknownSince } from "../task/unknown-since.js";
import { deferredRecord } from "./outcome.js";

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 60_000;

/** The delay is this fraction of the time the task has been unknown, when over the first delay. */
const GROWTH = 0.1;

interface Sighting {
  readonly firstSeen: number;
}

/** What to do with a claimed task of an unknown name. */
export type UnknownVerdict =
  /** Run it: its name is known, or its grace is over (it fails with `UnknownTaskError`). */
  | null
  /** Put it back until `record`'s scheduled time. */
  | { readonly record: TaskData; readonly delayMs: number; readonly unknownForMs: number };

export class UnknownTaskGate {
  /** Tasks this worker found unknown, by id: since when. */
  readonly #seen = new Map<string, Sighting>();
  #sweptAt = 0;

  constructor(readonly graceMs: number) {}

  /** Whether `data` must go through {@link check} before it runs: its name is unknown here. */
  applies(data: TaskData): boolean {
    return this.graceMs > 0 && data.finishedAt === null && !findTask(data.name);
  }

  /** Whether `data` is run now or put back, at `now`. */
  check(data: TaskData, now: number): UnknownVerdict {
    if (this.graceMs <= 0 || data.finishedAt !== null || findTask(data.name)) {
      if (this.#seen.size > 0) this.#seen.delete(data.id);
      return null;
    }
    this.#forgetOld(now);
    // The earliest of this worker's first sighting and the record's: another worker's, or a restarted one's.
    const seen = this.#seen.get(data.id)?.firstSeen ?? now;
    const firstSeen = Math.min(seen, storedUnknownSince(data, now) ?? now);
    this.#seen.set(data.id, { firstSeen });
    const unknownForMs = now - firstSeen;
    const left = this.graceMs - unknownForMs;
    if (left <= 0) {
      this.#seen.delete(data.id);
      return null;
    }
    const delayMs = Math.min(
      Math.max(FIRST_DELAY_MS, Math.round(unknownForMs * GROWTH)),
      MAX_DELAY_MS,
      left,
    );
    const record = withUnknownSince(deferredRecord(data, now, delayMs), firstSeen);
    return { record, delayMs, unknownForMs };
  }

  /** Sightings of tasks another worker ran since: kept at most twice the grace, so the map stays small. */
  #forgetOld(now: number): void {
    if (now - this.#sweptAt < MAX_DELAY_MS) return;
    this.#sweptAt = now;
    for (const [id, sighting] of this.#seen) {
      if (now - sighting.firstSeen > 2 * this.graceMs + MAX_DELAY_MS) this.#seen.delete(id);
    }
  }
}
