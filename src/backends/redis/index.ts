/**
 * @module backends/redis
 * `sheppy/backends/redis`: the Redis backend (needs the `ioredis` package,
 * loaded only when a backend connects). Loading this module registers the
 * `redis://` and `rediss://` URL schemes, and `redis+cluster://host1:port,host2:port`
 * (`rediss+cluster://`) for a Redis Cluster; `?prefix=app` sets the key prefix,
 * `?maxPayloadBytes=` the payload limit, `?eventCap=` the event log's cap and
 * `?ttl=`, `?errorTtl=`, `?maxFinished=`, `?maxFailed=` the retention; the
 * rest of the URL goes to ioredis.
 */
import type { Backend } from "../backend.js";
import {
  type BackendUrlSettings,
  clockOption,
  registerBackendScheme,
  registerRawBackendScheme,
} from "../registry.js";
import { RedisBackend } from "./redis-backend.js";
import { type RedisTarget, splitClusterUrl, splitRedisUrl } from "./redis-url.js";

export { RedisBackend, type RedisBackendOptions } from "./redis-backend.js";

/** Backend options from a URL's target: its retention parameters are the constructor's options. */
function optionsOf({ retention, ...target }: RedisTarget) {
  return { ...target, ...retention };
}

function redisFromUrl(url: URL, _raw: string, settings: BackendUrlSettings): Backend {
  return new RedisBackend({ ...optionsOf(splitRedisUrl(url)), ...clockOption(settings) });
}

registerBackendScheme("redis:", redisFromUrl);
registerBackendScheme("rediss:", redisFromUrl);
// A cluster URL's host part is a list of seeds, which `new URL()` does not parse.
const clusterFromUrl = (raw: string, settings: BackendUrlSettings) =>
  new RedisBackend({ ...optionsOf(splitClusterUrl(raw)), ...clockOption(settings) });
registerRawBackendScheme("redis+cluster:", clusterFromUrl);
registerRawBackendScheme("rediss+cluster:", clusterFromUrl);
