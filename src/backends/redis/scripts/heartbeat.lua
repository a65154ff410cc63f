-- Renews the leases the caller still owns; returns the ids it no longer owns.
-- KEYS: 1 processing
-- ARGV: 1 task key prefix, 2 consumer id, then task ids
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lost = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', ARGV[1] .. id, 'owner') == ARGV[2] and redis.call('ZSCORE', KEYS[1], id) then
    redis.call('ZADD', KEYS[1], now, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
