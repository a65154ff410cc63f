#!lua flags=allow-oom
-- Cancels a task that is claimable or waiting for a time and not claimed —
-- or, when ARGV 17 is '1', claimed: its claim ends (out of the processing
-- index and its fences list, so the holder's renewal finds it lost and its
-- settle, whose fence is no longer current nor settled, writes nothing), and
-- its concurrency key's slot is freed. It is stored `cancelled` with
-- `finishedAt`, expiring at `expires` (ms; '' keeps it), and announced on
-- the finished channel. Replays its first
-- answer when resent with the same request key. A workflow step cancelled
-- so ends as a step (see lib/workflows.lua): its workflow stops waiting for
-- it, and after its last step gets its resume task. A cancel that cancels
-- appends its event body (when given: '' is none) to the event log, then
-- the resume's (ARGV 16, '' none) when it added the resume.
-- KEYS: 1 pending, 2 scheduled, 3 processing, 4 done, 5 counts, 6 request memo, 7 expires,
--       8 ids, 9 wake, 10 event log
-- ARGV: 1 task key prefix, 2 id, 3 finishedAt (ISO), 4 finished channel, 5 expires,
--       6 workflow key prefix, 7 workflow pending-set prefix, 8 workflow id ('' = not a step),
--       9 resume id, 10 resume json, 11 the cancelled record's json (kept with the workflow),
--       12 resume created (ms), 13 resume status, 14 event cap (0: log off), 15 event body,
--       16 the resume's event body, 17 '1' to cancel a claimed task too
-- Returns: json, status, startedAt, finishedAt of the cancelled record, or nil
--@include counts
--@include claimable
--@include slots
--@include cancel-waiting
--@include workflows
--@include events
local id = ARGV[2]
local key = ARGV[1] .. id
if id == nil or id == '' or ARGV[3] == nil or ARGV[3] == '' or (ARGV[5] ~= '' and not tonumber(ARGV[5])) then
  return redis.error_reply('sheppy cancel: expected an id, a finish time and a numeric expiry or none')
end
if (ARGV[8] or '') ~= '' and ((ARGV[9] or '') == '' or (ARGV[10] or '') == '' or (ARGV[11] or '') == ''
  or not tonumber(ARGV[12]) or (ARGV[13] or '') == '') then
  return redis.error_reply('sheppy cancel: a workflow step needs a resume task and its cancelled record')
end
if not isEventCap(ARGV[14]) or ARGV[15] == nil or ARGV[16] == nil or (ARGV[17] ~= '0' and ARGV[17] ~= '1') then
  return redis.error_reply('sheppy cancel: expected an event cap, event bodies or none and a running flag')
end
local memo = redis.call('GET', KEYS[6])
if memo == '1' then
  return redis.call('HMGET', key, 'd', 'status', 'startedAt', 'finishedAt')
elseif memo then
  return false
end
local eventCap = usableEventCap(KEYS[10], ARGV[14])
-- Ends the claim of a claimed task and stores it cancelled; true when it was claimed.
local function cancelClaimed()
  if ARGV[17] ~= '1' or not redis.call('ZSCORE', KEYS[3], id) then
    return false
  end
  local fields = redis.call('HMGET', key, 'ck', 'cs', 'x')
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[3] .. ':fences', id)
  leaveSlot(KEYS[1], ARGV[1], id, true, fields[1], fields[2])
  redis.call('HSET', key, 'status', 'cancelled', 'finishedAt', ARGV[3])
  redis.call('HSET', KEYS[4], id, 'cancelled')
  bump(KEYS[5], KEYS[4], 'cancelled', 1)
  if ARGV[5] ~= '' then
    redis.call('HSET', key, 'x', ARGV[5])
    redis.call('ZADD', errorExpiries(KEYS[7]), tonumber(ARGV[5]), id)
  elseif fields[3] then
    redis.call('HDEL', key, 'x')
  end
  return true
end
local cancelled, admitted = cancelWaiting(key, id, KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[7], ARGV[3], ARGV[5])
-- An ended claim may have freed a slot, or room under the queue's cap: a waiting claim looks again.
if not cancelled and cancelClaimed() then
  cancelled, admitted = true, true
end
if not cancelled then
  redis.call('SET', KEYS[6], '0', 'EX', 60)
  return false
end
if admitted and redis.call('LLEN', KEYS[9]) == 0 then
  redis.call('RPUSH', KEYS[9], '1')
end
redis.call('SET', KEYS[6], '1', 'EX', 60)
local resume = { id = ARGV[9], json = ARGV[10], created = ARGV[12], status = ARGV[13] }
local resumed = (ARGV[8] or '') ~= ''
  and stepEnded(ARGV[6], ARGV[7], ARGV[1], KEYS[1], KEYS[8], ARGV[8], id, ARGV[11], resume)
if resumed and redis.call('LLEN', KEYS[9]) == 0 then
  redis.call('RPUSH', KEYS[9], '1')
end
if ARGV[15] ~= '' then
  appendEvent(KEYS[10], eventCap, ARGV[15])
end
if resumed and ARGV[16] ~= '' then
  appendEvent(KEYS[10], eventCap, ARGV[16])
end
writeEvents()
redis.call('PUBLISH', ARGV[4], id)
return redis.call('HMGET', key, 'd', 'status', 'startedAt', 'finishedAt')
