/**
 * @module util/unless-aborted
 * A wait that an abort ends at once, whatever the awaited call is doing: a
 * call to a server that stopped answering (paused, or a first connect that
 * hangs) runs out its own time bound, but a caller who gave up is told so
 * now. The call is left to end on its own; what it ends with is dropped.
 */

/** Stands for "the signal aborted first". */
export const ABORTED: unique symbol = Symbol("aborted");

/** `promise`'s value, or {@link ABORTED} when `signal` aborts before it settles. */
export function unlessAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T | typeof ABORTED> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(ABORTED);
  }
  return new Promise<T | typeof ABORTED>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => undefined);
      resolve(ABORTED);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
