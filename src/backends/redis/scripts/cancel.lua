-- Cancels a task that is pending or waiting for a time and not claimed.
-- Replays its first answer when resent with the same request key. The
-- cancelled record expires by the error TTL chain (src/task/ttl.ts, mirrored
-- here because only the script sees the record's config atomically):
-- task errorTtl → task ttl → backend errorTtl → backend ttl.
-- KEYS: 1 pending, 2 scheduled, 3 processing, 4 done, 5 counts, 6 request memo, 7 expires
-- ARGV: 1 task key prefix, 2 id, 3 finishedAt (ISO), 4 finished channel, 5 now (ms),
--       6 backend errorTtl, 7 backend ttl (seconds; 'inherit' or 'null' = keep forever)
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
  redis.call('SET', KEYS[6], '0', 'EX', 60)
  return false
end
local removed = redis.call('LREM', KEYS[1], 0, id) + redis.call('ZREM', KEYS[2], id)
if removed == 0 then
  redis.call('SET', KEYS[6], '0', 'EX', 60)
  return false
end
redis.call('SET', KEYS[6], '1', 'EX', 60)
redis.call('HSET', key, 'status', 'cancelled', 'finishedAt', ARGV[3])
redis.call('HSET', KEYS[4], id, 'cancelled')
redis.call('HINCRBY', KEYS[5], 'cancelled', 1)
-- A level is nil when it inherits, false when it keeps forever, else seconds.
local function level(value)
  if value == nil or value == 'inherit' then
    return nil
  end
  if value == cjson.null or value == 'null' then
    return false
  end
  return tonumber(value)
end
local ttl
local ok, record = pcall(cjson.decode, redis.call('HGET', key, 'd'))
if ok and type(record) == 'table' and type(record.config) == 'table' then
  ttl = level(record.config.errorTtl)
  if ttl == nil then
    ttl = level(record.config.ttl)
  end
end
if ttl == nil then
  ttl = level(ARGV[6])
end
if ttl == nil then
  ttl = level(ARGV[7])
end
if ttl then
  local expires = tonumber(ARGV[5]) + math.floor(ttl * 1000 + 0.5)
  redis.call('HSET', key, 'x', expires)
  redis.call('ZADD', KEYS[7], expires, id)
end
redis.call('PUBLISH', ARGV[4], id)
return redis.call('HMGET', key, 'd', 'status', 'startedAt', 'finishedAt')
