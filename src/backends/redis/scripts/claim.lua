#!lua
-- Claims up to `limit` claimable tasks, oldest first: each becomes
-- `processing` under a lease (score = server time) and a new fence (field
-- `f`, one more than the task's last), and carries the request token (field
-- `cq`). If tasks remain, leaves a wake marker so another idle worker wakes
-- too. A request that claimed something leaves a short-lived marker (the
-- request key): sent again with the same token (its reply was lost to a
-- dropped connection), it returns the claims it made the first time that are
-- still current — found by their token among the claimed tasks — so no claim
-- is ever orphaned. Under out-of-memory the call is refused (no flags): no
-- new work starts.
-- KEYS: 1 pending, 2 processing, 3 wake, 4 request marker
-- ARGV: 1 task key prefix, 2 limit, 3 startedAt (ISO), 4 request token
-- Returns: id1, json1, fence1, id2, …
--@include counts
local limit = tonumber(ARGV[2])
local token = ARGV[4]
if not limit or limit < 1 or ARGV[3] == nil or ARGV[3] == '' or token == nil or token == '' then
  return redis.error_reply('sheppy claim: expected a limit ≥ 1, a start time and a request token')
end
if redis.call('EXISTS', KEYS[4]) == 1 then
  local out = {}
  for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
    local key = ARGV[1] .. id
    local fields = redis.call('HMGET', key, 'cq', 'd')
    if fields[1] == token and fields[2] then
      out[#out + 1] = id
      out[#out + 1] = fields[2]
      out[#out + 1] = tostring(fenceOf(key, 'f'))
    end
  end
  return out
end
local ids = redis.call('LPOP', KEYS[1], limit)
if not ids then
  return {}
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local json = redis.call('HGET', key, 'd')
  if json then
    local fence = fenceOf(key, 'f') + 1
    redis.call('HSET', key, 'status', 'processing', 'startedAt', ARGV[3], 'f', fence, 'cq', token)
    redis.call('ZADD', KEYS[2], now, id)
    out[#out + 1] = id
    out[#out + 1] = json
    out[#out + 1] = tostring(fence)
  end
end
if redis.call('LLEN', KEYS[1]) > 0 and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
if #out > 0 then
  redis.call('SET', KEYS[4], '1', 'EX', 60)
end
return out
