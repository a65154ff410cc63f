#!lua flags=allow-oom
-- Ends attempts, each atomically and fenced. A settlement is written only
-- while its fence is the task's current claim (field `f`, task in
-- `processing`; the fence is also listed beside that index, see claim.lua,
-- so most settlements read nothing of their task's hash); written, it records that fence as settled (field `sf`), so
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
-- records beyond their kind's bound (those due to expire soonest) are then deleted.
-- A settlement written now appends its event bodies, in order, to the event
-- log, then those of the chained tasks and the resume it adds now (each
-- only when added); a lost one, or a resend already written, appends nothing.
-- Every argument is checked before the first write. Allowed under
-- out-of-memory: it finishes work already running and frees memory.
-- KEYS: 1 pending, 2 wake, 3 scheduled, 4 processing, 5 done, 6 counts, 7 expires, 8 ids,
--       9 running workflows, 10 workflow expiries, 11 concurrency cap, 12 event log
-- ARGV: 1 task key prefix, 2 now (ms), 3 finished channel, 4 count bounds
--       ('maxFinished:maxFailed', either '' for none; '' = no bound),
--       5 workflow key prefix, 6 workflow pending-set prefix, 7 event cap (0: log off),
--       then per settlement: id, fence, json ('=': as the claim left it), status, route, extra,
--       expires, startedAt ('' none, '=': as the claim wrote it), finishedAt ('' none), children count,
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
local bounds = countBounds(KEYS[7], ARGV[4])
local eventCap = ARGV[7]
if not now or not bounds or not isEventCap(eventCap) then
  return redis.error_reply('sheppy settle: now, the count bounds and the event cap must be numbers')
end
local wfPrefix = ARGV[5]
local wpPrefix = ARGV[6]
-- Each settlement is read where it lies in ARGV: `bases` holds where its
-- arguments start, `eventFirst`/`eventLast` where its event bodies are, and
-- `extras` its chained tasks and workflow parts (false for the many
-- settlements with none), so a plain settlement costs no table of its own.
local bases, eventFirst, eventLast, extras = {}, {}, {}, {}
local n = 0
local function invalid(text)
  return redis.error_reply('sheppy settle: settlement ' .. n .. text)
