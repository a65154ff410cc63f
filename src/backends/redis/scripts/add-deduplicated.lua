#!lua
-- Adds new work under dedupe keys, each entry decided and written here, so
-- racing adds of one key from any number of clients leave one task. The rule
-- is the one in backends/dedupe-decision.ts: a key's slot (hash `dedupe`:
-- key → "<until>:<task id>", `until` in ms or '' for none) holds while its
-- window has not passed, or, without one, while its task is unfinished; a
-- held key ignores the add, or in mode 'replace' replaces a waiting task's
-- record (pending or scheduled, not claimed) under the existing id. Else the
-- record is added (unless its id exists: ignored) and takes the key.
-- The check zset (key → ms) says when prune-dedupe.lua should look at a slot.
-- An entry added or replaced appends its event (when given: '' is none) to
-- the event log in the same step: sent without its first member, it is
-- written for the task that holds the key, as `[<id>,` + event (the id as a JSON string). Replays its first answer when resent
-- with the same request key, appending nothing again.
-- KEYS: 1 ids, 2 pending, 3 wake, 4 scheduled, 5 processing, 6 done, 7 dedupe, 8 dedupe checks,
--       9 request memo, 10 event log
-- ARGV: 1 task key prefix, 2 now (ms), 3 event cap (0: log off), then per entry (key, mode,
--       window ms or '', id, json (keyed: without its id, so it is stored as it is under
--       whichever id gets it), route 'p' or 'd', due time, created, status, claim spec
--       (lib/slots.lua), event without its taskId)
-- Returns: { outcome, id, outcome, id, … }
--@include claimable
--@include events
--@include slots
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local eventCap = ARGV[3]
local WIDTH = 11
if not now or not isEventCap(eventCap) or (#ARGV - 3) % WIDTH ~= 0 then
  return redis.error_reply('sheppy addDeduplicated: expected now, an event cap and 11 fields per entry')
end
for i = 4, #ARGV, WIDTH do
  local mode, window, route = ARGV[i + 1], ARGV[i + 2], ARGV[i + 5]
  if ARGV[i] == '' or (mode ~= 'ignore' and mode ~= 'replace') or (window ~= '' and not tonumber(window))
    or ARGV[i + 3] == '' or string.sub(ARGV[i + 4], 1, 1) ~= '{' or (route ~= 'p' and route ~= 'd')
    or (route == 'd' and not tonumber(ARGV[i + 6])) or not tonumber(ARGV[i + 7]) or ARGV[i + 8] == ''
    or not isClaimSpec(ARGV[i + 9]) then
    return redis.error_reply('sheppy addDeduplicated: entry ' .. ((i - 4) / WIDTH) .. ' has a bad key, mode, window, id, json, route, due time, creation time, status or claim spec')
  end
end
local memo = redis.call('GET', KEYS[9])
if memo then
  return cjson.decode(memo)
end
eventCap = usableEventCap(KEYS[10], eventCap)

-- Where task `id` stands: missing, finished, started (claimed, or waiting for a retry) or waiting.
local function taskState(id)
  local key = prefix .. id
  if redis.call('EXISTS', key) == 0 then
    return 'missing'
  end
  if redis.call('HEXISTS', KEYS[6], id) == 1 then
    return 'finished'
  end
  if redis.call('ZSCORE', KEYS[5], id) then
    return 'started'
  end
  local status = redis.call('HGET', key, 'status')
  if status == 'pending' or status == 'scheduled' then
    return 'waiting'
  end
  return 'started'
end

-- Writes `json` as task `id`'s record, claimable or due as `route` says; true when claimable.
local function write(id, json, route, due, created, status, spec)
  local key = prefix .. id
  redis.call('HSET', key, 'd', json, 'status', status)
  storeClaimSpec(key, spec)
  redis.call('ZADD', KEYS[1], created, id)
  if route == 'p' then
    -- Held (false) when its concurrency key is full.
    return enqueueClaimable(KEYS[2], prefix, id)
  end
  redis.call('ZADD', KEYS[4], tonumber(due), id)
  return false
end

local results = {}
local queued = false
for i = 4, #ARGV, WIDTH do
  local dkey, mode, window, id = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local json, route, due, created, status, priority = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]
  local action, target = 'add', nil
  local slot = redis.call('HGET', KEYS[7], dkey)
  -- A slot not of the form "<until>:<id>" (written by hand) holds nothing.
  local sep = slot and string.find(slot, ':', 1, true)
  if sep then
    local untilText, holder = string.sub(slot, 1, sep - 1), string.sub(slot, sep + 1)
    if untilText ~= '' then
      if (tonumber(untilText) or now) > now then
        action, target = 'ignore', holder
      end
    else
      local state = taskState(holder)
      if state == 'waiting' or state == 'started' then
        if mode == 'ignore' then
          action, target = 'ignore', holder
        elseif state == 'waiting' then
          action, target = 'replace', holder
        end
      end
    end
  end
  if action == 'ignore' then
    results[#results + 1] = 'ignored'
    results[#results + 1] = target
  elseif action == 'replace' then
    local key = prefix .. target
    if leaveSlot(KEYS[2], prefix, target) then
      queued = true
    end
    removeClaimable(KEYS[2], target, redis.call('HGET', key, 'pr'))
    redis.call('ZREM', KEYS[4], target)
    -- The fences stay: a holder of an earlier claim must never match a later one.
    redis.call('HDEL', key, 'd', 'status', 'startedAt', 'finishedAt', 'x', 'rq', 'pr', 'ck', 'cl')
    -- The new record under the existing id: its JSON holds none.
    if write(target, json, route, due, created, status, priority) then
      queued = true
    end
    if ARGV[i + 10] ~= '' then
      appendEvent(KEYS[10], eventCap, '[' .. cjson.encode(target) .. ',' .. ARGV[i + 10])
    end
    results[#results + 1] = 'replaced'
    results[#results + 1] = target
  elseif redis.call('EXISTS', prefix .. id) == 1 then
    -- An id the queue holds is no new task: the key stays as it was.
    results[#results + 1] = 'ignored'
    results[#results + 1] = id
  else
    if write(id, json, route, due, created, status, priority) then
      queued = true
    end
    local untilText = window == '' and '' or tostring(now + tonumber(window))
    redis.call('HSET', KEYS[7], dkey, untilText .. ':' .. id)
    -- A window is looked at once it ends; a task's key at the next prune.
    redis.call('ZADD', KEYS[8], untilText == '' and now or tonumber(untilText), dkey)
    if ARGV[i + 10] ~= '' then
      appendEvent(KEYS[10], eventCap, '[' .. cjson.encode(id) .. ',' .. ARGV[i + 10])
    end
    results[#results + 1] = 'added'
    results[#results + 1] = id
  end
end
if queued and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
redis.call('SET', KEYS[9], cjson.encode(results), 'EX', 60)
writeEvents()
return results
