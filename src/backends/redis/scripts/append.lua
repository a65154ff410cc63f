-- Stores records and makes them pending (FIFO). With unique = '1' an id that
-- already exists is skipped (0); otherwise the old record is replaced and
-- taken out of every other state first (manual retry) — unless a worker is
-- running it right now, which is refused (0) too.
-- Each record written carries the call's request token (field `rq`): resent
-- with the same token (its reply was lost to a dropped connection), the call
-- recognises its own records and answers 1 for them again, instead of
-- reporting its own additions as duplicates.
-- KEYS: 1 all, 2 pending, 3 wake, 4 scheduled, 5 processing, 6 done, 7 counts, 8 expires
-- ARGV: 1 task key prefix, 2 unique ('1'|'0'), 3 request token, then (id, json) pairs
local prefix = ARGV[1]
local unique = ARGV[2] == '1'
local token = ARGV[3]
local results = {}
local added = 0
-- Ids met earlier in this call: a second copy in one call is a duplicate, even of our own write.
local seen = {}
for i = 4, #ARGV, 2 do
  local id = ARGV[i]
  local key = prefix .. id
  local exists = redis.call('EXISTS', key) == 1
  local again = seen[id]
  seen[id] = true
  if again then
    results[#results + 1] = 0
  elseif exists and redis.call('HGET', key, 'rq') == token then
    results[#results + 1] = 1
  elseif (unique and exists) or (not unique and redis.call('ZSCORE', KEYS[5], id)) then
    results[#results + 1] = 0
  else
    if not unique then
      redis.call('LREM', KEYS[2], 0, id)
      redis.call('ZREM', KEYS[4], id)
      local old = redis.call('HGET', KEYS[6], id)
      if old then
        redis.call('HDEL', KEYS[6], id)
        redis.call('HINCRBY', KEYS[7], old, -1)
        -- A finished record re-queued loses its expiry (TTL-12).
        redis.call('ZREM', KEYS[8], id)
      end
      redis.call('DEL', key)
    end
    redis.call('HSET', key, 'd', ARGV[i + 1], 'rq', token)
    redis.call('SADD', KEYS[1], id)
    redis.call('RPUSH', KEYS[2], id)
    results[#results + 1] = 1
    added = added + 1
  end
end
if added > 0 and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return results
