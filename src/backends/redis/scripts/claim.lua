-- Claims up to `limit` pending tasks, oldest first: each becomes `processing`
-- under a lease (score = server time) owned by the caller (field `owner` of
-- the task's hash). If tasks remain, leaves a wake marker so another idle
-- worker wakes up too. Resent with the same request key (its reply was lost
-- to a dropped connection), it returns the tasks it claimed the first time,
-- so no claim is ever orphaned.
-- KEYS: 1 pending, 2 processing, 3 wake, 4 request memo
-- ARGV: 1 task key prefix, 2 limit, 3 startedAt (ISO), 4 consumer id
-- Returns: id1, json1, id2, json2, …
local memo = redis.call('GET', KEYS[4])
if memo then
  local out = {}
  for id in string.gmatch(memo, '[^,]+') do
    local fields = redis.call('HMGET', ARGV[1] .. id, 'd', 'owner')
    if fields[1] and fields[2] == ARGV[4] then
      out[#out + 1] = id
      out[#out + 1] = fields[1]
    end
  end
  return out
end
local ids = redis.call('LPOP', KEYS[1], tonumber(ARGV[2]))
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
    redis.call('HSET', key, 'status', 'processing', 'startedAt', ARGV[3], 'owner', ARGV[4])
    redis.call('ZADD', KEYS[2], now, id)
    out[#out + 1] = id
    out[#out + 1] = json
    claimed[#claimed + 1] = id
  end
end
if redis.call('LLEN', KEYS[1]) > 0 and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
redis.call('SET', KEYS[4], table.concat(claimed, ','), 'EX', 60)
return out
