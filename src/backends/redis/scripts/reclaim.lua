-- Takes over leases not renewed for `idle` ms (their worker is presumed dead):
-- the caller becomes the owner and gets the records back.
-- KEYS: 1 processing
-- ARGV: 1 task key prefix, 2 idle (ms), 3 consumer id, 4 limit
-- Returns: id, json, status, startedAt, finishedAt for each (empty string = none)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[2])), 'LIMIT', 0, tonumber(ARGV[4]))
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local fields = redis.call('HMGET', key, 'd', 'status', 'startedAt', 'finishedAt')
  if fields[1] then
    redis.call('ZADD', KEYS[1], now, id)
    redis.call('HSET', key, 'owner', ARGV[3])
    out[#out + 1] = id
    out[#out + 1] = fields[1]
    out[#out + 1] = fields[2] or ''
    out[#out + 1] = fields[3] or ''
    out[#out + 1] = fields[4] or ''
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
