#!lua flags=allow-oom
-- Ends attempts, each atomically and fenced. A settlement is written only
-- while its fence is the task's current claim (field `f`, task in
-- `processing`); written, it records that fence as settled (field `sf`), so
-- the same settlement sent again (a resend after a lost reply) is answered
-- "settled" without writing twice, while a holder whose claim was taken
-- over is answered "lost". Per settlement, by route:
--   f → finished with status `extra`; indexed for expiry when `expires` is
--       given; announced on the finished channel
--   d → waits until `extra` (ms); claimable at once when that is not after now
--   p → claimable at once
-- Ending the claim frees the task's concurrency key slot (lib/slots.lua),
-- handed to the key's oldest held task; a record or chained task made
-- claimable takes a slot or is held as an added one is.
-- Its chained tasks are added as claimable in the same step, each only when
-- its id is new, listed by its creation time. Every record written keeps its
-- status beside its JSON (field `status`). A settlement may also end a
-- workflow step (the workflow stops waiting for it and, after its last
-- step, gets its resume task; see lib/workflows.lua) and may write a
-- workflow record left by a resume — only while the stored workflow still
-- runs with the step count the resume replayed; otherwise neither that
-- record nor the chained tasks (its new steps) are written. Finished
-- records beyond `maxFinished` (those due to expire soonest) are then deleted.
-- A settlement written now appends its event bodies, in order, to the event
-- log, then those of the chained tasks and the resume it adds now (each
-- only when added); a lost one, or a resend already written, appends nothing.
-- Every argument is checked before the first write. Allowed under
-- out-of-memory: it finishes work already running and frees memory.
-- KEYS: 1 pending, 2 wake, 3 scheduled, 4 processing, 5 done, 6 counts, 7 expires, 8 ids,
--       9 running workflows, 10 workflow expiries, 11 concurrency cap, 12 event log
-- ARGV: 1 task key prefix, 2 now (ms), 3 finished channel, 4 maxFinished ('' = no bound),
--       5 workflow key prefix, 6 workflow pending-set prefix, 7 event cap (0: log off),
--       then per settlement: id, fence, json, status, route, extra, expires, startedAt ('' none),
--       finishedAt ('' none), children count,
--       and that many (child id, json, created (ms), status, claim spec, event body ('' none));
--       a step flag (0/1) and, when 1, (workflow id, resume id, resume json, resume created (ms),
--       resume status, resume event body ('' none)); a write
--       flag (0/1) and, when 1, (workflow id, json, status, finishedAt, expected steps,
--       steps, expires, event body ('' none), pending count, and that many step ids); an event
--       count and that many event bodies
-- Returns: 1 (settled) or 0 (lost) per settlement
--@include counts
--@include claimable
--@include slots
--@include workflows
--@include events
--@include batches
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local maxFinished = ARGV[4] ~= '' and tonumber(ARGV[4]) or nil
local eventCap = ARGV[7]
if not now or (ARGV[4] ~= '' and not maxFinished) or not isEventCap(eventCap) then
  return redis.error_reply('sheppy settle: now, maxFinished and the event cap must be numbers')
