-- The queue's event log is a stream of entries with one field, `b` (the
-- body). Trimmed exactly (MAXLEN without `~`): the log's promise is that it
-- never holds more than its cap, and trimming one entry per append costs
-- about what a whole-node trim does (see docs/backends/redis.md).
-- `cap` '0' (or empty) is a log turned off: nothing is appended.
local function appendEvent(key, cap, body)
  if cap ~= '0' and cap ~= '' then
    redis.call('XADD', key, 'MAXLEN', cap, '*', 'b', body)
  end
end

-- An event cap argument: an integer ≥ 0.
local function isEventCap(value)
  return value ~= nil and string.match(value, '^%d+$') ~= nil
end
