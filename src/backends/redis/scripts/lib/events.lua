-- The queue's event log is a stream of entries with one field, `b` (the
-- body). A script appends with `appendEvent` and, before it returns, trims
-- once with `trimEvents`: exactly to the cap (MAXLEN without `~`), so no
-- reader ever finds more than `cap` entries, yet at about the cost of an
-- untrimmed XADD — an exact MAXLEN on every XADD costs twice as much (see
-- docs/backends/redis.md). `cap` '0' is a log turned off: nothing is appended.
local eventLog, eventCapOf = nil, nil

-- The cap to append with: '0' (no appends) when the log's key holds
-- something other than a stream (written by hand), so that the write the
-- events describe still happens whole instead of failing at its first XADD.
-- Called before a script's first write.
local function usableEventCap(key, cap)
  if cap == '0' then
    return cap
  end
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'stream' or kind == 'none' then
    return cap
  end
  return '0'
end

local function appendEvent(key, cap, body)
  if cap ~= '0' then
    redis.call('XADD', key, '*', 'b', body)
    eventLog, eventCapOf = key, cap
  end
end

local function trimEvents()
  if eventLog then
    redis.call('XTRIM', eventLog, 'MAXLEN', eventCapOf)
  end
end

-- An event cap argument: an integer ≥ 0, written as `tostring` writes it ('0', not '00').
local function isEventCap(value)
  return value == '0' or (value ~= nil and string.match(value, '^[1-9]%d*$') ~= nil)
end
