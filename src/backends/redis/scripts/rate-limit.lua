-- Admits a start under a rate limit (-1) or returns ms until a slot may be
-- free. Refused callers get staggered slots period/maxRate apart. Mirrors
-- src/worker/rate-limit.ts answer for answer. Times are the caller's (`now`),
-- so a test clock drives it and every backend does the same arithmetic; key
-- expiry below is only garbage collection (generous, as it runs on the
-- server's real time).
-- KEYS: 1 sliding-window zset, 2 state hash (fixed window + next slot), 3 rate-limit key set
-- ARGV: 1 maxRate, 2 period (ms), 3 task id, 4 strategy, 5 now (ms)
--
-- Numbers are stored with string.format('%.17g'), never tostring or `..`
-- (14 significant digits): an epoch time in ms with a fraction would lose it,
-- and the waits would drift a millisecond away from the reference.
local maxRate = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local now = tonumber(ARGV[5])
local keep = math.max(60000, period * 2 + 1000)
redis.call('SADD', KEYS[3], KEYS[1], KEYS[2])
local freeAt
if ARGV[4] == 'fixed_window' then
  local start = tonumber(redis.call('HGET', KEYS[2], 'start') or '0')
  local count = tonumber(redis.call('HGET', KEYS[2], 'count') or '0')
  -- A fresh state has no window yet: the first admission opens one (even at a small `now`).
  if count == 0 or now >= start + period then
    start = now
    count = 0
  end
  if count < maxRate then
    redis.call('HSET', KEYS[2], 'start', string.format('%.17g', start), 'count', count + 1)
    redis.call('PEXPIRE', KEYS[2], keep)
    return -1
  end
  freeAt = start + period
else
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.17g', now - period))
  local card = redis.call('ZCARD', KEYS[1])
  if card < maxRate then
    -- Members must be unique or ZADD only moves an existing one: the count
    -- keeps the same task at the same instant apart, the suffix the rare
    -- repeat (the same task asked again at an instant already counted, e.g.
    -- by a worker whose clock is behind).
    local member = ARGV[3] .. ':' .. string.format('%.17g', now) .. ':' .. card
    local candidate, n = member, 0
    while redis.call('ZADD', KEYS[1], 'NX', string.format('%.17g', now), candidate) == 0 do
      n = n + 1
      candidate = member .. ':' .. n
    end
    redis.call('PEXPIRE', KEYS[1], keep)
    return -1
  end
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  freeAt = tonumber(oldest[2]) + period
end
local nextSlot = tonumber(redis.call('HGET', KEYS[2], 'next') or '0')
local slot = math.max(freeAt, nextSlot)
redis.call('HSET', KEYS[2], 'next', string.format('%.17g', slot + period / maxRate))
redis.call('PEXPIRE', KEYS[2], math.ceil(math.max(0, slot - now) + keep))
return math.max(10, math.ceil(slot - now))
