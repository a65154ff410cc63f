/**
 * @module backends/registry
 * Backend URLs → backend instances. Each backend registers the URL schemes
 * it serves when its module is loaded (the package entry loads every
 * built-in one), so nothing above the backends knows a backend by name.
 * Backends whose driver library is heavy (ioredis, pg, better-sqlite3)
 * import it only when they connect, so `memory://` never loads a driver.
 */
import type { Clock } from "../clock.js";
import { BackendUrlError, InvalidOptionError } from "../errors.js";
import { describeGiven } from "../task/describe-value.js";
import { likelyMeant } from "../util/likely-meant.js";
import { maskUrl } from "../util/mask-url.js";
import { userInfoHint } from "../util/url-userinfo.js";
import type { Backend } from "./backend.js";
import type { RetentionOptions } from "./retention-settings.js";

/**
 * What the code making a backend from a URL gives it besides the URL: the
 * clock of the queue it is made for, so that the queue and its backend read
 * one time (a test clock included).
 */
export interface BackendUrlSettings {
  readonly clock?: Clock | undefined;
  /**
   * Open only storage that is already there: a URL naming a database schema
   * or file that nothing has created is an error, not created. For tools that
   * only look at and manage what exists, so that a mistyped name is reported.
   */
  readonly mustExist?: boolean | undefined;
}

/** Makes the backend a URL names; `raw` is the URL as the user wrote it. */
export type BackendFactory = (url: URL, raw: string, settings: BackendUrlSettings) => Backend;

/** Makes the backend a URL names from its text alone, for schemes whose rest is not a host (`sqlite://:memory:`). */
export type RawBackendFactory = (raw: string, settings: BackendUrlSettings) => Backend;

/** `settings`' clock as a backend option: nothing when there is none, so the backend's default stands. */
export function clockOption(settings: BackendUrlSettings): { clock?: Clock } {
  return settings.clock ? { clock: settings.clock } : {};
}

const factories = new Map<string, BackendFactory>();
const rawFactories = new Map<string, RawBackendFactory>();

const schemeKey = (scheme: string) => (scheme.endsWith(":") ? scheme : `${scheme}:`).toLowerCase();

/** The schemes Sheppy's own backends serve: another module registering one would take their URLs. */
const BUILT_IN_SCHEMES: ReadonlySet<string> = new Set([
  "memory:",
  "redis:",
  "rediss:",
  "redis+cluster:",
  "rediss+cluster:",
  "postgres:",
  "postgresql:",
  "sqlite:",
]);

/**
 * The registry key of `scheme` (`"mine"`, `"mine:"` or `"mine://"`), checked
 * with its factory: a name a URL can start with, a function, and not a
 * built-in scheme registered already. A scheme of one's own registered again
 * (its module evaluated again) replaces the earlier factory, of either kind.
 */
function checkedScheme(scheme: unknown, factory: unknown, where: string): string {
  const name = typeof scheme === "string" ? scheme.replace(/:(\/\/)?$/, "") : "";
  if (!/^[A-Za-z][A-Za-z0-9+.-]*$/.test(name)) {
    throw new InvalidOptionError(
      `${where}: a scheme is a letter followed by letters, digits, '+', '.' or '-', as a URL starts (got ${describeGiven(scheme)})`,
    );
  }
  if (typeof factory !== "function") {
    throw new InvalidOptionError(
      `${where}: the factory of '${name}:' must be a function making the backend (got ${describeGiven(factory)})`,
    );
  }
  const key = schemeKey(name);
  if (BUILT_IN_SCHEMES.has(key) && (factories.has(key) || rawFactories.has(key))) {
    throw new InvalidOptionError(
      `${where}: '${key}' is a scheme of Sheppy's own backends; register yours under a name of its own`,
    );
  }
  factories.delete(key);
  rawFactories.delete(key);
  return key;
}

/** Registers a backend for a URL scheme (e.g. `"redis:"`). Backend modules call this for their own schemes. */
export function registerBackendScheme(scheme: string, factory: BackendFactory): void {
  factories.set(checkedScheme(scheme, factory, "registerBackendScheme()"), factory);
}

/**
 * Registers a backend for a URL scheme whose URLs the backend parses itself,
 * because what follows `scheme://` is not a host — a file path, say.
 */
export function registerRawBackendScheme(scheme: string, factory: RawBackendFactory): void {
  rawFactories.set(checkedScheme(scheme, factory, "registerRawBackendScheme()"), factory);
}

