#!lua flags=allow-oom
-- Removes up to `batch` workflows and task records per call; when none is
-- left, removes the queue's other state (crons and rate limits included).
-- Ids still in the set earlier versions kept (not yet moved into the
-- creation index, or written there by a process of an earlier version) are
-- records of the queue too, and go the same way. The event log is emptied
-- last, with the rest, but its numbering is kept (lib/events.lua), so a new
-- event never takes the position of a cleared one (a reader resuming after
-- that position would skip it).
-- KEYS: 1 ids, 2 pending, 3 wake, 4 scheduled, 5 processing, 6 done, 7 counts, 8 crons,
--       9 rate-limit key set, 10 expires, 11 suspects, 12 workflows, 13 running workflows,
--       14 workflow expiries, 15 the earlier versions' id set, 16 dedupe, 17 dedupe checks,
--       18 event log
-- ARGV: 1 task key prefix, 2 batch, 3 workflow key prefix, 4 workflow pending-set prefix
-- Returns: { removed, finished (1 when the queue is empty) }
--@include claimable
--@include events
--@include slots
local batch = tonumber(ARGV[2])
if not batch or batch < 1 then
  return redis.error_reply('sheppy clear: batch must be a number ≥ 1')
end
local removed = 0
for _, id in ipairs(redis.call('SPOP', KEYS[12], batch)) do
  redis.call('DEL', ARGV[3] .. id, ARGV[4] .. id)
  removed = removed + 1
end
if redis.call('SCARD', KEYS[12]) > 0 then
  return { removed, 0 }
end
-- A deleted record's claim leaves the fences list with it: a settle finding
-- the claim still listed would write the record back (it trusts the list and
-- reads nothing of the hash), after a later call of this clear has gone past.
local fences = KEYS[5] .. ':fences'
-- ZPOPMIN answers (id, score) pairs.
local popped = redis.call('ZPOPMIN', KEYS[1], batch)
for i = 1, #popped, 2 do
  redis.call('DEL', ARGV[1] .. popped[i])
  redis.call('HDEL', fences, popped[i])
  removed = removed + 1
end
if redis.call('ZCARD', KEYS[1]) > 0 then
  return { removed, 0 }
end
for _, id in ipairs(redis.call('SPOP', KEYS[15], batch)) do
  redis.call('HDEL', fences, id)
  -- Already counted when the creation index held it too.
  if redis.call('DEL', ARGV[1] .. id) == 1 then
    removed = removed + 1
  end
end
if redis.call('SCARD', KEYS[15]) > 0 then
  return { removed, 0 }
end
removed = removed + redis.call('HLEN', KEYS[8])
for _, key in ipairs(redis.call('SMEMBERS', KEYS[9])) do
  redis.call('DEL', key)
end
-- The lists of other priorities than 0 (lib/claimable.lua), then their index.
for _, level in ipairs(redis.call('ZRANGE', KEYS[2] .. ':levels', 0, -1)) do
  redis.call('DEL', KEYS[2] .. ':' .. level)
end
redis.call('DEL', KEYS[2] .. ':levels')
clearSlots(KEYS[2])
redis.call('DEL', fences, KEYS[10] .. ':errors')
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11], KEYS[13], KEYS[14], KEYS[16], KEYS[17])
clearEvents(KEYS[18])
return { removed, 1 }
