#!lua flags=allow-oom
-- Appends event bodies, in order, to the queue's event log (lib/events.lua),
-- once per request key: resent after a lost reply, it appends nothing again.
-- Allowed under out-of-memory like settle: these are the events of work
-- already running, and the log trims itself to its cap.
-- KEYS: 1 event log, 2 request memo
-- ARGV: 1 event cap, then the bodies
--@include events
if not isEventCap(ARGV[1]) then
  return redis.error_reply('sheppy appendEvents: the event cap must be an integer ≥ 0')
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local eventCap = usableEventCap(KEYS[1], ARGV[1])
for j = 2, #ARGV do
  appendEvent(KEYS[1], eventCap, ARGV[j])
end
writeEvents()
redis.call('SET', KEYS[2], '1', 'EX', 60)
return 1
