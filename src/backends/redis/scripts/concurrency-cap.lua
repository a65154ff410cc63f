#!lua
-- Sets (ARGV[1] an integer ≥ 1) or lifts ('') a queue's concurrency cap.
-- Either may make room for claims: an idle worker is woken when tasks wait
-- (one marker; each claim that leaves tasks behind wakes the next).
-- Idempotent: sent again after a lost reply it leaves the same state.
-- KEYS: 1 concurrency cap, 2 pending, 3 wake
-- ARGV: 1 the cap, or '' for none
--@include claimable
if ARGV[1] == '' then
  redis.call('DEL', KEYS[1])
elseif string.match(ARGV[1], '^%d+$') and tonumber(ARGV[1]) >= 1 then
  redis.call('SET', KEYS[1], ARGV[1])
else
  return redis.error_reply('sheppy concurrencyCap: the cap must be an integer ≥ 1 or empty (got ' .. tostring(ARGV[1]) .. ')')
end
if anyClaimable(KEYS[2]) and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return 1
