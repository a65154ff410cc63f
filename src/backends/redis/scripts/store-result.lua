-- Stores attempt outcomes and releases their leases. Per record, `kind`:
--   due     → re-queued for `extra` (ms): pending at once when already due
--   pending → back in the queue now
--   done    → finished with status `extra`; announced on the channel; with
--             `expires` (ms) it is indexed for expiry (field `x` + expires zset)
--   keep    → stored only
-- Every record loses a previous expiry (only finished records have one, TTL-12).
-- Fencing: a record claimed by another consumer now (the caller's lease was
-- taken over), or no longer in the queue (deleted, cleared, expired), is not
-- written; its id is returned. A record not claimed at all (a malformed one
-- set aside, or a resend of this very call) is first taken out of pending and
-- scheduled, so it is never queued twice.
-- KEYS: 1 pending, 2 wake, 3 scheduled, 4 processing, 5 done, 6 counts, 7 expires, 8 all
-- ARGV: 1 task key prefix, 2 now (ms), 3 finished channel, 4 consumer id,
--       then (id, json, kind, extra, expires) quintuples
-- Returns: the ids not written
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local finished = {}
local lost = {}
local queued = false

-- Whether the caller may write `id`; takes it out of processing (or, when
-- unclaimed, out of pending and scheduled) if so.
local function release(id, key)
  if redis.call('ZSCORE', KEYS[4], id) then
    if redis.call('HGET', key, 'owner') ~= ARGV[4] then
      return false
    end
    redis.call('ZREM', KEYS[4], id)
    return true
  end
  if redis.call('SISMEMBER', KEYS[8], id) == 0 then
    return false
  end
  redis.call('LREM', KEYS[1], 0, id)
  redis.call('ZREM', KEYS[3], id)
  return true
end

local function write(id, key, json, kind, extra, expires)
  redis.call('HDEL', key, 'status', 'startedAt', 'finishedAt', 'owner', 'x')
  if expires ~= '' then
    redis.call('HSET', key, 'd', json, 'x', expires)
  else
    redis.call('HSET', key, 'd', json)
  end
  local old = redis.call('HGET', KEYS[5], id)
  if old then
    redis.call('HDEL', KEYS[5], id)
    redis.call('HINCRBY', KEYS[6], old, -1)
    -- Only finished records are in the expiry index.
    if expires == '' then
      redis.call('ZREM', KEYS[7], id)
    end
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
    if expires ~= '' then
      redis.call('ZADD', KEYS[7], expires, id)
    end
    finished[#finished + 1] = id
  end
end

for i = 5, #ARGV, 5 do
  local id = ARGV[i]
  local key = prefix .. id
  if release(id, key) then
    write(id, key, ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4])
  else
    lost[#lost + 1] = id
  end
end
if queued and redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('RPUSH', KEYS[2], '1')
end
if #finished > 0 then
  redis.call('PUBLISH', ARGV[3], table.concat(finished, ','))
end
return lost
