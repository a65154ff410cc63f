/**
 * @module backends/redis/redis-url
 * Where a `RedisBackend` connects when no `url` option is given: the
 * `SHEPPY_BACKEND_URL` that `new Queue()` reads too, when it names Redis,
 * else `redis://127.0.0.1:6379`. A `SHEPPY_BACKEND_URL` naming another backend
 * (`memory://`) is an error rather than silently ignored: the process was
 * configured for a backend this one is not. `?prefix=` in a URL is Sheppy's key
 * prefix, taken out before the rest goes to ioredis; a Sheppy parameter
 * written in another case (`?Prefix=`), or any parameter given twice, is a
 * `BackendUrlError`.
 */
import { BackendUrlError } from "../../errors.js";
import { maskUrl } from "../../util/mask-url.js";
import { userInfoHint } from "../../util/url-userinfo.js";
import {
  eventCapParam,
  positiveIntegerParam,
  RETENTION_PARAMETERS,
  type RetentionParams,
  refuseMisspeltParams,
  refuseRepeatedParams,
  retentionParams,
} from "../registry.js";
import { isClusterUrl, parseClusterUrl } from "./cluster-url.js";

/** Where a Redis backend connects when neither its options nor `SHEPPY_BACKEND_URL` say. */
export const DEFAULT_REDIS_URL = "redis://127.0.0.1:6379";

/** The URL for ioredis, and the key prefix, payload limit and event cap the URL named (if it named them). */
export interface RedisTarget {
  readonly url: string;
  readonly prefix?: string;
  readonly maxPayloadBytes?: number;
  readonly eventCap?: number;
  readonly waitReplicas?: number;
  /** Retention the URL sets (`?ttl=`, `?errorTtl=`, `?maxFinished=`, `?maxFailed=`). */
  readonly retention?: RetentionParams;
  /** ioredis options the URL gave, as numbers and booleans (see `typedDriverOptions`). */
  readonly redisOptions?: Readonly<Record<string, number | boolean>>;
}

/** Sheppy's own parameters, taken out of the URL; the rest go to ioredis. */
const PARAMETERS = [
  ...["prefix", "maxPayloadBytes", "eventCap", "waitReplicas"],
  ...RETENTION_PARAMETERS,
];

/**
 * Options ioredis takes from a URL's parameters (it copies any of them into
 * its options): a name a little off one of them is a misspelling
 * (`?famly=6`, `?pasword=`), refused rather than ignored.
 */
const DRIVER_PARAMETERS = [
  ...["family", "db", "password", "username", "tls", "connectionName", "keyPrefix"],
  ...["connectTimeout", "commandTimeout", "socketTimeout", "keepAlive", "noDelay"],
  ...["maxRetriesPerRequest", "enableReadyCheck", "enableOfflineQueue", "lazyConnect", "readOnly"],
];

/**
 * ioredis options a URL may give that ioredis would take as text: a number of
 * milliseconds given as text crashes the process at connect (Node's socket
 * refuses it, outside any call a caller could catch), and `"false"` is true.
 */
const NUMBER_OPTIONS = ["connectTimeout", "commandTimeout", "socketTimeout", "keepAlive"];
const BOOLEAN_OPTIONS = ["noDelay", "enableReadyCheck", "readOnly"];

/**
 * Takes the options of {@link NUMBER_OPTIONS} and {@link BOOLEAN_OPTIONS}
 * out of `url` as the values they stand for, checked; and refuses a database
 * given both as the path and as `?db=` (ioredis reads only the path).
 */
function typedDriverOptions(url: URL, what: string): Record<string, number | boolean> {
  const refuse = (why: string) =>
    new BackendUrlError(`Invalid ${what} '${maskUrl(url.href)}': ${why}`);
  if (url.pathname.length > 1 && url.searchParams.has("db")) {
    throw refuse(
      `the database is given twice, as the path (${url.pathname}) and as ?db=; give it once`,
    );
  }
  const options: Record<string, number | boolean> = {};
  for (const name of NUMBER_OPTIONS) {
    const value = url.searchParams.get(name);
    if (value === null) continue;
    if (!/^\d{1,9}$/.test(value)) {
      throw refuse(`?${name}= must be a whole number of milliseconds (got '${value}')`);
    }
    options[name] = Number(value);
    url.searchParams.delete(name);
  }
  for (const name of BOOLEAN_OPTIONS) {
    const value = url.searchParams.get(name);
    if (value === null) continue;
    if (value !== "true" && value !== "false") {
      throw refuse(`?${name}= must be true or false (got '${value}')`);
    }
    options[name] = value === "true";
    url.searchParams.delete(name);
  }
  return options;
}

/**
 * Takes Sheppy's `prefix`, `maxPayloadBytes`, `eventCap` and `waitReplicas`
 * parameters out of a `redis://` URL; the rest is for ioredis. `what` names
 * the URL in errors.
 */
