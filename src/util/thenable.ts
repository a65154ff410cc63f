/**
 * @module util/thenable
 * Whether a value is a promise, or anything `await` would treat as one.
 */

/** Reads `value.then`, which runs a getter or a Proxy trap: callers guard against a throw. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function"
  );
}
