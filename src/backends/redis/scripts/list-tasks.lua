#!lua flags=no-writes
-- One page of the queue's ids, newest first: walks the creation index from
-- the newest member, or from strictly after the cursor (creation time, id),
-- keeping the ids of live records whose status is wanted, until `limit` are
-- kept or `budget` members were looked at. Members with equal times come in
-- descending byte order of their ids — the index's own order, reversed.
-- A record's status is the one readers see: the hash's `status` field, else
-- (a record written by an earlier version) its finished status, else its
-- JSON's — a JSON that cannot be read is a failed record.
-- KEYS: 1 ids, 2 done
-- ARGV: 1 task key prefix, 2 now (ms), 3 limit, 4 budget, 5 cursor time ('' = from the newest),
--       6 cursor id, 7… the statuses wanted (none: any)
-- Returns: the next cursor's time and id ('' and '' after the last page), then the ids kept
local prefix = ARGV[1]
local now = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local budget = tonumber(ARGV[4])
if not now or not limit or limit < 1 or not budget or budget < 1
  or (ARGV[5] ~= '' and (not tonumber(ARGV[5]) or (ARGV[6] or '') == '')) then
  return redis.error_reply('sheppy listTasks: expected a time, a limit ≥ 1, a budget ≥ 1 and a cursor or none')
end
local wanted = nil
if #ARGV >= 7 then
  wanted = {}
  for i = 7, #ARGV do
    wanted[ARGV[i]] = true
  end
end

-- Byte order, spelled out: Lua compares strings by the server's locale.
local function bytesBefore(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      return x < y
    end
  end
  return #a < #b
end

-- The rank (newest first) where the walk starts.
local rank = 0
if ARGV[5] ~= '' then
  local at, id = ARGV[5], ARGV[6]
  local own = redis.call('ZSCORE', KEYS[1], id)
  if own and tonumber(own) == tonumber(at) then
    rank = redis.call('ZREVRANK', KEYS[1], id) + 1
  else
    -- The cursor's record is gone or moved: find its place among the members
    -- of its time by halving, so a crowded millisecond costs log n steps.
    local lo = redis.call('ZCOUNT', KEYS[1], '(' .. at, '+inf')
    local hi = lo + redis.call('ZCOUNT', KEYS[1], at, at)
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if bytesBefore(redis.call('ZREVRANGE', KEYS[1], mid, mid)[1], id) then
        hi = mid
      else
        lo = mid + 1
      end
    end
    rank = lo
  end
end

local function statusOf(key, id, field)
  if field and field ~= '' then
    return field
  end
  local finished = redis.call('HGET', KEYS[2], id)
  if finished then
    return finished
  end
  local json = redis.call('HGET', key, 'd')
  if not json then
    return nil
  end
  local ok, record = pcall(cjson.decode, json)
  if ok and type(record) == 'table' and type(record.status) == 'string' then
    return record.status
  end
  return 'failed'
end

local out = { '', '' }
local kept = 0
local looked = 0
local lastId, lastAt = nil, nil
local exhausted = false
while kept < limit and looked < budget do
  -- Without a filter every live member is kept: ask for no more than the page needs.
  local size = math.min(wanted and 200 or (limit - kept), budget - looked)
  local batch = redis.call('ZREVRANGE', KEYS[1], rank, rank + size - 1, 'WITHSCORES')
  for j = 1, #batch, 2 do
    local id = batch[j]
    looked = looked + 1
    rank = rank + 1
    lastId, lastAt = id, batch[j + 1]
    local key = prefix .. id
    local fields = redis.pcall('HMGET', key, 'status', 'x')
    if fields.err then
      -- A key changed by hand into another type: listed, as the failed record its reader shows.
      fields = { 'failed', false }
    end
    local expires = tonumber(fields[2])
    if not (expires and expires <= now) and (not wanted or wanted[statusOf(key, id, fields[1]) or '']) then
      kept = kept + 1
      out[#out + 1] = id
      if kept >= limit then
        break
      end
    end
  end
  if kept < limit and #batch < 2 * size then
    exhausted = true
    break
  end
end
if not exhausted and lastId and #redis.call('ZREVRANGE', KEYS[1], rank, rank) > 0 then
  out[1] = lastAt
  out[2] = lastId
end
return out
