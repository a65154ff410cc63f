/**
 * @module backends/reclaim-passes
 * A reclaim looks at expired claims a batch at a time, so that one call
 * never holds the store long. When a batch was full — as many claims noted
 * or taken over as it allows — more may be due: the next batch is looked at
 * at once rather than a reclaim interval later, so that many dead claims (a
 * few workers killed at high concurrency) are all taken over within the
 * documented time, not a batch per interval. Bounded, so one call ends.
 */

/** Most batches one reclaim call goes through; the rest wait for the next call. */
export const MAX_RECLAIM_PASSES = 20;

/** What one batch did: the claims it took over, and whether it was full. */
export interface ReclaimPass<T> {
  readonly taken: readonly T[];
  readonly full: boolean;
}

/** Runs `pass` until a batch is not full (or {@link MAX_RECLAIM_PASSES}); every claim taken over, in order. */
export async function reclaimInPasses<T>(pass: () => Promise<ReclaimPass<T>>): Promise<T[]> {
  const taken: T[] = [];
  for (let passes = 0; passes < MAX_RECLAIM_PASSES; passes++) {
    const batch = await pass();
    taken.push(...batch.taken);
    if (!batch.full) break;
  }
  return taken;
}
