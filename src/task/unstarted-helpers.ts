/**
 * @module task/unstarted-helpers
 * A workflow body runs a step only through `yield*`: `step(task)` alone
 * makes the helper's generator and drops it, and the task never runs — no
 * error, no step, a body that reads as if it asked for one. While a body
 * runs, each helper call is noted here until its generator starts; the
 * replay engine checks after every turn of the body that none is left
 * unstarted, and refuses the body that left one.
 */

/**
 * Helper calls of the body now running whose generator has not started, each
 * with how to describe it (only a refusal needs the words); `null` outside a body.
 */
let unstarted: Map<object, () => string> | null = null;

/** Notes a helper call (`step('charge')`, …) whose generator has not started; nothing outside a workflow body. */
export function noteHelperCall(token: object, helper: () => string): void {
  unstarted?.set(token, helper);
}

/** Notes that the generator of the helper call `token` started: it is being run with `yield*`. */
export function noteHelperStarted(token: object): void {
  unstarted?.delete(token);
}

/**
 * Runs `turn` (one step of a workflow body) with helper calls watched, and
 * returns what it returned with the helpers it left unstarted (by name).
 * Nested bodies (`run()`) are watched in their own turns and restore the
 * outer watch when they end.
 */
export function watchingHelpers<T>(turn: () => T): { value: T; unstarted: string[] } {
  const outer = unstarted;
  const mine = new Map<object, () => string>();
  unstarted = mine;
  try {
    const value = turn();
    return { value, unstarted: [...mine.values()].map((describe) => describe()) };
  } finally {
    unstarted = outer;
  }
}
