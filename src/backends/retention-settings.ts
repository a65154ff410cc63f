/**
 * @module backends/retention-settings
 * The retention every backend applies to finished records unless told
 * otherwise, and the check of a backend's retention options. Finished
 * records are bounded by default — by age and by count — so a busy queue's
 * storage reaches a plateau instead of growing for as long as it runs: a
 * completed record is kept 12 hours, a failed, crashed or cancelled one 7
 * days (long enough for someone to look at it), and at most 10,000
 * expiring completed records per queue and 100,000 of the others (the ones
 * due to expire soonest go first): a failure waits for someone to retry it,
 * so an outage's failures must all still be there when it is over, while a
 * bound still keeps a storm of them from filling the server's memory. `null`
 * keeps forever, on purpose.
 */
import { InvalidOptionError } from "../errors.js";
import { type RetentionDefaults, resolveRetention } from "../task/ttl.js";
import type { RetentionSettings } from "./backend.js";

/** Seconds a completed record is kept by default. */
export const DEFAULT_TTL = 12 * 3600;
/** Seconds a failed, crashed or cancelled record is kept by default. */
export const DEFAULT_ERROR_TTL = 7 * 24 * 3600;
/** Most expiring completed records kept per queue by default. */
export const DEFAULT_MAX_FINISHED = 10_000;
/** Most expiring failed, crashed and cancelled records kept per queue by default. */
export const DEFAULT_MAX_FAILED = 100_000;

/** Most lifecycle events kept per queue by default. */
export const DEFAULT_EVENT_CAP = 10_000;

/** A backend's retention options as users write them. */
export interface RetentionOptions extends RetentionDefaults {
  /** Most completed records with an expiry kept per queue (integer ≥ 1), or `null` for no bound. */
  readonly maxFinished?: number | null | undefined;
  /**
   * Most failed, crashed and cancelled records with an expiry kept per queue
   * (integer ≥ 1; default 100,000), or `null` for no bound.
   */
  readonly maxFailed?: number | null | undefined;
  /**
   * Most lifecycle events kept per queue in its event log (`queue.events()`),
   * the oldest dropped first (default 10,000); 0 turns the log off.
   */
  readonly eventCap?: number | undefined;
}

/** Checks a backend's `eventCap` option (an integer ≥ 0) and fills in the default. */
export function resolveEventCap(backend: string, options: RetentionOptions): number {
  const cap = options.eventCap;
  if (cap === undefined) return DEFAULT_EVENT_CAP;
  if (!Number.isInteger(cap) || cap < 0)
    throw new InvalidOptionError(
      `${backend} option eventCap must be an integer ≥ 0, 0 turning the event log off (got ${String(cap)})`,
    );
  return cap;
}

/**
 * Checks a backend's retention options and fills in the defaults (`fallback`
 * for what the options leave out). Throws `InvalidOptionError` naming the
 * backend and option.
 */
export function resolveRetentionSettings(
  backend: string,
  options: RetentionOptions,
  fallback: RetentionSettings = {
    ttl: DEFAULT_TTL,
    errorTtl: DEFAULT_ERROR_TTL,
    maxFinished: DEFAULT_MAX_FINISHED,
    maxFailed: DEFAULT_MAX_FAILED,
  },
): RetentionSettings {
  const ttls = resolveRetention(backend, options, fallback.ttl ?? null);
  for (const option of ["maxFinished", "maxFailed"] as const) {
    const max = options[option];
    if (max !== undefined && max !== null && (!Number.isInteger(max) || max < 1)) {
      throw new InvalidOptionError(
        `${backend} option ${option} must be an integer ≥ 1, or null for no bound (got ${String(max)})`,
      );
    }
  }
  // A backend given a `ttl` but no `errorTtl` lets error records inherit that ttl, as a task's options do.
  const errorTtl =
    options.errorTtl === undefined && options.ttl === undefined ? fallback.errorTtl : ttls.errorTtl;
  return {
    ttl: ttls.ttl,
    errorTtl,
    maxFinished: options.maxFinished === undefined ? fallback.maxFinished : options.maxFinished,
    maxFailed: options.maxFailed === undefined ? fallback.maxFailed : options.maxFailed,
  };
}
