#!lua
-- Runs a failed workflow again: only while it is still the failed run the
-- caller read (status `failed`, finish time ARGV 8), its record (`d`, status
-- `st`, step count `n`) becomes the running one given, its finish time and
-- expiry go, it is running again (set of running workflows, the steps it
-- waits for), the steps it asks for again lose their outcomes and, when
-- finished, their task records, and each task given (the resume that
-- replays it) is added as claimable unless its id exists. A call resent after a lost reply (its request token `rq`) answers 1
-- again. The workflow's event bodies, then each task added its body ('' none),
-- go to the event log. Under out-of-memory the call is refused (no flags).
-- KEYS: 1 ids, 2 pending, 3 wake, 4 running workflows, 5 workflow expiries, 6 event log,
--       7 done, 8 counts, 9 expires
-- ARGV: 1 task key prefix, 2 workflow key prefix, 3 workflow pending-set prefix,
--       4 request token, 5 id, 6 json, 7 step count, 8 failedAt, 9 event cap (0: log off),
--       10 workflow event count, that many bodies, a pending count, that many ids,
--       a count of steps asked for again, their task ids, then
--       (task id, json, created (ms), status, claim spec (lib/slots.lua), event body) per task
-- Returns: 1 retried, 0 no longer that failed run, nil when unknown
--@include counts
--@include claimable
--@include slots
--@include events
--@include new-tasks
local id = ARGV[5]
local token = ARGV[4]
local ownEvents = tonumber(ARGV[10])
local firstPending = 12 + (ownEvents or 0)
local pendingCount = tonumber(ARGV[firstPending - 1])
local firstDropped = firstPending + (pendingCount or 0) + 1
local droppedCount = tonumber(ARGV[firstDropped - 1])
if (id or '') == '' or (token or '') == '' or (ARGV[6] or '') == '' or not tonumber(ARGV[7])
  or (ARGV[8] or '') == '' or not isEventCap(ARGV[9]) or not ownEvents or not pendingCount
  or not droppedCount then
  return redis.error_reply('sheppy retryWorkflow: expected an id, a token, json, a step count, a finish time, an event cap, workflow events, pending ids and the steps asked for again')
end
local firstTask = firstDropped + droppedCount
if not validNewTasks(firstTask) then
  return redis.error_reply('sheppy retryWorkflow: tasks come as (id, json, created, status, claim spec, event), each with an id, json, a creation time, a status and a claim spec')
end
local wkey = ARGV[2] .. id
local stored = redis.call('HMGET', wkey, 'd', 'st', 'fa', 'rq')
if not stored[1] then
  return false
end
if stored[4] == token then
  return 1
end
if stored[2] ~= 'failed' or stored[3] ~= ARGV[8] then
  return 0
end
local eventCap = usableEventCap(KEYS[6], ARGV[9])
redis.call('HSET', wkey, 'd', ARGV[6], 'st', 'running', 'n', ARGV[7], 'rq', token)
redis.call('HDEL', wkey, 'fa', 'x')
redis.call('ZREM', KEYS[5], id)
redis.call('SADD', KEYS[4], id)
local pkey = ARGV[3] .. id
redis.call('DEL', pkey)
if pendingCount > 0 then
  redis.call('SADD', pkey, unpack(ARGV, firstPending, firstPending + pendingCount - 1))
end
for i = firstDropped, firstTask - 1 do
  local stepId = ARGV[i]
  redis.call('HDEL', wkey, 'o:' .. stepId)
  if redis.call('HGET', KEYS[7], stepId) then
    unfinish(KEYS[8], KEYS[7], KEYS[9], stepId)
    redis.call('DEL', ARGV[1] .. stepId)
    redis.call('ZREM', KEYS[1], stepId)
  end
end
for i = 11, firstPending - 2 do
  appendEvent(KEYS[6], eventCap, ARGV[i])
end
addNewTasks(firstTask, token, ARGV[1], KEYS[1], KEYS[2], KEYS[3], KEYS[6], eventCap)
writeEvents()
return 1
