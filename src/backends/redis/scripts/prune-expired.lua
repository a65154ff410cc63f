-- Deletes up to `limit` finished records whose expiry (ms) is due by `now`,
-- keeping the queue's indices exact: the id leaves the all set, the done hash
-- and the expiry index, and its status count goes down by one. An entry whose
-- record no longer carries that expiry (field `x`) is only dropped from the index.
-- KEYS: 1 expires, 2 all, 3 done, 4 counts
-- ARGV: 1 task key prefix, 2 now (ms), 3 limit
-- Returns: { deleted, looked at }
local now = tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local deleted = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local key = ARGV[1] .. id
  local expires = tonumber(redis.call('HGET', key, 'x'))
  if expires and expires <= now then
    local status = redis.call('HGET', KEYS[3], id)
    if status then
      redis.call('HDEL', KEYS[3], id)
      redis.call('HINCRBY', KEYS[4], status, -1)
    end
    redis.call('DEL', key)
    redis.call('SREM', KEYS[2], id)
    deleted = deleted + 1
  end
end
return { deleted, #ids }
