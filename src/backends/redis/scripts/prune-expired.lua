#!lua flags=allow-oom
-- Deletes up to `limit` finished records whose expiry (ms) is due by `now`,
-- keeping the queue's indexes exact: the id leaves the creation index, the
-- finished index and the expiry index, and its status count goes down by
-- one. An entry whose record no longer carries that expiry (field `x`) is
-- only dropped from the index.
-- KEYS: 1 expires (and the set beside it, lib/counts.lua), 2 ids, 3 done, 4 counts
-- Then, with bounds, deletes up to `limit` of each kind's
-- soonest-expiring records beyond it: what cancels left over it (a cancel
-- does not trim; a settle or this sweep does).
-- ARGV: 1 task key prefix, 2 now (ms), 3 limit, 4 count bounds ('maxFinished:maxFailed',
--       either '' for none; '' or absent = no bound)
-- Returns: { expired records deleted, looked at }
--@include counts
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local bounds = countBounds(KEYS[1], ARGV[4])
if not now or not limit or not bounds then
  return redis.error_reply('sheppy pruneExpired: now, limit and the count bounds must be numbers')
end
local deleted, looked = 0, 0
-- Both expiry sets, completed records' and the others' (lib/counts.lua).
for _, expiries in ipairs({ KEYS[1], errorExpiries(KEYS[1]) }) do
  local ids = redis.call('ZRANGEBYSCORE', expiries, '-inf', now, 'LIMIT', 0, limit)
  looked = looked + #ids
  for _, id in ipairs(ids) do
    redis.call('ZREM', expiries, id)
    local key = ARGV[1] .. id
    local expires = tonumber(redis.call('HGET', key, 'x'))
    if expires and expires <= now then
      unfinish(KEYS[4], KEYS[3], KEYS[1], id)
      redis.call('DEL', key)
      redis.call('ZREM', KEYS[2], id)
      deleted = deleted + 1
    end
  end
end
for _, bound in ipairs(bounds) do
  local expiries = bound[1]
  local excess = redis.call('ZCARD', expiries) - bound[2]
  if excess > 0 then
    local ids = redis.call('ZRANGE', expiries, 0, math.min(excess, limit) - 1)
    looked = looked + #ids
    for _, id in ipairs(ids) do
      unfinish(KEYS[4], KEYS[3], KEYS[1], id)
      redis.call('DEL', ARGV[1] .. id)
      redis.call('ZREM', KEYS[2], id)
    end
  end
end
-- Counted: the expired ones only, as on every backend. At least `limit` looked at when a set had
-- that many due or over the bound: the caller calls again.
return { deleted, looked }