end
local wfPrefix = ARGV[5]
local wpPrefix = ARGV[6]
local settlements = {}
local i = 8
while i <= #ARGV do
  local s = {
    id = ARGV[i],
    -- Digits only, so the text written back as the settled fence reads as this number.
    fence = string.match(ARGV[i + 1] or '', '^%d+$') and tonumber(ARGV[i + 1]),
    -- Written back as it came: a Lua number handed to redis.call is written with
    -- the C library's floating-point formatting, a cost per task.
    fenceText = ARGV[i + 1],
    json = ARGV[i + 2],
    status = ARGV[i + 3],
    route = ARGV[i + 4],
    extra = ARGV[i + 5],
    expires = ARGV[i + 6],
    startedAt = ARGV[i + 7],
    finishedAt = ARGV[i + 8],
    children = {},
  }
  local count = tonumber(ARGV[i + 9])
  local where = 'sheppy settle: settlement ' .. (#settlements + 1)
  if s.id == nil or s.id == '' or not s.fence or s.json == nil or s.json == ''
    or (s.status or '') == '' or s.startedAt == nil or s.finishedAt == nil or not count then
    return redis.error_reply(where .. ' needs an id, a fence, json, a status, its instants and a children count')
  end
  if s.route == 'f' then
    if s.extra == '' or (s.expires ~= '' and not tonumber(s.expires)) then
      return redis.error_reply(where .. ': a finished record needs a status and a numeric expiry or none')
    end
  elseif s.route == 'd' then
    if not tonumber(s.extra) then
      return redis.error_reply(where .. ': a waiting record needs a numeric due time')
    end
  elseif s.route ~= 'p' then
    return redis.error_reply(where .. ': route must be f, d or p')
  end
  i = i + 10
  for _ = 1, count do
    if (ARGV[i] or '') == '' or (ARGV[i + 1] or '') == '' or not tonumber(ARGV[i + 2])
      or (ARGV[i + 3] or '') == '' or not isClaimSpec(ARGV[i + 4]) or ARGV[i + 5] == nil then
      return redis.error_reply(where .. ': a chained task needs an id, json, a creation time, a status, a claim spec and an event or none')
    end
    s.children[#s.children + 1] = {
      id = ARGV[i], json = ARGV[i + 1], created = ARGV[i + 2], status = ARGV[i + 3], spec = ARGV[i + 4],
      event = ARGV[i + 5],
    }
    i = i + 6
  end
  if ARGV[i] == '1' then
    if (ARGV[i + 1] or '') == '' or (ARGV[i + 2] or '') == '' or (ARGV[i + 3] or '') == ''
      or not tonumber(ARGV[i + 4]) or (ARGV[i + 5] or '') == '' or ARGV[i + 6] == nil then
      return redis.error_reply(where .. ': a workflow step needs a workflow id, a resume task and its event or none')
    end
    s.step = {
      workflow = ARGV[i + 1],
      resume = { id = ARGV[i + 2], json = ARGV[i + 3], created = ARGV[i + 4], status = ARGV[i + 5] },
      event = ARGV[i + 6],
    }
    i = i + 7
  elseif ARGV[i] == '0' then
    i = i + 1
  else
    return redis.error_reply(where .. ': the workflow step flag must be 0 or 1')
  end
  if ARGV[i] == '1' then
    local pendingCount = tonumber(ARGV[i + 9])
    local w = {
      id = ARGV[i + 1],
      json = ARGV[i + 2],
      status = ARGV[i + 3],
      finishedAt = ARGV[i + 4],
      expected = tonumber(ARGV[i + 5]),
      steps = tonumber(ARGV[i + 6]),
      expires = ARGV[i + 7],
      event = ARGV[i + 8],
      pending = {},
    }
    if (w.id or '') == '' or (w.json or '') == '' or (w.status or '') == '' or not w.expected
      or not w.steps or not pendingCount or (w.expires ~= '' and not tonumber(w.expires))
      or w.event == nil then
      return redis.error_reply(where .. ': a workflow write needs an id, json, status, step counts, an expiry or none, an event or none and pending ids')
    end
    i = i + 10
    for _ = 1, pendingCount do
      if (ARGV[i] or '') == '' then
        return redis.error_reply(where .. ': a workflow write has an empty pending id')
      end
      w.pending[#w.pending + 1] = ARGV[i]
      i = i + 1
    end
    s.write = w
  elseif ARGV[i] == '0' then
    i = i + 1
  else
    return redis.error_reply(where .. ': the workflow write flag must be 0 or 1')
  end
  local eventCount = tonumber(ARGV[i])
  if not eventCount or #ARGV < i + eventCount then
    return redis.error_reply(where .. ' needs an event count and that many event bodies')
  end
  s.events = { i + 1, i + eventCount }
  i = i + 1 + eventCount
  settlements[#settlements + 1] = s
end

eventCap = usableEventCap(KEYS[12], eventCap)
local results = {}
local finished = {}
local queued = false
-- Status counts change once per status at the end, not once per record.
local deltas = {}
local function count(status, delta)
  deltas[status] = (deltas[status] or 0) + delta
end
-- A fence field that is not an integer (damaged by hand) counts as 0, as in fenceOf;
-- fences start at 1, so a missing record (no fields) matches no settlement.
local function asFence(value)
  return value and string.match(value, '^%d+$') and tonumber(value) or 0
end
-- Which settlements' tasks are claimed, and which the finished index holds
-- (only a damaged index holds a claimed task), read for all of them at once.
-- Nothing below claims a task, so only this call's own ends change the
-- first; ends are written to the claimed index, and finished records to
-- the finished and expiry indexes, once after the loop (nothing in it reads
-- those indexes for another settlement's task).
local settledIds = {}
for k, s in ipairs(settlements) do
  settledIds[k] = s.id
end
local claimedScores = readInCalls('ZMSCORE', KEYS[4], settledIds)
local finishedBefore = readInCalls('HMGET', KEYS[5], settledIds)
local ended, endedIds = {}, {}
local newlyFinished, newExpiries = {}, {}
for k, s in ipairs(settlements) do
  local key = prefix .. s.id
  -- The fences, the concurrency key fields ending the claim needs, and the
  -- fields a settle may have to remove, in one read.
  local fences = redis.call('HMGET', key, 'f', 'sf', 'ck', 'cs', 'startedAt', 'finishedAt', 'x')
  -- The claim is current when its fence is the record's and the task is still claimed
  -- (a second settlement of one task in a call finds the first ended it).
  local current = asFence(fences[1]) == s.fence and claimedScores[k] and not ended[s.id]
  if current then
    ended[s.id] = true
    endedIds[#endedIds + 1] = s.id
    local resumed = false
    -- A resume whose workflow moved on (cancelled, or resumed by another) adds no steps.
    local writeWorkflow = false
    if s.write then
      local wkey = wfPrefix .. s.write.id
      local stored = redis.call('HMGET', wkey, 'st', 'n')
      writeWorkflow = stored[1] == 'running' and tonumber(stored[2]) == s.write.expected
    end
    -- A claimed task is not finished; only a damaged index says otherwise.
    local was = finishedBefore[k]
    if was then
      redis.call('HDEL', KEYS[5], s.id)
      redis.call('ZREM', KEYS[7], s.id)
      count(was, -1)
    end
    if leaveSlot(KEYS[1], prefix, s.id, true, fences[3], fences[4]) then
      queued = true
    end
    -- The claim's fields go: each instant and the expiry is written anew or
    -- removed, and the claim's place (`cq`, set by every claim) is emptied
    -- in the same write rather than removed by a call of its own.
    local expires = s.route == 'f' and s.expires ~= ''
    local stale = {}
    if fences[5] and s.startedAt == '' then
      stale[#stale + 1] = 'startedAt'
    end
    if fences[6] and s.finishedAt == '' then
      stale[#stale + 1] = 'finishedAt'
    end
    if fences[7] and not expires then
      stale[#stale + 1] = 'x'
    end
    if #stale > 0 then
      redis.call('HDEL', key, unpack(stale))
    end
    local fields = { 'd', s.json, 'status', s.status, 'sf', s.fenceText, 'cq', '' }
    if expires then
      fields[#fields + 1] = 'x'
      fields[#fields + 1] = s.expires
    end
    -- The record's instants are kept beside its JSON (which leaves them out, see record-codec.ts).
    if s.startedAt ~= '' then
      fields[#fields + 1] = 'startedAt'
      fields[#fields + 1] = s.startedAt
    end
    if s.finishedAt ~= '' then
      fields[#fields + 1] = 'finishedAt'
      fields[#fields + 1] = s.finishedAt
    end
    redis.call('HSET', key, unpack(fields))
    if s.route == 'f' then
      newlyFinished[#newlyFinished + 1] = s.id
      newlyFinished[#newlyFinished + 1] = s.extra
      count(s.extra, 1)
      if expires then
        newExpiries[#newExpiries + 1] = s.expires
        newExpiries[#newExpiries + 1] = s.id
      end
      finished[#finished + 1] = s.id
      if s.step and stepEnded(wfPrefix, wpPrefix, prefix, KEYS[1], KEYS[8], s.step.workflow, s.id, s.json, s.step.resume) then
        queued = true
        resumed = true
      end
    elseif s.route == 'd' and tonumber(s.extra) > now then
      redis.call('ZADD', KEYS[3], tonumber(s.extra), s.id)
    else
      if s.route == 'd' then
        redis.call('HSET', key, 'status', 'pending')
      end
      if enqueueClaimable(KEYS[1], prefix, s.id) then
        queued = true
      end
    end
    if writeWorkflow then
      local w = s.write
      local wkey = wfPrefix .. w.id
      local pkey = wpPrefix .. w.id
      redis.call('HSET', wkey, 'd', w.json, 'st', w.status, 'n', w.steps)
      redis.call('DEL', pkey)
      if #w.pending > 0 then
        redis.call('SADD', pkey, unpack(w.pending))
      end
      if w.status ~= 'running' then
        redis.call('SREM', KEYS[9], w.id)
        redis.call('HSET', wkey, 'fa', w.finishedAt)
        if w.expires ~= '' then
          redis.call('HSET', wkey, 'x', w.expires)
          redis.call('ZADD', KEYS[10], tonumber(w.expires), w.id)
        end
        finished[#finished + 1] = w.id
      end
    end
    for j = s.events[1], s.events[2] do
      appendEvent(KEYS[12], eventCap, ARGV[j])
    end
    if writeWorkflow or not s.write then
      for _, child in ipairs(s.children) do
        local childKey = prefix .. child.id
        if redis.call('EXISTS', childKey) == 0 then
          redis.call('HSET', childKey, 'd', child.json, 'status', child.status)
          local claimFields = storeClaimSpec(childKey, child.spec)
          redis.call('ZADD', KEYS[8], child.created, child.id)
          if enqueueClaimable(KEYS[1], prefix, child.id, false, claimFields) then
            queued = true
          end
          if child.event ~= '' then
            appendEvent(KEYS[12], eventCap, child.event)
          end
        end
      end
    end
    if resumed and s.step.event ~= '' then
      appendEvent(KEYS[12], eventCap, s.step.event)
    end
    if writeWorkflow and s.write.event ~= '' then
      appendEvent(KEYS[12], eventCap, s.write.event)
    end
    results[#results + 1] = 1
  elseif asFence(fences[2]) == s.fence then
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
end

inCalls('ZREM', KEYS[4], endedIds)
inCalls('HSET', KEYS[5], newlyFinished)
inCalls('ZADD', KEYS[7], newExpiries)

if maxFinished then
  local excess = redis.call('ZCARD', KEYS[7]) - maxFinished
  if excess > 0 then
    -- Bounded per call, so one settle never runs long; later calls delete the rest.
    local n = math.min(excess, 1000)
    local ids = redis.call('ZRANGE', KEYS[7], 0, n - 1)
    local statuses = redis.call('HMGET', KEYS[5], unpack(ids))
    local keys = {}
    for j, id in ipairs(ids) do
      keys[j] = prefix .. id
      if statuses[j] then
        count(statuses[j], -1)
      end
    end
    redis.call('ZREMRANGEBYRANK', KEYS[7], 0, n - 1)
    redis.call('HDEL', KEYS[5], unpack(ids))
    redis.call('DEL', unpack(keys))
    redis.call('ZREM', KEYS[8], unpack(ids))
  end
end
-- After the finished index is up to date: a damaged counter is recounted from it.
for status, delta in pairs(deltas) do
  if delta ~= 0 then
    bump(KEYS[6], KEYS[5], status, delta)
  end
end
-- Under a concurrency cap an ended claim makes room: a waiting claim looks again.
if (queued or redis.call('EXISTS', KEYS[11]) == 1) and redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('RPUSH', KEYS[2], '1')
end
if #finished > 0 then
  redis.call('PUBLISH', ARGV[3], table.concat(finished, ','))
end
writeEvents()
return results
