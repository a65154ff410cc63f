#!lua flags=allow-oom
-- Deletes a finished workflow with its step outcomes. A running one is left
-- alone (answer 2); an unknown or expired one answers 0 (an expired one is
-- deleted on the way).
-- KEYS: 1 workflows, 2 running workflows, 3 workflow expiries
-- ARGV: 1 workflow key prefix, 2 workflow pending-set prefix, 3 id, 4 now (ms)
-- Returns: 1 deleted, 0 unknown, 2 running
local id = ARGV[3]
local now = tonumber(ARGV[4])
if (id or '') == '' or not now then
  return redis.error_reply('sheppy deleteWorkflow: expected an id and a time')
end
local wkey = ARGV[1] .. id
local fields = redis.call('HMGET', wkey, 'st', 'x')
if not fields[1] then
  return 0
end
if fields[1] == 'running' then
  return 2
end
redis.call('DEL', wkey, ARGV[2] .. id)
redis.call('SREM', KEYS[1], id)
redis.call('SREM', KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
local expires = tonumber(fields[2])
if expires and expires <= now then
  return 0
end
return 1
