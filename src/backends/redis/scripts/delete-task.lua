#!lua flags=allow-oom
-- Deletes a finished task's record; unknown or unfinished → 0. A record whose
-- expiry has passed is already gone for readers: it is pruned, and reported 0.
-- KEYS: 1 ids, 2 done, 3 counts, 4 expires
-- ARGV: 1 task key prefix, 2 id, 3 now (ms)
--@include counts
local id = ARGV[2]
local now = tonumber(ARGV[3])
if id == nil or id == '' or not now then
  return redis.error_reply('sheppy deleteTask: expected an id and a numeric time')
end
if not redis.call('HGET', KEYS[2], id) then
  return 0
end
local expires = tonumber(redis.call('HGET', ARGV[1] .. id, 'x'))
unfinish(KEYS[3], KEYS[2], KEYS[4], id)
redis.call('DEL', ARGV[1] .. id)
redis.call('ZREM', KEYS[1], id)
if expires and expires <= now then
  return 0
end
return 1
