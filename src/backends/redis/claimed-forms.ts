/**
 * @module backends/redis/claimed-forms
 * What a claim left in each task's hash, remembered until the claim's
 * settle, so that the settle writes only what the attempt changed.
 *
 * A claim returns the task's stored JSON (`d`) and writes its start
 * (`startedAt`). A task that returns nothing ends with the same JSON, and
 * every attempt ends with the start its claim wrote: sending and writing
 * them again costs the server a few per cent of a drain's time for nothing.
 * The settle compares its encoded record with what the claim left and, where
 * they match, tells the script to keep the hash's field (`=`).
 *
 * That is sound while nothing but the claim's holder writes the hash between
 * the claim and its settle: every other writer of `d` refuses a claimed task
 * (an add or a dedupe replace of its id, a cancel), except the holder's own
 * progress reports, which forget what is remembered here before they are
 * sent — the settle after one writes the whole record. A settle that is not
 * the claim's current one is refused by its fence and writes nothing.
 */

/** Most claims remembered: beyond it the oldest are forgotten, and their settles write every field. */
const MAX_REMEMBERED = 100_000;

interface ClaimedForm {
  readonly fence: number;
  /** The hash's `d` as the claim read it. */
  readonly json: string;
  /** The hash's `startedAt` as the claim wrote it. */
  readonly startedAt: string;
}

/** Which of the hash's fields a settle finds as the claim left them. */
export interface UnchangedFields {
  readonly json: boolean;
  readonly startedAt: boolean;
}

const NONE: UnchangedFields = { json: false, startedAt: false };

export class ClaimedForms {
  /** By task key (the queue's task prefix and the id). */
  readonly #forms = new Map<string, ClaimedForm>();

  /**
   * Remembers a claim reply `[startedAt, id, json, fence, damaged status, …]`
   * (see `claim.lua`): `startedAt` as the script wrote it, before any reading
   * brings it back to the answer's time.
   */
  remember(taskPrefix: string, flat: readonly string[]): void {
    const startedAt = flat[0];
    if (startedAt === undefined) return;
    for (let i = 1; i + 3 < flat.length; i += 4) {
      // A hash whose status was damaged is settled as its failed stand-in: nothing to keep.
      if (flat[i + 3]) continue;
      const key = taskPrefix + flat[i]!;
      this.#forms.delete(key);
      this.#forms.set(key, { fence: Number(flat[i + 2]), json: flat[i + 1]!, startedAt });
    }
    // Map order is insertion order: the first keys are the oldest claims.
    for (const key of this.#forms.keys()) {
      if (this.#forms.size <= MAX_REMEMBERED) break;
      this.#forms.delete(key);
    }
  }

  /** Forgets task `id`'s claim: its hash is about to be written by its holder before the settle. */
  forget(taskPrefix: string, id: string): void {
    this.#forms.delete(taskPrefix + id);
  }

  /**
   * Which of `json` and `startedAt` the settle of task `id` under `fence`
   * finds as its claim left them (then the settle keeps the hash's field);
   * forgets the claim either way.
   */
  take(
    taskPrefix: string,
    id: string,
    fence: number,
    json: string,
    startedAt: string | null,
  ): UnchangedFields {
    const key = taskPrefix + id;
    const form = this.#forms.get(key);
    if (form === undefined) return NONE;
    this.#forms.delete(key);
    if (form.fence !== fence) return NONE;
    return { json: form.json === json, startedAt: form.startedAt === startedAt };
  }
}
