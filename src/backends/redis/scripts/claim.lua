#!lua
-- Claims up to `limit` claimable tasks, oldest first: each becomes
-- `processing` under a lease (score = server time) and a new fence (field
-- `f`, one more than the task's last). If tasks remain, leaves a wake marker
-- so another idle worker wakes too. Resent with the same request key (its
-- reply was lost to a dropped connection), it returns the claims it made the
-- first time that are still current, so no claim is ever orphaned. Under
-- out-of-memory the call is refused (no flags): no new work starts.
-- KEYS: 1 pending, 2 processing, 3 wake, 4 request memo
-- ARGV: 1 task key prefix, 2 limit, 3 startedAt (ISO)
-- Returns: id1, json1, fence1, id2, …
--@include counts
local limit = tonumber(ARGV[2])
if not limit or limit < 1 or ARGV[3] == nil or ARGV[3] == '' then
  return redis.error_reply('sheppy claim: expected a limit ≥ 1 and a start time')
end
local memo = redis.call('GET', KEYS[4])
if memo then
  local out = {}
  for id, f in string.gmatch(memo, '([^,:]+):(%d+)') do
    local key = ARGV[1] .. id
    local json = redis.call('HGET', key, 'd')
    if json and redis.call('ZSCORE', KEYS[2], id) and fenceOf(key, 'f') == tonumber(f) then
      out[#out + 1] = id
      out[#out + 1] = json
      out[#out + 1] = f
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
local claimed = {}
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  local json = redis.call('HGET', key, 'd')
  if json then
    local fence = fenceOf(key, 'f') + 1
    redis.call('HSET', key, 'status', 'processing', 'startedAt', ARGV[3], 'f', fence)
    redis.call('ZADD', KEYS[2], now, id)
    out[#out + 1] = id
    out[#out + 1] = json
    out[#out + 1] = tostring(fence)
    claimed[#claimed + 1] = id .. ':' .. fence
  end
end
if redis.call('LLEN', KEYS[1]) > 0 and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
redis.call('SET', KEYS[4], table.concat(claimed, ','), 'EX', 60)
return out
