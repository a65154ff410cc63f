-- Moves scheduled tasks due by `now` to pending, earliest first.
-- KEYS: 1 scheduled, 2 pending, 3 wake
-- ARGV: 1 task key prefix, 2 now (ms), 3 limit
-- Returns: id1, json1, …
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local key = ARGV[1] .. id
  local json = redis.call('HGET', key, 'd')
  if json then
    redis.call('HSET', key, 'status', 'pending')
    redis.call('RPUSH', KEYS[2], id)
    out[#out + 1] = id
    out[#out + 1] = json
  end
end
if #out > 0 and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return out
