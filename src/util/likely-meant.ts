/**
 * @module util/likely-meant
 * Which of several known names a given one is most likely a misspelling of:
 * for "did you mean …?" in messages about a name nothing knows.
 */

/** Edits (insert, delete, replace one character, or swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [
    i,
    ...new Array<number>(b.length).fill(0),
  ]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The name of `own` that `name` is most likely a misspelling of, if any (none when `name` is one of them). */
export function likelyMeant(name: string, own: readonly string[]): string | undefined {
  if (own.includes(name)) return undefined;
  const lower = name.toLowerCase();
  const sameButCase = own.find((known) => known.toLowerCase() === lower);
  if (sameButCase !== undefined) return sameButCase;
  // Two edits at most, and never more than a third of the name: `db` is not a misspelt `eventCap`.
  let meant: string | undefined;
  let least = Math.min(2, Math.floor(name.length / 3)) + 1;
  for (const known of own) {
    const distance = editDistance(lower, known.toLowerCase());
    if (distance < least) {
      least = distance;
      meant = known;
    }
  }
  return meant;
}
