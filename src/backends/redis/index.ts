/**
 * @module backends/redis
 * `sheppy/backends/redis`: the Redis backend (needs the `ioredis` package,
 * loaded only when a backend connects). Loading this module registers the
 * `redis://` and `rediss://` URL schemes, and `redis+cluster://host1:port,host2:port`
 * (`rediss+cluster://`) for a Redis Cluster; `?prefix=app` sets the key prefix,
 * `?maxPayloadBytes=` the payload limit and `?eventCap=` the event log's cap;
 * the rest of the URL goes to ioredis.
 */
import type { Backend } from "../backend.js";
import { registerBackendScheme, registerRawBackendScheme } from "../registry.js";
import { RedisBackend } from "./redis-backend.js";
import { splitClusterUrl, splitRedisUrl } from "./redis-url.js";

export { RedisBackend, type RedisBackendOptions } from "./redis-backend.js";

function redisFromUrl(url: URL): Backend {
  return new RedisBackend(splitRedisUrl(url));
}

registerBackendScheme("redis:", redisFromUrl);
registerBackendScheme("rediss:", redisFromUrl);
// A cluster URL's host part is a list of seeds, which `new URL()` does not parse.
registerRawBackendScheme("redis+cluster:", (raw) => new RedisBackend(splitClusterUrl(raw)));
registerRawBackendScheme("rediss+cluster:", (raw) => new RedisBackend(splitClusterUrl(raw)));