/** A `true`/`false` (or `1`/`0`) URL parameter; anything else is a `BackendUrlError`. */
export function booleanParam(url: URL, name: string, fallback: boolean): boolean {
  const value = url.searchParams.get(name);
  if (value === null) return fallback;
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new BackendUrlError(`backend URL parameter ${name} must be true or false (got '${value}')`);
}

/** A whole-number URL parameter ≥ 1, or `undefined` when absent; anything else is a `BackendUrlError`. */
export function positiveIntegerParam(url: URL, name: string): number | undefined {
  const value = url.searchParams.get(name);
  if (value === null) return undefined;
  const number = /^[1-9][0-9]*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number)) {
    throw new BackendUrlError(
      `backend URL parameter ${name} must be a whole number ≥ 1 (got '${value}')`,
    );
  }
  return number;
}

/** `?eventCap=`: a whole number ≥ 0 (0 turns the event log off), or `undefined` when absent. */
export function eventCapParam(url: URL): number | undefined {
  const value = url.searchParams.get("eventCap");
  if (value === null) return undefined;
  const number = /^(0|[1-9][0-9]*)$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(number)) {
    throw new BackendUrlError(
      `backend URL parameter eventCap must be a whole number ≥ 0, 0 turning the event log off (got '${value}')`,
    );
  }
  return number;
}

/**
 * The retention parameters every backend URL takes, as its constructor
 * does: a worker started from a URL (`sheppy work`) sets them there.
 */
export const RETENTION_PARAMETERS = ["ttl", "errorTtl", "maxFinished", "maxFailed"] as const;

/** The retention options a URL may give (`null`: keep forever / no bound). */
export type RetentionParams = {
  -readonly [K in (typeof RETENTION_PARAMETERS)[number]]?: number | null;
};

/**
 * `?ttl=` and `?errorTtl=` (seconds > 0, fractions allowed), `?maxFinished=`
 * and `?maxFailed=` (whole numbers ≥ 1), each `none` to keep forever / not
 * bound; the ones the URL gives.
 */
export function retentionParams(url: URL): RetentionParams {
  const options: RetentionParams = {};
  for (const name of RETENTION_PARAMETERS) {
    const value = url.searchParams.get(name);
    if (value === null) continue;
    if (value === "none") {
      options[name] = null;
      continue;
    }
    const count = name === "maxFinished" || name === "maxFailed";
    const number = (count ? /^[1-9][0-9]*$/ : /^[0-9]+(\.[0-9]+)?$/).test(value)
      ? Number(value)
      : Number.NaN;
    if (!Number.isFinite(number) || number <= 0 || (count && !Number.isSafeInteger(number))) {
      throw new BackendUrlError(
        `backend URL parameter ${name} must be ${count ? "a whole number ≥ 1" : "seconds > 0"}, or none ${count ? "for no bound" : "to keep forever"} (got '${value}')`,
      );
    }
    options[name] = number;
  }
  return options;
}

/**
 * A backend's retention options: the constructor's where it gives them
 * (`null` included), the URL's (`fromUrl`) otherwise.
 */
export function retentionWithUrl(
  options: RetentionOptions,
  fromUrl: RetentionParams | undefined,
): RetentionParams {
  const merged: RetentionParams = {};
  for (const name of RETENTION_PARAMETERS) {
    const value = options[name] !== undefined ? options[name] : fromUrl?.[name];
    if (value !== undefined) merged[name] = value;
  }
  return merged;
}

/**
 * Backend options that no URL takes: given as a URL parameter, the driver
 * would receive it and ignore it, and the default would silently hold.
 */
const CONSTRUCTOR_ONLY = ["unavailableAfter", "waitReplicasTimeout"];

/**
 * Refuses a parameter that looks like one of Sheppy's own (`own`) but is
 * not — written in another case (`?Schema=`) or misspelt (`?prefx=`,
 * `?shcema=`) — and one that names a backend option no URL takes
 * (`?ttl=`): Sheppy would not read it and the driver would ignore it, so
 * the default would silently hold — tasks in a schema or a keyspace the
 * user did not ask for. So is one that looks like a parameter of the
 * driver's (`driver`) but is not one (`?sslmod=require`): the driver would
 * ignore it too — a connection without TLS. Any other name is left for the
 * driver. `url` is shown masked, prefixed by `what` (`backend URL`…).
 */
