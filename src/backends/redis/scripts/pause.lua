#!lua
-- Pauses or resumes a queue. A resume wakes an idle worker when tasks wait
-- (one marker; each claim that leaves tasks behind wakes the next).
-- Idempotent: sent again after a lost reply it leaves the same state.
-- KEYS: 1 paused, 2 pending, 3 wake
-- ARGV: 1 "1" to pause, "0" to resume
--@include claimable
if ARGV[1] == '1' then
  redis.call('SET', KEYS[1], '1')
  return 1
end
redis.call('DEL', KEYS[1])
if anyClaimable(KEYS[2]) and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return 0
