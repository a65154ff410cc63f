-- Stores a record as scheduled for `at`. With unique = '1' an existing id is
-- left alone (0); otherwise it replaces the old record in every state —
-- unless a worker is running it right now, which is refused (0) too.
-- Replays its first answer when resent with the same request key.
-- KEYS: 1 all, 2 scheduled, 3 pending, 4 processing, 5 done, 6 counts, 7 request memo, 8 expires
-- ARGV: 1 task key prefix, 2 unique, 3 id, 4 json, 5 at (ms)
local memo = redis.call('GET', KEYS[7])
if memo then
  return tonumber(memo)
end
local id = ARGV[3]
local key = ARGV[1] .. id
if ARGV[2] == '1' then
  if redis.call('EXISTS', key) == 1 then
    redis.call('SET', KEYS[7], '0', 'EX', 60)
    return 0
  end
else
  if redis.call('ZSCORE', KEYS[4], id) then
    redis.call('SET', KEYS[7], '0', 'EX', 60)
    return 0
  end
  redis.call('LREM', KEYS[3], 0, id)
  redis.call('ZREM', KEYS[4], id)
  local old = redis.call('HGET', KEYS[5], id)
  if old then
    redis.call('HDEL', KEYS[5], id)
    redis.call('HINCRBY', KEYS[6], old, -1)
    -- A finished record re-queued loses its expiry (TTL-12).
    redis.call('ZREM', KEYS[8], id)
  end
  redis.call('DEL', key)
end
redis.call('HSET', key, 'd', ARGV[4])
redis.call('SADD', KEYS[1], id)
redis.call('ZADD', KEYS[2], tonumber(ARGV[5]), id)
redis.call('SET', KEYS[7], '1', 'EX', 60)
return 1
