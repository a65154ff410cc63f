-- The claimable lists of a queue. Priority 0 (the default) is the pending
-- list itself; every other priority has a list of its own, named by the
-- pending list's key, ':' and the priority, and listed in the levels zset
-- (the pending list's key .. ':levels', score = priority) while it may hold
-- ids. A task's priority is its hash's field `pr` (absent: 0). Claims take
-- the highest priority first and each list from its front (FIFO).

-- The list holding ids of `priority` (text; nil, false or '0': the pending list).
local function claimableList(pendingKey, priority)
  if not priority or priority == '' or priority == '0' then
    return pendingKey
  end
  return pendingKey .. ':' .. priority
end

-- Appends `id` (of priority `priority`) to its list; `front` puts it first instead.
local function pushClaimable(pendingKey, id, priority, front)
  local list = claimableList(pendingKey, priority)
  redis.call(front and 'LPUSH' or 'RPUSH', list, id)
  if list ~= pendingKey then
    redis.call('ZADD', pendingKey .. ':levels', tonumber(priority), priority)
  end
end

-- Removes `id` (of priority `priority`) from its list; returns how many it removed.
local function removeClaimable(pendingKey, id, priority)
  return redis.call('LREM', claimableList(pendingKey, priority), 0, id)
end

-- Every claimable list in claim order: { key, priority text or false for the pending list }.
local function claimableLists(pendingKey)
  local levels = redis.call('ZREVRANGE', pendingKey .. ':levels', 0, -1, 'WITHSCORES')
  local lists = {}
  local zeroPlaced = false
  for i = 1, #levels, 2 do
    if not zeroPlaced and tonumber(levels[i + 1]) < 0 then
      lists[#lists + 1] = { pendingKey, false }
      zeroPlaced = true
    end
    lists[#lists + 1] = { pendingKey .. ':' .. levels[i], levels[i] }
  end
  if not zeroPlaced then
    lists[#lists + 1] = { pendingKey, false }
  end
  return lists
end

-- Takes up to `limit` ids in claim order, forgetting priority lists it empties.
local function takeClaimable(pendingKey, limit)
  local taken = {}
  for _, list in ipairs(claimableLists(pendingKey)) do
    local need = limit - #taken
    if need <= 0 then
      break
    end
    local ids = redis.call('LPOP', list[1], need)
    if ids then
      for _, id in ipairs(ids) do
        taken[#taken + 1] = id
      end
    end
    if list[2] and redis.call('LLEN', list[1]) == 0 then
      redis.call('ZREM', pendingKey .. ':levels', list[2])
    end
  end
  return taken
end

-- Whether any id waits to be claimed.
local function anyClaimable(pendingKey)
  return redis.call('LLEN', pendingKey) > 0 or redis.call('ZCARD', pendingKey .. ':levels') > 0
end
