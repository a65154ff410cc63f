-- The queue's event log is a stream. A script collects the bodies of its
-- events with `appendEvent` and, before it returns, writes them with
-- `writeEvents` as one entry holding them all (field `b` repeated, in order;
-- a new entry every 2,000): a settle of a hundred tasks writes one entry,
-- not two hundred.
--
-- Positions stay one per event. An entry's id is the position of its last
-- body, and its bodies take the ids just before: an entry `<m>-<s>` of k
-- bodies holds `<m>-<s-k+1>` to `<m>-<s>`. Entries written by earlier
-- versions hold one body each and read the same way. The ids of this form
-- share one `<m>` (fixed when the log starts, above every id the stream gave
-- before), so a queue's events are numbered without gaps and the cap can be
-- kept by count.
--
-- `<events>:at`, a hash beside the stream, holds `m`, `top` (the newest
-- position's sequence), `low` (the oldest a reader sees), `old` (entries an
-- earlier version wrote, still kept, one event each, all older than any of
-- the new ones) and `e` (the entries the stream holds); `pm` and `plow`, a
-- numbering left behind when an earlier version's append moved the stream
-- past it, and the oldest of its positions readers see. A write past the cap
-- drops the oldest `old` entries first, then raises `low` and deletes the
-- entries wholly below it; an entry `low` falls inside stays, and readers
-- skip its ids below `low`. So the log reads as at most `cap` events. `cap`
-- '0' is a log turned off: nothing is written.
local eventLog, eventCapOf, eventBodies = nil, nil, nil
-- The numbering hash's fields and the stream's length, as `usableEventCap`
-- read them (nothing a script does between it and `writeEvents` changes them).
local eventAt, eventEntries = nil, nil

-- A whole number as Redis takes it (never in exponent form).
local function wholeNumber(x)
  return string.format('%d', x)
end

-- The cap to append with: '0' (no appends) when the log's key holds
-- something other than a stream, or its hash something other than a hash
-- (written by hand), so that the write the events describe still happens
-- whole instead of failing at the log. Called before a script's first write.
local function usableEventCap(key, cap)
  if cap == '0' then
    return cap
  end
  -- Read once here for `writeEvents`; a key of another type answers an error
  -- (XLEN of a missing stream is 0), so no separate look at the type is needed.
  local entries = redis.pcall('XLEN', key)
  if type(entries) ~= 'number' then
    return '0'
  end
  local at = redis.pcall('HMGET', key .. ':at', 'm', 'top', 'low', 'old', 'e')
  if at.err then
    return '0'
  end
  eventAt, eventEntries = at, entries
  return cap
end

local function appendEvent(key, cap, body)
  if cap ~= '0' then
    eventLog, eventCapOf = key, cap
    if not eventBodies then
      eventBodies = {}
    end
    eventBodies[#eventBodies + 1] = body
  end
end

-- A new numbering above every id the stream gave before; its entries then
-- count as an earlier version's (one event each). Returns m, top, low, old,
-- and the entries the stream holds.
local function freshNumbering(key)
  local now = redis.call('TIME')
  local m = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  local old = 0
  if redis.call('EXISTS', key) == 1 then
    local info = redis.call('XINFO', 'STREAM', key)
    for i = 1, #info, 2 do
      if info[i] == 'last-generated-id' then
        local lastMs = tonumber(string.match(info[i + 1], '^(%d+)-'))
        if lastMs >= m then
          m = lastMs + 1
        end
      elseif info[i] == 'length' then
        old = info[i + 1]
      end
    end
  end
  return m, -1, 0, old, old
end

-- Leaves the stored numbering for a fresh one; readers keep skipping the
-- positions it had trimmed (`pm`, `plow`).
local function renumber(key, m, low)
  redis.call('HSET', key .. ':at', 'pm', wholeNumber(m), 'plow', wholeNumber(low))
  return freshNumbering(key)
end

-- The log's numbering: the stored one, or a fresh one. The stream holding
-- another number of entries than this log wrote means a process of an
-- earlier version appended (an entry per event, its id from the clock),
-- which may have taken a position of this numbering: it is left for a
-- fresh one above.
local function eventNumbering(key)
  local at = eventAt
  if not at[1] then
    return freshNumbering(key)
  end
  local m, top, low, old, e = tonumber(at[1]), tonumber(at[2]), tonumber(at[3]), tonumber(at[4]), tonumber(at[5])
  local entries = eventEntries
  if e ~= nil and entries ~= e then
    return renumber(key, m, low)
  end
  e = entries
  return m, top, low, old, e
end

-- Writes the bodies collected in this call as one entry and keeps the log to
-- its cap. A process of an earlier version appending to the same log never
-- makes the write fail; the cap then counts each of its entries (and each
-- entry already there when the numbering starts afresh) as one event, so it
-- holds only roughly until those entries are trimmed.
local function writeEvents()
  if not eventLog then
    return
  end
  local cap = tonumber(eventCapOf)
  local m, top, low, old, e = eventNumbering(eventLog)
  local n = #eventBodies
  -- Bodies the cap would drop at once are never written.
  local first = math.max(1, n - cap + 1)
  if top < low then
    -- Nothing of this numbering is visible (a new log, or a cleared one): it starts at the new entry.
    low = top + 1
  end
  -- Entries of at most 2,000 bodies: a call's arguments stay far below Lua's stack limit.
  for from = first, n, 2000 do
    local to = math.min(n, from + 1999)
    local fields = {}
    for i = from, to do
      fields[#fields + 1] = 'b'
      fields[#fields + 1] = eventBodies[i]
    end
    local count = to - from + 1
    local added = redis.pcall('XADD', eventLog, wholeNumber(m) .. '-' .. wholeNumber(top + count), unpack(fields))
    if type(added) == 'table' and added.err then
      -- The stream has moved past this numbering (see eventNumbering).
      m, top, low, old, e = renumber(eventLog, m, low)
      redis.call('XADD', eventLog, wholeNumber(m) .. '-' .. wholeNumber(top + count), unpack(fields))
    end
    top = top + count
    e = e + 1
  end
  local excess = old + (top - low + 1) - cap
  if excess > 0 and old > 0 then
    local dropped = math.min(old, excess)
    -- The earlier version's entries are the oldest: trimming by length drops exactly them.
    e = e - redis.call('XTRIM', eventLog, 'MAXLEN', wholeNumber(e - dropped))
    old = old - dropped
    excess = excess - dropped
  end
  if excess > 0 then
    low = low + excess
    e = e - redis.call('XTRIM', eventLog, 'MINID', wholeNumber(m) .. '-' .. wholeNumber(low))
  end
  redis.call(
    'HSET', eventLog .. ':at',
    'm', wholeNumber(m), 'top', wholeNumber(top), 'low', wholeNumber(low), 'old', wholeNumber(old), 'e', wholeNumber(e)
  )
  eventLog, eventCapOf, eventBodies, eventAt, eventEntries = nil, nil, nil, nil, nil
end

-- Empties the log; its numbering stays, so no later event takes a cleared one's position.
local function clearEvents(key)
  redis.call('XTRIM', key, 'MAXLEN', 0)
  local at = redis.call('HMGET', key .. ':at', 'top')
  if at[1] then
    redis.call('HSET', key .. ':at', 'low', wholeNumber(tonumber(at[1]) + 1), 'old', '0', 'e', '0')
  end
end

-- An event cap argument: an integer ≥ 0, written as `tostring` writes it ('0', not '00').
local function isEventCap(value)
  return value == '0' or (value ~= nil and string.match(value, '^[1-9]%d*$') ~= nil)
end
