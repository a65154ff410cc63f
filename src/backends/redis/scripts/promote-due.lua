#!lua
-- Makes waiting records due by `now` claimable, earliest first, each once,
-- each at the back of its priority's list (lib/claimable.lua), or held
-- for its concurrency key's slot (lib/slots.lua).
-- KEYS: 1 scheduled, 2 pending, 3 wake
-- ARGV: 1 task key prefix, 2 now (ms), 3 limit
-- Returns: the ids moved
--@include claimable
--@include slots
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
if not now or not limit then
  return redis.error_reply('sheppy promoteDue: now and limit must be numbers')
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)
local moved = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local key = ARGV[1] .. id
  if redis.call('HEXISTS', key, 'd') == 1 then
    redis.call('HSET', key, 'status', 'pending')
    enqueueClaimable(KEYS[2], ARGV[1], id)
    moved[#moved + 1] = id
  end
end
if #moved > 0 and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return moved
