-- Stores attempt outcomes and releases their leases. Per record, `kind`:
--   due     → re-queued for `extra` (ms): pending at once when already due
--   pending → back in the queue now
--   done    → finished with status `extra`; announced on the channel
--   keep    → stored only
-- KEYS: 1 pending, 2 wake, 3 scheduled, 4 processing, 5 done, 6 counts
-- ARGV: 1 task key prefix, 2 now (ms), 3 finished channel, then (id, json, kind, extra) quads
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local finished = {}
local queued = false
for i = 4, #ARGV, 4 do
  local id, json, kind, extra = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local key = prefix .. id
  redis.call('ZREM', KEYS[4], id)
  redis.call('HDEL', key, 'status', 'startedAt', 'finishedAt', 'owner')
  redis.call('HSET', key, 'd', json)
  local old = redis.call('HGET', KEYS[5], id)
  if old then
    redis.call('HDEL', KEYS[5], id)
    redis.call('HINCRBY', KEYS[6], old, -1)
  end
  if kind == 'due' then
    local due = tonumber(extra)
    if due <= now then
      redis.call('HSET', key, 'status', 'pending')
      redis.call('RPUSH', KEYS[1], id)
      queued = true
    else
      redis.call('ZADD', KEYS[3], due, id)
    end
  elseif kind == 'pending' then
    redis.call('RPUSH', KEYS[1], id)
    queued = true
  elseif kind == 'done' then
    redis.call('HSET', KEYS[5], id, extra)
    redis.call('HINCRBY', KEYS[6], extra, 1)
    finished[#finished + 1] = id
  end
end
if queued and redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('RPUSH', KEYS[2], '1')
end
if #finished > 0 then
  redis.call('PUBLISH', ARGV[3], table.concat(finished, ','))
end
return #finished
