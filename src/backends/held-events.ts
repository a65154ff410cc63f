/**
 * @module backends/held-events
 * The check every backend makes of `appendEvents`'s holders: a running
 * attempt's own events go into the log only while its claim is still the
 * task's current one, so a `started` or `progress` sent after a cancel, a
 * takeover or a settle never lands behind the event that ended the claim.
 */
import { InvalidOptionError } from "../errors.js";
import type { ClaimRef } from "./backend.js";

/** Throws unless `holders` is absent or gives one entry (a claim or `undefined`) per body. */
export function checkHolders(
  bodies: readonly string[],
  holders: readonly (ClaimRef | undefined)[] | undefined,
): void {
  if (holders === undefined) return;
  if (!Array.isArray(holders) || holders.length !== bodies.length) {
    throw new InvalidOptionError(
      `appendEvents: holders must give one entry per body (${bodies.length}), got ${Array.isArray(holders) ? holders.length : typeof holders}`,
    );
  }
}

/** The bodies to append: those with no holder, and those whose holder `isCurrent` says still holds its claim. */
export function bodiesOfCurrentHolders(
  bodies: readonly string[],
  holders: readonly (ClaimRef | undefined)[] | undefined,
  isCurrent: (holder: ClaimRef) => boolean,
): readonly string[] {
  if (holders === undefined) return bodies;
  // A batch names a claim several times (its `started`, then its `progress`): ask once.
  const answers = new Map<string, boolean>();
  return bodies.filter((_, i) => {
    const holder = holders[i];
    if (holder === undefined) return true;
    const key = `${holder.fence}/${holder.id}`;
    let current = answers.get(key);
    if (current === undefined) {
      current = isCurrent(holder);
      answers.set(key, current);
    }
    return current;
  });
}
