-- New tasks given as ARGV sextets from `first` on: (id, json, created (ms),
-- status, claim spec (lib/slots.lua), event body ('' none)).

-- Whether ARGV from `first` is whole sextets, each with an id, json, a
-- creation time, a status and a claim spec.
local function validNewTasks(first)
  if (#ARGV - first + 1) % 6 ~= 0 then
    return false
  end
  for i = first, #ARGV, 6 do
    if ARGV[i] == '' or ARGV[i + 1] == '' or not tonumber(ARGV[i + 2]) or ARGV[i + 3] == ''
      or not isClaimSpec(ARGV[i + 4]) then
      return false
    end
  end
  return true
end

-- Adds each task from `first` on as claimable unless its id exists (under
-- request token `token`, listed by its creation time in `idsKey`), appending
-- its event body; wakes a waiting worker when one became claimable.
local function addNewTasks(first, token, prefix, idsKey, pendingKey, wakeKey, eventsKey, eventCap)
  local queued = false
  for i = first, #ARGV, 6 do
    local key = prefix .. ARGV[i]
    if redis.call('EXISTS', key) == 0 then
      redis.call('HSET', key, 'd', ARGV[i + 1], 'rq', token, 'status', ARGV[i + 3])
      local claimFields = storeClaimSpec(key, ARGV[i + 4])
      redis.call('ZADD', idsKey, ARGV[i + 2], ARGV[i])
      if enqueueClaimable(pendingKey, prefix, ARGV[i], false, claimFields) then
        queued = true
      end
      if ARGV[i + 5] ~= '' then
        appendEvent(eventsKey, eventCap, ARGV[i + 5])
      end
    end
  end
  if queued and redis.call('LLEN', wakeKey) == 0 then
    redis.call('RPUSH', wakeKey, '1')
  end
end
