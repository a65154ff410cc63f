/**
 * @module backends/redis
 * `sheppy/backends/redis`: the Redis backend (needs the `ioredis` package).
 */
export { RedisBackend, type RedisBackendOptions } from "./redis-backend.js";
