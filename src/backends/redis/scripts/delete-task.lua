-- Deletes a finished task's record; unknown or unfinished → 0. A record whose
-- expiry has passed is already gone for readers: it is pruned, and reported 0.
-- KEYS: 1 all, 2 done, 3 counts, 4 expires
-- ARGV: 1 task key prefix, 2 id, 3 now (ms)
local id = ARGV[2]
local status = redis.call('HGET', KEYS[2], id)
if not status then
  return 0
end
local expires = tonumber(redis.call('HGET', ARGV[1] .. id, 'x'))
redis.call('DEL', ARGV[1] .. id)
redis.call('SREM', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)
redis.call('HINCRBY', KEYS[3], status, -1)
redis.call('ZREM', KEYS[4], id)
if expires and expires <= tonumber(ARGV[3]) then
  return 0
end
return 1
