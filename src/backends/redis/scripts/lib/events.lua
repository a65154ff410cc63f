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
-- position's sequence), `low` (the oldest a reader sees) and `old` (entries
-- an earlier version wrote, still kept, one event each, all older than any of
-- the new ones). A write past the cap drops the oldest `old` entries first,
-- then raises `low` and deletes the entries wholly below it; an entry `low`
-- falls inside stays, and readers skip its ids below `low`. So the log reads
-- as at most `cap` events. `cap` '0' is a log turned off: nothing is written.
local eventLog, eventCapOf, eventBodies = nil, nil, nil

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
  local kind = redis.call('TYPE', key)['ok']
  if kind ~= 'stream' and kind ~= 'none' then
    return '0'
  end
  local atKind = redis.call('TYPE', key .. ':at')['ok']
  if atKind ~= 'hash' and atKind ~= 'none' then
    return '0'
  end
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

-- The log's numbering: the stored one, or a new one above every id the
-- stream gave before (its entries then all count as an earlier version's).
local function eventNumbering(key)
  local at = redis.call('HMGET', key .. ':at', 'm', 'top', 'low', 'old')
  if at[1] then
    return tonumber(at[1]), tonumber(at[2]), tonumber(at[3]), tonumber(at[4])
  end
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
  return m, -1, 0, old
end

-- Writes the bodies collected in this call as one entry and keeps the log to its cap.
local function writeEvents()
  if not eventLog then
    return
  end
  local cap = tonumber(eventCapOf)
  local m, top, low, old = eventNumbering(eventLog)
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
    top = top + (to - from + 1)
    redis.call('XADD', eventLog, wholeNumber(m) .. '-' .. wholeNumber(top), unpack(fields))
  end
  local excess = old + (top - low + 1) - cap
  if excess > 0 and old > 0 then
    local dropped = math.min(old, excess)
    -- The earlier version's entries are the oldest: trimming by length drops exactly them.
    redis.call('XTRIM', eventLog, 'MAXLEN', wholeNumber(redis.call('XLEN', eventLog) - dropped))
    old = old - dropped
    excess = excess - dropped
  end
  if excess > 0 then
    low = low + excess
    redis.call('XTRIM', eventLog, 'MINID', wholeNumber(m) .. '-' .. wholeNumber(low))
  end
  redis.call('HSET', eventLog .. ':at', 'm', wholeNumber(m), 'top', wholeNumber(top), 'low', wholeNumber(low), 'old', wholeNumber(old))
  eventLog, eventCapOf, eventBodies = nil, nil, nil
end

-- Empties the log; its numbering stays, so no later event takes a cleared one's position.
local function clearEvents(key)
  redis.call('XTRIM', key, 'MAXLEN', 0)
  local at = redis.call('HMGET', key .. ':at', 'top')
  if at[1] then
    redis.call('HSET', key .. ':at', 'low', wholeNumber(tonumber(at[1]) + 1), 'old', '0')
  end
end

-- An event cap argument: an integer ≥ 0, written as `tostring` writes it ('0', not '00').
local function isEventCap(value)
  return value == '0' or (value ~= nil and string.match(value, '^[1-9]%d*$') ~= nil)
end
