#!lua flags=allow-oom
-- Cancels a running workflow: status `cancelled` with its finish time and
-- expiry, out of the running set, no steps waited for; and every step it
-- waited for that is claimable or waiting for a time (not claimed) is
-- cancelled as `cancel.lua` cancels a task (lib/cancel-waiting.lua). A step already running finishes,
-- but nothing resumes the workflow. The workflow and the cancelled steps are
-- announced. Safe to resend: a second call finds the workflow finished.
-- With event bodies (a count, then (step id, body) pairs; '' for the count
-- when none are given), each step cancelled appends its body to the event
-- log, and a step it would cancel that has none makes it answer 'stale'
-- before any write (the caller read the workflow before a resume added it).
-- The workflow's own event body (ARGV 10, '' none) is appended after them.
-- KEYS: 1 pending, 2 scheduled, 3 processing, 4 done, 5 counts, 6 expires,
--       7 running workflows, 8 workflow expiries, 9 wake, 10 event log
-- ARGV: 1 task key prefix, 2 workflow key prefix, 3 workflow pending-set prefix, 4 id,
--       5 finishedAt (ISO), 6 expires ('' = none), 7 step expires ('' = none), 8 finished channel,
--       9 event cap (0: log off), 10 the workflow's event body, 11 body count ('' = none given),
--       then that many (step id, body)
-- Returns: { json, status, finishedAt } of the workflow; 'finished' when it had finished;
--          'stale'; nil when unknown
--@include counts
--@include claimable
--@include slots
--@include cancel-waiting
--@include events
local id = ARGV[4]
if (id or '') == '' or (ARGV[5] or '') == '' or (ARGV[6] ~= '' and not tonumber(ARGV[6]))
  or (ARGV[7] ~= '' and not tonumber(ARGV[7])) then
  return redis.error_reply('sheppy cancelWorkflow: expected an id, a finish time and numeric expiries or none')
end
local bodyCount = ARGV[11] ~= '' and tonumber(ARGV[11]) or nil
if not isEventCap(ARGV[9]) or ARGV[10] == nil or ARGV[11] == nil or (ARGV[11] ~= '' and not bodyCount)
  or #ARGV ~= 11 + 2 * (bodyCount or 0) then
  return redis.error_reply('sheppy cancelWorkflow: expected an event cap, an event or none and (step id, body) pairs or none')
end
local bodies = nil
if bodyCount then
  bodies = {}
  for i = 12, 11 + 2 * bodyCount, 2 do
    bodies[ARGV[i]] = ARGV[i + 1]
  end
end
local wkey = ARGV[2] .. id
local status = redis.call('HGET', wkey, 'st')
if not status then
  return false
end
if status ~= 'running' then
  return 'finished'
end
local announced = { id }
local pkey = ARGV[3] .. id
local steps = redis.call('SMEMBERS', pkey)
if bodies then
  for _, stepId in ipairs(steps) do
    -- A step that waits (held, unclaimed) is one this call cancels: it must have its event.
    if not bodies[stepId] and redis.call('HEXISTS', ARGV[1] .. stepId, 'd') == 1
      and not redis.call('ZSCORE', KEYS[3], stepId) then
      return 'stale'
    end
  end
end
local eventCap = usableEventCap(KEYS[10], ARGV[9])
for _, stepId in ipairs(steps) do
  local cancelled, admitted = cancelWaiting(ARGV[1] .. stepId, stepId, KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[5], ARGV[7])
  if cancelled then
    announced[#announced + 1] = stepId
    if bodies and bodies[stepId] then
      appendEvent(KEYS[10], eventCap, bodies[stepId])
    end
  end
  if admitted and redis.call('LLEN', KEYS[9]) == 0 then
    redis.call('RPUSH', KEYS[9], '1')
  end
end
redis.call('DEL', pkey)
redis.call('SREM', KEYS[7], id)
redis.call('HSET', wkey, 'st', 'cancelled', 'fa', ARGV[5])
if ARGV[6] ~= '' then
  redis.call('HSET', wkey, 'x', ARGV[6])
  redis.call('ZADD', KEYS[8], tonumber(ARGV[6]), id)
end
redis.call('PUBLISH', ARGV[8], table.concat(announced, ','))
if ARGV[10] ~= '' then
  appendEvent(KEYS[10], eventCap, ARGV[10])
end
writeEvents()
return redis.call('HMGET', wkey, 'd', 'st', 'fa')
