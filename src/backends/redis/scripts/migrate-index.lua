#!lua flags=allow-oom
-- Moves ids from the set earlier versions kept into the creation index,
-- each with its record's creation time (read by the caller from the JSON).
-- An id whose record is gone only leaves the set; one the index already
-- holds keeps its place there (written since by this version). The set's
-- key goes with its last member. Safe to run twice, or from two processes.
-- KEYS: 1 the earlier versions' id set, 2 ids
-- ARGV: 1 task key prefix, then (id, created (ms)) pairs
-- Returns: how many ids it moved
if (#ARGV - 1) % 2 ~= 0 then
  return redis.error_reply('sheppy migrateIndex: expected (id, created) pairs')
end
for i = 2, #ARGV, 2 do
  if ARGV[i] == '' or not tonumber(ARGV[i + 1]) then
    return redis.error_reply('sheppy migrateIndex: pair ' .. (i / 2) .. ' needs an id and a numeric time')
  end
end
local moved = 0
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('SREM', KEYS[1], id) == 1 and redis.call('HEXISTS', ARGV[1] .. id, 'd') == 1 then
    moved = moved + redis.call('ZADD', KEYS[2], 'NX', ARGV[i + 1], id)
  end
end
return moved
