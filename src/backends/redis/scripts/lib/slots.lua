-- Concurrency keys. A record is added with a claim spec: its priority, or
-- `<priority>|<limit>|<key>` when it has a concurrency key. The hash of a
-- keyed task holds its key (field `ck`), its limit (`cl`) and its slot
-- (`cs`: 't' while it takes one of the key's slots — claimable or claimed —,
-- 'h' while it is held for one). Per queue, next to the pending list: the
-- slots taken per key (hash '<pending>:slots'), each key's held ids oldest
-- first (list '<pending>:held:<key>') and how many are held in all
-- ('<pending>:heldn'). A key's held list is not empty only while the key
-- has a slot taken, so the slots hash names every held list.
-- Needs lib/claimable.lua included before it.

-- Whether `spec` is a claim spec.
local function isClaimSpec(spec)
  if not spec then
    return false
  end
  if string.match(spec, '^%-?%d+$') then
    return true
  end
  local limit, key = string.match(spec, '^%-?%d+|(%d+)|(.+)$')
  return limit ~= nil and tonumber(limit) >= 1 and key ~= nil
end

-- Stores the claim fields of a new record from its spec: priority (absent
-- for 0), concurrency key and limit. Returns them as enqueueClaimable reads
-- them (`pr`, `ck`, `cl`; false when absent), so a caller that makes the
-- record claimable next need not read them back.
local function storeClaimSpec(taskKey, spec)
  local priority, limit, key = string.match(spec, '^(%-?%d+)|(%d+)|(.+)$')
  if not priority then
    priority = spec
  end
  if priority ~= '0' then
    redis.call('HSET', taskKey, 'pr', priority)
  else
    priority = false
  end
  if key then
    redis.call('HSET', taskKey, 'ck', key, 'cl', limit)
  end
  return { priority, key or false, limit or false }
end

-- Makes `id` claimable (at the back of its priority's list, or the front
-- with `front`) when it has no concurrency key or its key has a free slot
-- and no task held before it; otherwise holds it. Returns true when it is
-- claimable now. `fields`, when given, are the task's claim fields as
-- storeClaimSpec returned them.
local function enqueueClaimable(pendingKey, prefix, id, front, fields)
  local taskKey = prefix .. id
  fields = fields or redis.call('HMGET', taskKey, 'pr', 'ck', 'cl')
  local key = fields[2]
  if key then
    local heldKey = pendingKey .. ':held:' .. key
    local taken = tonumber(redis.call('HGET', pendingKey .. ':slots', key) or '0')
    if redis.call('EXISTS', heldKey) == 1 or taken >= (tonumber(fields[3]) or 1) then
      redis.call('RPUSH', heldKey, id)
      redis.call('INCR', pendingKey .. ':heldn')
      redis.call('HSET', taskKey, 'cs', 'h')
      return false
    end
    redis.call('HINCRBY', pendingKey .. ':slots', key, 1)
    redis.call('HSET', taskKey, 'cs', 't')
  end
  pushClaimable(pendingKey, id, fields[1], front)
  return true
end

-- Frees what the task `id` holds of its key — its slot, or its place among
-- the held — and hands free slots to the key's oldest held tasks. Returns
-- true when it made one claimable. `ck` and `cs`, when given (`read` true),
-- are the task's fields already read by the caller.
local function leaveSlot(pendingKey, prefix, id, read, ck, cs)
  local taskKey = prefix .. id
  local key, slot = ck, cs
  if not read then
    local fields = redis.call('HMGET', taskKey, 'ck', 'cs')
    key, slot = fields[1], fields[2]
  end
  if not key or not slot then
    return false
  end
  redis.call('HDEL', taskKey, 'cs')
  local slotsKey = pendingKey .. ':slots'
  local heldKey = pendingKey .. ':held:' .. key
  local taken = tonumber(redis.call('HGET', slotsKey, key) or '0')
  if slot == 'h' then
    if redis.call('LREM', heldKey, 1, id) > 0 then
      redis.call('DECR', pendingKey .. ':heldn')
    end
  else
    taken = taken - 1
  end
  local admitted = false
  while true do
    local nextId = redis.call('LINDEX', heldKey, 0)
    if not nextId then
      break
    end
    local nextKey = prefix .. nextId
    local next = redis.call('HMGET', nextKey, 'pr', 'cl', 'd')
    -- A held id whose record has gone (a damaged index) is dropped.
    if next[3] and taken >= (tonumber(next[2]) or 1) then
      break
    end
    redis.call('LPOP', heldKey)
    redis.call('DECR', pendingKey .. ':heldn')
    if next[3] then
      taken = taken + 1
      redis.call('HSET', nextKey, 'cs', 't')
      pushClaimable(pendingKey, nextId, next[1])
      admitted = true
    end
  end
  if taken > 0 then
    redis.call('HSET', slotsKey, key, taken)
  else
    redis.call('HDEL', slotsKey, key)
  end
  return admitted
end

-- Forgets every key's slots and held tasks.
local function clearSlots(pendingKey)
  for _, key in ipairs(redis.call('HKEYS', pendingKey .. ':slots')) do
    redis.call('DEL', pendingKey .. ':held:' .. key)
  end
  redis.call('DEL', pendingKey .. ':slots', pendingKey .. ':heldn')
end
