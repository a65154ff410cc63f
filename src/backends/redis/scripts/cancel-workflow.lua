#!lua flags=allow-oom
-- Cancels a running workflow: status `cancelled` with its finish time and
-- expiry, out of the running set, no steps waited for; and every step it
-- waited for that is claimable or waiting for a time (not claimed) is
-- cancelled as `cancel.lua` cancels a task (lib/cancel-waiting.lua). A step already running finishes,
-- but nothing resumes the workflow. The workflow and the cancelled steps are
-- announced. Safe to resend: a second call finds the workflow finished.
-- KEYS: 1 pending, 2 scheduled, 3 processing, 4 done, 5 counts, 6 expires,
--       7 running workflows, 8 workflow expiries, 9 wake
-- ARGV: 1 task key prefix, 2 workflow key prefix, 3 workflow pending-set prefix, 4 id,
--       5 finishedAt (ISO), 6 expires ('' = none), 7 step expires ('' = none), 8 finished channel
-- Returns: { json, status, finishedAt } of the workflow; 'finished' when it had finished; nil when unknown
--@include counts
--@include claimable
--@include slots
--@include cancel-waiting
local id = ARGV[4]
if (id or '') == '' or (ARGV[5] or '') == '' or (ARGV[6] ~= '' and not tonumber(ARGV[6]))
  or (ARGV[7] ~= '' and not tonumber(ARGV[7])) then
  return redis.error_reply('sheppy cancelWorkflow: expected an id, a finish time and numeric expiries or none')
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
for _, stepId in ipairs(redis.call('SMEMBERS', pkey)) do
  local cancelled, admitted = cancelWaiting(ARGV[1] .. stepId, stepId, KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], ARGV[5], ARGV[7])
  if cancelled then
    announced[#announced + 1] = stepId
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
return redis.call('HMGET', wkey, 'd', 'st', 'fa')
