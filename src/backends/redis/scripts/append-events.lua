#!lua flags=allow-oom
-- Appends event bodies, in order, to the queue's event log (lib/events.lua),
-- once per request key: resent after a lost reply, it appends nothing again.
-- Allowed under out-of-memory like settle: these are the events of work
-- already running, and the log trims itself to its cap.
-- With a task key prefix, each body comes with its holder's id and fence
-- (both empty: no holder), and a body whose holder no longer holds its
-- claim — the task out of the processing index, or claimed since under
-- another fence — is dropped: a running attempt's own events never follow
-- the cancel, takeover or settle that ended its claim.
-- KEYS: 1 event log, 2 request memo, 3 processing
-- ARGV: 1 event cap, 2 task key prefix or empty, then the bodies — or, with
-- a prefix, (holder id, holder fence, body) for each
--@include events
if not isEventCap(ARGV[1]) then
  return redis.error_reply('sheppy appendEvents: the event cap must be an integer ≥ 0')
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local eventCap = usableEventCap(KEYS[1], ARGV[1])
local prefix = ARGV[2]
if prefix == '' then
  for j = 3, #ARGV do
    appendEvent(KEYS[1], eventCap, ARGV[j])
  end
else
  local held = {}
  for j = 3, #ARGV, 3 do
    local id = ARGV[j]
    local current = true
    if id ~= '' then
      local answer = held[id .. '/' .. ARGV[j + 1]]
      if answer == nil then
        answer = redis.call('ZSCORE', KEYS[3], id) ~= false
          and redis.call('HGET', prefix .. id, 'f') == ARGV[j + 1]
        held[id .. '/' .. ARGV[j + 1]] = answer
      end
      current = answer
    end
    if current then
      appendEvent(KEYS[1], eventCap, ARGV[j + 2])
    end
  end
end
writeEvents()
redis.call('SET', KEYS[2], '1', 'EX', 60)
return 1
