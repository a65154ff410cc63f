/**
 * @module task/milliseconds-warning
 * A warning for a duration option that reads like milliseconds. Every Sheppy
 * duration is in seconds, where BullMQ and JavaScript's timers take
 * milliseconds: a `ratePeriod: 1000` ported from a BullMQ limiter is a window
 * of nearly 17 minutes, a `timeout: 30000` more than 8 hours — valid, so not
 * refused, but seldom meant. A whole number of thousands from 1000 up is what
 * a millisecond value most often is, and rarely the seconds anyone means.
 */

/** Options already warned of, by task and option: once per definition, not per module load of a test. */
const warned = new Set<string>();

/** Whether `seconds` reads like a number of milliseconds. */
function looksLikeMilliseconds(seconds: unknown): seconds is number {
  return typeof seconds === "number" && seconds >= 1000 && seconds % 1000 === 0;
}

/** Warns (a process warning, once) when a duration of `option` reads like milliseconds. */
function warnOf(taskName: string, option: string, seconds: unknown): void {
  if (!looksLikeMilliseconds(seconds)) return;
  const key = `${taskName}\u0000${option}`;
  if (warned.has(key)) return;
  warned.add(key);
  process.emitWarning(
    `task '${taskName}': ${option} is ${seconds} seconds (${readable(seconds)}); Sheppy's durations are seconds, not milliseconds — for ${seconds / 1000} s write ${seconds / 1000}`,
    { code: "SHEPPY_DURATION_IN_MILLISECONDS" },
  );
}

/** A long span of seconds in the largest unit that shows it. */
function readable(seconds: number): string {
  if (seconds >= 86_400) return `${+(seconds / 86_400).toFixed(1)} days`;
  if (seconds >= 3600) return `${+(seconds / 3600).toFixed(1)} hours`;
  return `${+(seconds / 60).toFixed(1)} minutes`;
}

/** Checks the duration options a BullMQ habit writes in milliseconds: `timeout`, `retryDelay`, `rateLimit.ratePeriod`. */
export function warnOfMillisecondDurations(
  taskName: string,
  options: { timeout?: unknown; retryDelay?: unknown; rateLimit?: unknown },
): void {
  warnOf(taskName, "timeout", options.timeout);
  const { retryDelay, rateLimit } = options;
  if (Array.isArray(retryDelay)) {
    for (const delay of retryDelay) warnOf(taskName, "retryDelay", delay);
  } else if (typeof retryDelay === "object" && retryDelay !== null) {
    const { delay, max } = retryDelay as { delay?: unknown; max?: unknown };
    warnOf(taskName, "retryDelay.delay", delay);
    warnOf(taskName, "retryDelay.max", max);
  } else warnOf(taskName, "retryDelay", retryDelay);
  if (typeof rateLimit === "object" && rateLimit !== null) {
    warnOf(taskName, "rateLimit.ratePeriod", (rateLimit as { ratePeriod?: unknown }).ratePeriod);
  }
}
