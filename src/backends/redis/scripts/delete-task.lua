-- Deletes a finished task's record; unknown or unfinished → 0.
-- KEYS: 1 all, 2 done, 3 counts
-- ARGV: 1 task key prefix, 2 id
local id = ARGV[2]
local status = redis.call('HGET', KEYS[2], id)
if not status then
  return 0
end
redis.call('DEL', ARGV[1] .. id)
redis.call('SREM', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)
redis.call('HINCRBY', KEYS[3], status, -1)
return 1
