/**
 * @module backends/newer-store
 * What a claim or takeover refused on a store a newer Sheppy has changed
 * (a migration, a newer record form) says it did, the same on every backend.
 */

/** The end of a refusal's message: what this process now does, and does not. */
export function refusedBecauseNewer(call: "claim" | "reclaim"): string {
  return call === "claim"
    ? "it takes no more tasks (the ones it holds still finish)"
    : "it takes over none of the claims left to expire: a worker of the newer version does";
}
