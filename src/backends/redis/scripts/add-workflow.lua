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
if (#ARGV - firstStep + 1) % 6 ~= 0 then
  return redis.error_reply('sheppy addWorkflow: steps come as (id, json, created, status, claim spec, event)')
end
for i = firstStep, #ARGV, 6 do
  if ARGV[i] == '' or ARGV[i + 1] == '' or not tonumber(ARGV[i + 2]) or ARGV[i + 3] == ''
    or not isClaimSpec(ARGV[i + 4]) then
    return redis.error_reply('sheppy addWorkflow: a step needs an id, json, a creation time, a status and a claim spec')
  end
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
local queued = false
for i = firstStep, #ARGV, 6 do
  local stepKey = ARGV[1] .. ARGV[i]
  if redis.call('EXISTS', stepKey) == 0 then
    redis.call('HSET', stepKey, 'd', ARGV[i + 1], 'rq', token, 'status', ARGV[i + 3])
    local claimFields = storeClaimSpec(stepKey, ARGV[i + 4])
    redis.call('ZADD', KEYS[1], ARGV[i + 2], ARGV[i])
    if enqueueClaimable(KEYS[2], ARGV[1], ARGV[i], false, claimFields) then
      queued = true
    end
    if ARGV[i + 5] ~= '' then
      appendEvent(KEYS[7], eventCap, ARGV[i + 5])
    end
  end
end
if queued and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
writeEvents()
return 1
