-- Cancels the task `id` when it waits to run — claimable or waiting for a
-- time — and is not claimed: out of the pending list or the due index,
-- stored `cancelled` at `finishedAt` (ISO), counted, and expiring at
-- `expires` (ms; '' keeps it). Returns true when it cancelled it.
-- A task held for its concurrency key's slot waits too: it leaves the
-- key's line (lib/slots.lua). Returns true when it cancelled it, and
-- whether a held task became claimable.
-- Needs lib/counts.lua, lib/claimable.lua and lib/slots.lua included before it.
local function cancelWaiting(key, id, pendingKey, scheduledKey, processingKey, doneKey, countsKey, expiresKey, finishedAt, expires)
  if redis.call('HEXISTS', key, 'd') == 0 or redis.call('ZSCORE', processingKey, id) then
    return false
  end
  local fields = redis.call('HMGET', key, 'pr', 'cs')
  local removed = removeClaimable(pendingKey, id, fields[1]) + redis.call('ZREM', scheduledKey, id)
  if removed == 0 and fields[2] ~= 'h' then
    return false
  end
  local admitted = leaveSlot(pendingKey, string.sub(key, 1, #key - #id), id)
  redis.call('HSET', key, 'status', 'cancelled', 'finishedAt', finishedAt)
  redis.call('HSET', doneKey, id, 'cancelled')
  bump(countsKey, doneKey, 'cancelled', 1)
  if expires ~= '' then
    redis.call('HSET', key, 'x', expires)
    redis.call('ZADD', errorExpiries(expiresKey), tonumber(expires), id)
  end
  return true, admitted
end
