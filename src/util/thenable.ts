/**
 * @module util/thenable
 * Whether a value is a promise, or anything `await` would treat as one.
 */

/** Reads `value.then`, which runs a getter or a Proxy trap; one that throws makes the value no promise. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return false;
  try {
    return typeof (value as PromiseLike<unknown>).then === "function";
  } catch {
    // A `then` that throws when read (a Proxy, a getter): not awaited; what the value is, is
    // judged where it is stored, which names the field that could not be read.
    return false;
  }
}
