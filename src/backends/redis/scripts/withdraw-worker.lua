#!lua flags=allow-oom
-- Forgets a worker's announcement on this queue (it stopped).
-- KEYS: 1 workers, 2 workers:seen
-- ARGV: 1 id
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
