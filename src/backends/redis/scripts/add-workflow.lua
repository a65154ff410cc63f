#!lua
-- Stores a new workflow with the steps its first run asked for, together:
-- the record (`d`, status `st`, step count `n`), the steps it waits for, its
-- place in the indexes, and each step task added as claimable unless its id
-- exists (listed by its creation time). A workflow that finished in its
-- first run gets its finish time and expiry and is announced. An id the
-- queue holds is left alone (answer 0) — unless it was stored by this same
-- call (request token `rq`), resent after a lost reply (answer 1). A stored
-- workflow appends its own event bodies, then each step added its body ('' none),
-- to the event log. Under out-of-memory the call is refused (no flags).
-- KEYS: 1 ids, 2 pending, 3 wake, 4 workflows, 5 running workflows, 6 workflow expiries, 7 event log
-- ARGV: 1 task key prefix, 2 workflow key prefix, 3 workflow pending-set prefix,
--       4 request token, 5 id, 6 json, 7 status, 8 step count, 9 finishedAt ('' while running),
--       10 expires ('' = none), 11 finished channel, 12 event cap (0: log off),
--       13 workflow event count, that many bodies, a pending count, that many ids, then
--       (step id, step json, created (ms), status, claim spec (lib/slots.lua), event body) per step
-- Returns: 1 stored, 0 the id exists
--@include claimable
--@include slots
--@include events
--@include new-tasks
local id = ARGV[5]
local token = ARGV[4]
local ownEvents = tonumber(ARGV[13])
local firstPending = 15 + (ownEvents or 0)
local pendingCount = tonumber(ARGV[firstPending - 1])
if (id or '') == '' or (token or '') == '' or (ARGV[6] or '') == '' or (ARGV[7] or '') == ''
  or not tonumber(ARGV[8]) or not ownEvents or not pendingCount
  or (ARGV[10] ~= '' and not tonumber(ARGV[10])) or not isEventCap(ARGV[12]) then
  return redis.error_reply('sheppy addWorkflow: expected an id, a token, json, a status, a step count, an expiry or none, an event cap, workflow events and pending ids')
end
local firstStep = firstPending + pendingCount
if not validNewTasks(firstStep) then
  return redis.error_reply('sheppy addWorkflow: steps come as (id, json, created, status, claim spec, event), each with an id, json, a creation time, a status and a claim spec')
end
local wkey = ARGV[2] .. id
if redis.call('EXISTS', wkey) == 1 then
  return redis.call('HGET', wkey, 'rq') == token and 1 or 0
end
local eventCap = usableEventCap(KEYS[7], ARGV[12])
redis.call('HSET', wkey, 'd', ARGV[6], 'st', ARGV[7], 'n', ARGV[8], 'rq', token)
redis.call('SADD', KEYS[4], id)
if ARGV[7] == 'running' then
  redis.call('SADD', KEYS[5], id)
  if pendingCount > 0 then
    redis.call('SADD', ARGV[3] .. id, unpack(ARGV, firstPending, firstPending + pendingCount - 1))
  end
else
  redis.call('HSET', wkey, 'fa', ARGV[9])
  if ARGV[10] ~= '' then
    redis.call('HSET', wkey, 'x', ARGV[10])
    redis.call('ZADD', KEYS[6], tonumber(ARGV[10]), id)
  end
  redis.call('PUBLISH', ARGV[11], id)
end
for i = 14, firstPending - 2 do
  appendEvent(KEYS[7], eventCap, ARGV[i])
end
addNewTasks(firstStep, token, ARGV[1], KEYS[1], KEYS[2], KEYS[3], KEYS[7], eventCap)
writeEvents()
return 1
