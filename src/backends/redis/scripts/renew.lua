#!lua flags=allow-oom
-- Renews the leases of claims the caller still holds; returns the ids whose
-- claim is no longer current. A claim already settled by its holder (field
-- `sf` = its fence) is not reported: a renewal that raced with the settle
-- lost nothing. Allowed under out-of-memory: refusing renewals would let
-- live workers' leases expire.
-- KEYS: 1 processing
-- ARGV: 1 task key prefix, then (id, fence) pairs
--@include counts
if (#ARGV - 1) % 2 ~= 0 then
  return redis.error_reply('sheppy renew: expected (id, fence) pairs')
end
for i = 2, #ARGV, 2 do
  if ARGV[i] == '' or not tonumber(ARGV[i + 1]) then
    return redis.error_reply('sheppy renew: pair ' .. (i / 2) .. ' needs an id and a numeric fence')
  end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lost = {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local key = ARGV[1] .. id
  local fence = tonumber(ARGV[i + 1])
  if redis.call('ZSCORE', KEYS[1], id) and fenceOf(key, 'f') == fence then
    redis.call('ZADD', KEYS[1], now, id)
  elseif fenceOf(key, 'sf') ~= fence then
    lost[#lost + 1] = id
  end
end
return lost
