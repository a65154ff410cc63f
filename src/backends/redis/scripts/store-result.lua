-- Stores attempt outcomes and releases their leases. Per record, `kind`:
--   due     → re-queued for `extra` (ms): pending at once when already due
--   pending → back in the queue now
--   done    → finished with status `extra`; announced on the channel
--   keep    → stored only
-- KEYS: 1 all, 2 pending, 3 wake, 4 scheduled, 5 processing, 6 owner, 7 done, 8 counts
-- ARGV: 1 task key prefix, 2 now (ms), 3 finished channel, then (id, json, kind, extra) quads
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local finished = {}
local queued = false
for i = 4, #ARGV, 4 do
  local id, json, kind, extra = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local key = prefix .. id
  redis.call('ZREM', KEYS[5], id)
  redis.call('HDEL', KEYS[6], id)
  redis.call('ZREM', KEYS[4], id)
  redis.call('DEL', key)
  redis.call('HSET', key, 'd', json)
  redis.call('SADD', KEYS[1], id)
  local old = redis.call('HGET', KEYS[7], id)
  if old then
    redis.call('HDEL', KEYS[7], id)
    redis.call('HINCRBY', KEYS[8], old, -1)
  end
  if kind == 'due' then
    local due = tonumber(extra)
    if due <= now then
      redis.call('HSET', key, 'status', 'pending')
      redis.call('RPUSH', KEYS[2], id)
      queued = true
    else
      redis.call('ZADD', KEYS[4], due, id)
    end
  elseif kind == 'pending' then
    redis.call('RPUSH', KEYS[2], id)
    queued = true
  elseif kind == 'done' then
    redis.call('HSET', KEYS[7], id, extra)
    redis.call('HINCRBY', KEYS[8], extra, 1)
    finished[#finished + 1] = id
  end
end
if queued and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
if #finished > 0 then
  redis.call('PUBLISH', ARGV[3], table.concat(finished, ','))
end
return #finished
