#!lua flags=allow-oom
-- Records that a worker serves this queue until `ttl` ms from now (server
-- time), replacing its previous announcement, and forgets announcements that
-- have lapsed. Both keys expire when no announcement outlives them, so a
-- queue whose workers all went away keeps nothing. Allowed under
-- out-of-memory: a live worker must not drop out of the list while the
-- server is full.
-- KEYS: 1 workers (zset id → lapse ms), 2 workers:seen (hash id → "<ms>:<body>")
-- ARGV: 1 id, 2 body, 3 ttl ms
local ttl = tonumber(ARGV[3])
if ARGV[1] == '' or not ttl or ttl < 1 then
  return redis.error_reply('sheppy announceWorker: expected an id, a body and a ttl ≥ 1 ms')
end
ttl = math.floor(ttl)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, id in ipairs(lapsed) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], string.format('%d', now) .. ':' .. ARGV[2])
for _, key in ipairs(KEYS) do
  if redis.call('PTTL', key) < ttl then
    redis.call('PEXPIRE', key, ttl)
  end
end
return 1
