-- Cancels a task that is pending or waiting for a time and not claimed.
-- Replays its first answer when resent with the same request key.
-- KEYS: 1 pending, 2 scheduled, 3 processing, 4 done, 5 counts, 6 request memo
-- ARGV: 1 task key prefix, 2 id, 3 finishedAt (ISO), 4 finished channel
-- Returns: json, status, startedAt, finishedAt of the cancelled record, or nil.
local id = ARGV[2]
local key = ARGV[1] .. id
local memo = redis.call('GET', KEYS[6])
if memo == '1' then
  return redis.call('HMGET', key, 'd', 'status', 'startedAt', 'finishedAt')
elseif memo then
  return false
end
if redis.call('EXISTS', key) == 0 or redis.call('ZSCORE', KEYS[3], id) then
  redis.call('SET', KEYS[6], '0', 'EX', 300)
  return false
end
local removed = redis.call('LREM', KEYS[1], 0, id) + redis.call('ZREM', KEYS[2], id)
if removed == 0 then
  redis.call('SET', KEYS[6], '0', 'EX', 300)
  return false
end
redis.call('SET', KEYS[6], '1', 'EX', 300)
redis.call('HSET', key, 'status', 'cancelled', 'finishedAt', ARGV[3])
redis.call('HSET', KEYS[4], id, 'cancelled')
redis.call('HINCRBY', KEYS[5], 'cancelled', 1)
redis.call('PUBLISH', ARGV[4], id)
return redis.call('HMGET', key, 'd', 'status', 'startedAt', 'finishedAt')
