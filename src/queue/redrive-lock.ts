/**
 * @module queue/redrive-lock
 * One redrive step (read the records again, then replace them) at a time per
 * queue name in this process. The backend's `replace` refuses only a task a
 * worker holds, not one another redrive re-queued a moment ago: two steps
 * interleaving would both re-queue, and both count, the same task. Across
 * processes the backend offers no replace-if-unchanged, so this cannot help
 * there. Keyed by name alone: two backends with a same-named queue only wait
 * for each other, which costs time, never a wrong count.
 */

const tails = new Map<string, Promise<void>>();

/** Runs `step` after every step already started for `queue` in this process has ended. */
export async function oneRedriveStepAtATime<T>(queue: string, step: () => Promise<T>): Promise<T> {
  const before = tails.get(queue) ?? Promise.resolve();
  const run = before.then(step);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  tails.set(queue, tail);
  try {
    return await run;
  } finally {
    if (tails.get(queue) === tail) tails.delete(queue);
  }
}
