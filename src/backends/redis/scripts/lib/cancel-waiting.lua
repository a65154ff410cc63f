-- Cancels the task `id` when it waits to run — claimable or waiting for a
-- time — and is not claimed: out of the pending list or the due index,
-- stored `cancelled` at `finishedAt` (ISO), counted, and expiring at
-- `expires` (ms; '' keeps it). Returns true when it cancelled it.
-- Needs lib/counts.lua and lib/claimable.lua included before it.
local function cancelWaiting(key, id, pendingKey, scheduledKey, processingKey, doneKey, countsKey, expiresKey, finishedAt, expires)
  if redis.call('HEXISTS', key, 'd') == 0 or redis.call('ZSCORE', processingKey, id) then
    return false
  end
  local priority = redis.call('HGET', key, 'pr')
  if removeClaimable(pendingKey, id, priority) + redis.call('ZREM', scheduledKey, id) == 0 then
    return false
  end
  redis.call('HSET', key, 'status', 'cancelled', 'finishedAt', finishedAt)
  redis.call('HSET', doneKey, id, 'cancelled')
  bump(countsKey, doneKey, 'cancelled', 1)
  if expires ~= '' then
    redis.call('HSET', key, 'x', expires)
    redis.call('ZADD', expiresKey, tonumber(expires), id)
  end
  return true
end