export function refuseMisspeltParams(
  names: Iterable<string>,
  own: readonly string[],
  what: string,
  url: string,
  driver: readonly string[] = [],
): void {
  for (const name of names) {
    const meant = likelyMeant(name, own);
    if (meant !== undefined) {
      const hint =
        meant.toLowerCase() === name.toLowerCase()
          ? " (Sheppy's parameters are case-sensitive)"
          : "";
      throw new BackendUrlError(
        `Invalid ${what} '${maskUrl(url)}': unknown parameter '${name}'; did you mean '${meant}'?${hint}`,
      );
    }
    const option = CONSTRUCTOR_ONLY.find((known) => known.toLowerCase() === name.toLowerCase());
    if (option !== undefined) {
      throw new BackendUrlError(
        `Invalid ${what} '${maskUrl(url)}': '${name}' is not a URL parameter: ${option} is an option of the backend's constructor (new …Backend({ url, ${option}: … }))`,
      );
    }
    const driverMeant =
      own.includes(name) || driver.includes(name) ? undefined : likelyMeant(name, driver);
    if (driverMeant !== undefined) {
      throw new BackendUrlError(
        `Invalid ${what} '${maskUrl(url)}': unknown parameter '${name}'; did you mean '${driverMeant}'? (the driver ignores a parameter it does not know, and its default holds)`,
      );
    }
  }
}

/**
 * Refuses a parameter given more than once (`?schema=a&schema=b`): which
 * value holds would be a guess — Sheppy reads the first, the drivers the
 * last — and the other would be dropped without a word. Sheppy's parameters
 * and the drivers' alike; names compared as written. `url` is shown masked,
 * prefixed by `what` (`backend URL`…).
 */
export function refuseRepeatedParams(names: Iterable<string>, what: string, url: string): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) {
      throw new BackendUrlError(
        `Invalid ${what} '${maskUrl(url)}': parameter '${name}' is given more than once (give it once)`,
      );
    }
    seen.add(name);
  }
}

/** Supported schemes, as users write them (`memory://`, …). */
export function supportedSchemes(): string[] {
  return [...factories.keys(), ...rawFactories.keys()].map((scheme) => `${scheme}//`);
}

/** Creates the backend a URL names. Throws `BackendUrlError` for a malformed URL or an unknown scheme. */
export function backendFromUrl(raw: string, settings: BackendUrlSettings = {}): Backend {
  if (typeof raw !== "string" || !/^[a-z][a-z0-9+.-]*:/i.test(raw)) {
    throw new BackendUrlError(
      `Invalid backend URL '${maskUrl(String(raw))}': expected scheme://… (supported: ${supportedSchemes().join(", ")})`,
    );
  }
  const scheme = /^[a-z][a-z0-9+.-]*:/i.exec(raw)![0].toLowerCase();
  const raws = rawFactories.get(scheme);
  if (raws) return madeBackend(raws(raw, settings), scheme, raw);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BackendUrlError(
      `Invalid backend URL '${maskUrl(raw)}': it cannot be parsed as a URL${userInfoHint(raw)}`,
    );
  }
  const factory = factories.get(url.protocol);
  if (!factory) {
    throw new BackendUrlError(
      `Unsupported backend protocol '${url.protocol}//' in '${maskUrl(raw)}' (supported: ${supportedSchemes().join(", ")})`,
    );
  }
  return madeBackend(factory(url, raw, settings), url.protocol, raw);
}

/** The methods whose absence makes what a factory returned no backend at all. */
const BACKEND_METHODS = ["connect", "disconnect", "add", "claim", "settle", "getTasks"] as const;

/**
 * What the factory of `scheme` made for `raw`, checked to be a backend: a
 * third party's factory that returns nothing, or half a backend, is named
 * here rather than failing later inside a queue with a TypeError.
 */
function madeBackend(made: unknown, scheme: string, raw: string): Backend {
  const missing =
    typeof made === "object" && made !== null
      ? BACKEND_METHODS.filter(
          (name) => typeof (made as Record<string, unknown>)[name] !== "function",
        )
      : null;
  if (missing === null || missing.length > 0) {
    const what = missing === null ? describeGiven(made) : `an object without ${missing.join(", ")}`;
    throw new BackendUrlError(
      `backend URL '${maskUrl(raw)}': the factory registered for '${scheme}' returned ${what}, not a backend`,
    );
  }
  return made as Backend;
}
