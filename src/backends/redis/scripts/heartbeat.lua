-- Renews the leases the caller still owns; returns the ids it no longer owns.
-- KEYS: 1 processing, 2 owner
-- ARGV: 1 consumer id, then task ids
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lost = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('HGET', KEYS[2], id) == ARGV[1] and redis.call('ZSCORE', KEYS[1], id) then
    redis.call('ZADD', KEYS[1], now, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
