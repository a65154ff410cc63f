-- Admits a start under a rate limit (-1) or returns ms until a slot may be
-- free. Refused callers get staggered slots period/maxRate apart. Mirrors
-- src/worker/rate-limit.ts. Times are the server's.
-- KEYS: 1 sliding-window zset, 2 state hash (fixed window + next slot), 3 rate-limit key set
-- ARGV: 1 maxRate, 2 period (ms), 3 task id, 4 strategy
local maxRate = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('SADD', KEYS[3], KEYS[1], KEYS[2])
local freeAt
if ARGV[4] == 'fixed_window' then
  local start = tonumber(redis.call('HGET', KEYS[2], 'start') or '0')
  local count = tonumber(redis.call('HGET', KEYS[2], 'count') or '0')
  if now >= start + period then
    start = now
    count = 0
  end
  if count < maxRate then
    redis.call('HSET', KEYS[2], 'start', start, 'count', count + 1)
    redis.call('PEXPIRE', KEYS[2], period * 2 + 1000)
    return -1
  end
  freeAt = start + period
else
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
  if redis.call('ZCARD', KEYS[1]) < maxRate then
    redis.call('ZADD', KEYS[1], now, ARGV[3] .. ':' .. now)
    redis.call('PEXPIRE', KEYS[1], period + 1000)
    return -1
  end
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  freeAt = tonumber(oldest[2]) + period
end
local nextSlot = tonumber(redis.call('HGET', KEYS[2], 'next') or '0')
local slot = math.max(freeAt, nextSlot)
redis.call('HSET', KEYS[2], 'next', tostring(slot + period / maxRate))
redis.call('PEXPIRE', KEYS[2], math.ceil(slot - now + period * 2 + 1000))
return math.max(10, math.ceil(slot - now))