export function splitRedisUrl(url: URL, what = "backend URL"): RedisTarget {
  refuseMisspeltParams(url.searchParams.keys(), PARAMETERS, what, url.href, DRIVER_PARAMETERS);
  refuseRepeatedParams(url.searchParams.keys(), what, url.href);
  const prefix = url.searchParams.get("prefix");
  // An empty value (`?prefix=$UNSET_VARIABLE`) would otherwise fall back to the default
  // prefix, whose keys may be another application's.
  if (prefix === "") {
    throw new BackendUrlError(
      `Invalid ${what} '${maskUrl(url.href)}': ?prefix= is empty; give a key prefix (1–64 ASCII letters, digits, '_', '.' or '-') or leave the parameter out for the default 'sheppy'`,
    );
  }
  const maxPayloadBytes = positiveIntegerParam(url, "maxPayloadBytes");
  const eventCap = eventCapParam(url);
  const waitReplicas = positiveIntegerParam(url, "waitReplicas");
  const retention = retentionParams(url);
  for (const own of PARAMETERS) url.searchParams.delete(own);
  const redisOptions = typedDriverOptions(url, what);
  return {
    url: url.toString(),
    ...(Object.keys(redisOptions).length === 0 ? {} : { redisOptions }),
    ...(prefix === null ? {} : { prefix }),
    ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
    ...(eventCap === undefined ? {} : { eventCap }),
    ...(waitReplicas === undefined ? {} : { waitReplicas }),
    ...(Object.keys(retention).length === 0 ? {} : { retention }),
  };
}

/**
 * Sheppy's parameters of a `redis+cluster://` URL, read as in a `redis://`
 * URL. The URL is kept whole (the backend reads its seeds from it); any other
 * parameter is an error, since ioredis takes no options from a cluster URL.
 */
export function splitClusterUrl(raw: string): RedisTarget {
  const { params } = parseClusterUrl(raw);
  refuseMisspeltParams(params.keys(), PARAMETERS, "Redis Cluster URL", raw, DRIVER_PARAMETERS);
  refuseRepeatedParams(params.keys(), "Redis Cluster URL", raw);
  if (params.get("prefix") === "") {
    throw new BackendUrlError(
      `Invalid Redis Cluster URL '${maskUrl(raw)}': ?prefix= is empty; give a key prefix (1–64 ASCII letters, digits, '_', '.' or '-') or leave the parameter out for the default 'sheppy'`,
    );
  }
  const own = new URL("redis://seed");
  for (const [name, value] of params) own.searchParams.append(name, value);
  const target = splitRedisUrl(own);
  const unknown = [...own.searchParams.keys(), ...Object.keys(target.redisOptions ?? {})];
  if (unknown.length > 0) {
    throw new BackendUrlError(
      `Invalid Redis Cluster URL '${maskUrl(raw)}': unknown parameter '${unknown[0]}' (a cluster URL takes prefix, maxPayloadBytes, eventCap, waitReplicas, ttl, errorTtl, maxFinished and maxFailed; pass other ioredis options as clusterOptions)`,
    );
  }
  return { ...target, url: raw };
}

/**
 * The target of a backend created without a `url` option: `SHEPPY_BACKEND_URL`
 * (`value`) when it is a `redis://` or `rediss://` URL, the default when it is
 * unset or empty (as `new Queue()` counts it), and a `BackendUrlError` when it
 * names another backend or cannot be parsed.
 */
export function redisTargetFromEnvironment(
  value: string | undefined = process.env.SHEPPY_BACKEND_URL,
): RedisTarget {
  if (value === undefined || value === "") return { url: DEFAULT_REDIS_URL };
  if (isClusterUrl(value)) return splitClusterUrl(value);
  if (!/^rediss?:\/\//i.test(value)) {
    throw new BackendUrlError(
      `new RedisBackend() without a url option reads SHEPPY_BACKEND_URL, which names another backend ('${maskUrl(value)}'): pass { url: "redis://…" } or set SHEPPY_BACKEND_URL to a redis:// or redis+cluster:// URL`,
    );
  }
  return redisTargetOf(value, "SHEPPY_BACKEND_URL");
}

/**
 * The target a `redis://`, `rediss://` or cluster URL names, Sheppy's
 * parameters (`?prefix=`…) read from it as `new Queue(url)` reads them; any
 * other text is left to ioredis as it is. `what` names the URL in errors.
 */
export function redisTargetOf(value: string, what = "Redis URL"): RedisTarget {
  if (isClusterUrl(value)) return splitClusterUrl(value);
  if (!/^rediss?:\/\//i.test(value)) return { url: value };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BackendUrlError(
      `Invalid ${what} '${maskUrl(value)}': it cannot be parsed as a URL${userInfoHint(value)}`,
    );
  }
  const hint = userInfoHint(value);
  const hostAfterCredentials = /@([^@/?#]*)[^@]*$/.exec(value)?.[1];
  if (hint !== "" && hostAfterCredentials?.toLowerCase() !== url.host.toLowerCase()) {
    // A raw '/', '?' or '#' in a password ends the host early: the URL parses, with part of the
    // password read as the host, path or query — shown in later messages, which could no longer
    // tell it from the rest and mask it.
    throw new BackendUrlError(
      `Invalid ${what} '${maskUrl(value)}': its credentials cannot be read${hint}`,
    );
  }
  return splitRedisUrl(url, what);
}