end
local i = 8
while i <= #ARGV do
  n = n + 1
  local route, extra, expires = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6]
  local count = tonumber(ARGV[i + 9])
  -- The fence must be digits only: its text is written back as the settled fence
  -- (a Lua number handed to redis.call is written with the C library's
  -- floating-point formatting, a cost per task) and compared as text.
  if (ARGV[i] or '') == '' or not string.match(ARGV[i + 1] or '', '^%d+$') or (ARGV[i + 2] or '') == ''
    or (ARGV[i + 3] or '') == '' or ARGV[i + 7] == nil or ARGV[i + 8] == nil or not count then
    return invalid(' needs an id, a fence, json, a status, its instants and a children count')
  end
  if route == 'f' then
    if extra == '' or (expires ~= '' and not tonumber(expires)) then
      return invalid(': a finished record needs a status and a numeric expiry or none')
    end
  elseif route == 'd' then
    if not tonumber(extra) then
      return invalid(': a waiting record needs a numeric due time')
    end
  elseif route ~= 'p' then
    return invalid(': route must be f, d or p')
  end
  bases[n] = i
  local keptJson = ARGV[i + 2] == '='
  i = i + 10
  local x = false
  if count > 0 then
    x = { children = {} }
  end
  for _ = 1, count do
    if (ARGV[i] or '') == '' or (ARGV[i + 1] or '') == '' or not tonumber(ARGV[i + 2])
      or (ARGV[i + 3] or '') == '' or not isClaimSpec(ARGV[i + 4]) or ARGV[i + 5] == nil then
      return invalid(': a chained task needs an id, json, a creation time, a status, a claim spec and an event or none')
    end
    x.children[#x.children + 1] = {
      id = ARGV[i], json = ARGV[i + 1], created = ARGV[i + 2], status = ARGV[i + 3], spec = ARGV[i + 4],
      event = ARGV[i + 5],
    }
    i = i + 6
  end
  if ARGV[i] == '1' then
    if (ARGV[i + 1] or '') == '' or (ARGV[i + 2] or '') == '' or (ARGV[i + 3] or '') == ''
      or not tonumber(ARGV[i + 4]) or (ARGV[i + 5] or '') == '' or ARGV[i + 6] == nil then
      return invalid(': a workflow step needs a workflow id, a resume task and its event or none')
    end
    if keptJson then
      return invalid(': a workflow step needs its JSON, kept with the workflow')
    end
    x = x or {}
    x.step = {
      workflow = ARGV[i + 1],
      resume = { id = ARGV[i + 2], json = ARGV[i + 3], created = ARGV[i + 4], status = ARGV[i + 5] },
      event = ARGV[i + 6],
    }
    i = i + 7
  elseif ARGV[i] == '0' then
    i = i + 1
  else
    return invalid(': the workflow step flag must be 0 or 1')
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
      return invalid(': a workflow write needs an id, json, status, step counts, an expiry or none, an event or none and pending ids')
    end
    i = i + 10
    for _ = 1, pendingCount do
      if (ARGV[i] or '') == '' then
        return invalid(': a workflow write has an empty pending id')
      end
      w.pending[#w.pending + 1] = ARGV[i]
      i = i + 1
    end
    x = x or {}
    x.write = w
  elseif ARGV[i] == '0' then
    i = i + 1
  else
    return invalid(': the workflow write flag must be 0 or 1')
  end
  local eventCount = tonumber(ARGV[i])
  if not eventCount or #ARGV < i + eventCount then
    return invalid(' needs an event count and that many event bodies')
  end
  eventFirst[n] = i + 1
  eventLast[n] = i + eventCount
  extras[n] = x
  i = i + 1 + eventCount
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
-- Which settlements' tasks are claimed and under which fence (the list claim.lua
-- keeps beside the processing index), and which the finished index holds (only
-- a damaged index holds a claimed task), read for all of them at once.
-- Nothing below claims a task, so only this call's own ends change the
-- first two; ends are written to the claimed index and its fences, and
-- finished records to the finished and expiry indexes, once after the loop
-- (nothing in it reads those indexes for another settlement's task).
local fencesKey = KEYS[4] .. ':fences'
local settledIds = {}
for k = 1, n do
  settledIds[k] = ARGV[bases[k]]
end
local claimedScores = readInCalls('ZMSCORE', KEYS[4], settledIds)
local claimFences = readInCalls('HMGET', fencesKey, settledIds)
local finishedBefore = readInCalls('HMGET', KEYS[5], settledIds)
local ended, endedIds = {}, {}
local newlyFinished, newExpiries, newErrorExpiries = {}, {}, {}
for k = 1, n do
  local b = bases[k]
  local id, fenceText = ARGV[b], ARGV[b + 1]
  local key = prefix .. id
  -- The claim is current when the task is still claimed (a second settlement
  -- of one task in a call finds the first ended it) under this fence. Listed
  -- with its fence unmarked (`<fence>/<token>/<n>`), the claim left nothing
  -- in the task's own fields to read; otherwise (a concurrency key, fields to remove, a claim taken over
  -- or made by an earlier version) they are read here: the fences, the
  -- concurrency key fields ending the claim needs, and the fields a settle
  -- may have to remove, in one read.
  local fields = false
  local current = false
  if claimedScores[k] and not ended[id] then
    local listed = claimFences[k]
    if listed and string.match(listed, '^(%d+)/') == fenceText then
      current = true
    else
      fields = redis.call('HMGET', key, 'f', 'sf', 'ck', 'cs', 'startedAt', 'finishedAt', 'x')
      current = asFence(fields[1]) == tonumber(fenceText)
    end
  end
  if current then
    ended[id] = true
    endedIds[#endedIds + 1] = id
    local json, status, route, extra, expires = ARGV[b + 2], ARGV[b + 3], ARGV[b + 4], ARGV[b + 5], ARGV[b + 6]
    local startedAt, finishedAt = ARGV[b + 7], ARGV[b + 8]
    local x = extras[k]
    local step, write = x and x.step, x and x.write
    local resumed = false
    -- A resume whose workflow moved on (cancelled, or resumed by another) adds no steps.
    local writeWorkflow = false
    if write then
      local stored = redis.call('HMGET', wfPrefix .. write.id, 'st', 'n')
      writeWorkflow = stored[1] == 'running' and tonumber(stored[2]) == write.expected
    end
    -- A claimed task is not finished; only a damaged index says otherwise.
    local was = finishedBefore[k]
    if was then
      redis.call('HDEL', KEYS[5], id)
      redis.call('ZREM', KEYS[7], id)
      redis.call('ZREM', errorExpiries(KEYS[7]), id)
      count(was, -1)
    end
    if fields and leaveSlot(KEYS[1], prefix, id, true, fields[3], fields[4]) then
      queued = true
    end
    -- The claim's fields go: each instant and the expiry is written anew or removed.
    local expiring = route == 'f' and expires ~= ''
    if fields then
      local stale = {}
      if fields[5] and startedAt == '' then
        stale[#stale + 1] = 'startedAt'
      end
      if fields[6] and finishedAt == '' then
        stale[#stale + 1] = 'finishedAt'
      end
      if fields[7] and not expiring then
        stale[#stale + 1] = 'x'
      end
      if #stale > 0 then
        redis.call('HDEL', key, unpack(stale))
      end
    elseif startedAt == '' then
      -- Every claim writes the start; a claim listed unmarked found no finish or expiry.
      redis.call('HDEL', key, 'startedAt')
    end
    -- The record's instants are kept beside its JSON (which leaves them out, see record-codec.ts).
    -- A JSON or start the claim left as the attempt ends it is not written again
    -- (see claimed-forms.ts): only the holder writes a claimed task's hash.
    local written = { 'status', status, 'sf', fenceText }
    if json ~= '=' then
      written[#written + 1] = 'd'
      written[#written + 1] = json
    end
    if expiring then
      written[#written + 1] = 'x'
      written[#written + 1] = expires
    end
    if startedAt ~= '' and startedAt ~= '=' then
      written[#written + 1] = 'startedAt'
      written[#written + 1] = startedAt
    end
    if finishedAt ~= '' then
      written[#written + 1] = 'finishedAt'
      written[#written + 1] = finishedAt
    end
    redis.call('HSET', key, unpack(written))
    if route == 'f' then
      newlyFinished[#newlyFinished + 1] = id
      newlyFinished[#newlyFinished + 1] = extra
      count(extra, 1)
      if expiring then
        local into = extra == 'completed' and newExpiries or newErrorExpiries
        into[#into + 1] = expires
        into[#into + 1] = id
      end
      finished[#finished + 1] = id
      if step and stepEnded(wfPrefix, wpPrefix, prefix, KEYS[1], KEYS[8], step.workflow, id, json, step.resume) then
        queued = true
        resumed = true
      end
    elseif route == 'd' and tonumber(extra) > now then
      redis.call('ZADD', KEYS[3], tonumber(extra), id)
    else
      if route == 'd' then
        redis.call('HSET', key, 'status', 'pending')
      end
      if enqueueClaimable(KEYS[1], prefix, id) then
        queued = true
      end
    end
    if writeWorkflow then
      local w = write
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
    for j = eventFirst[k], eventLast[k] do
      appendEvent(KEYS[12], eventCap, ARGV[j])
    end
    if x and x.children and (writeWorkflow or not write) then
      for _, child in ipairs(x.children) do
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
    if resumed and step.event ~= '' then
      appendEvent(KEYS[12], eventCap, step.event)
    end
    if writeWorkflow and write.event ~= '' then
      appendEvent(KEYS[12], eventCap, write.event)
    end
    results[k] = 1
  else
    -- Not current: settled already when it is this fence the task last settled under.
    local settled = fields and fields[2] or redis.call('HGET', key, 'sf')
    results[k] = asFence(settled) == tonumber(fenceText) and 1 or 0
  end
end

inCalls('ZREM', KEYS[4], endedIds)
inCalls('HDEL', fencesKey, endedIds)
inCalls('HSET', KEYS[5], newlyFinished)
inCalls('ZADD', KEYS[7], newExpiries)
inCalls('ZADD', errorExpiries(KEYS[7]), newErrorExpiries)

-- Completed records and the others are bounded each on its own (lib/counts.lua).
for _, bound in ipairs(bounds) do
  local expiries = bound[1]
  local excess = redis.call('ZCARD', expiries) - bound[2]
  if excess > 0 then
    -- Bounded per call, so one settle never runs long; later calls delete the rest.
    local n = math.min(excess, 1000)
    local ids = redis.call('ZRANGE', expiries, 0, n - 1)
    local statuses = redis.call('HMGET', KEYS[5], unpack(ids))
    local keys = {}
    for j, id in ipairs(ids) do
      keys[j] = prefix .. id
      if statuses[j] then
        count(statuses[j], -1)
      end
    end
    redis.call('ZREMRANGEBYRANK', expiries, 0, n - 1)
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
