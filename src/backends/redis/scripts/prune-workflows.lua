#!lua flags=allow-oom
-- Deletes up to `limit` finished workflows whose expiry (ms) is due by `now`,
-- with their step outcomes. An index entry whose workflow no longer carries
-- that expiry (field `x`) is only dropped from the index.
-- KEYS: 1 workflow expiries, 2 workflows
-- ARGV: 1 workflow key prefix, 2 workflow pending-set prefix, 3 now (ms), 4 limit
-- Returns: { deleted, looked at }
local now = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
if not now or not limit then
  return redis.error_reply('sheppy pruneWorkflows: now and limit must be numbers')
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, limit)
local deleted = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local wkey = ARGV[1] .. id
  local expires = tonumber(redis.call('HGET', wkey, 'x'))
  if expires and expires <= now then
    redis.call('DEL', wkey, ARGV[2] .. id)
    redis.call('SREM', KEYS[2], id)
    deleted = deleted + 1
  end
end
return { deleted, #ids }
