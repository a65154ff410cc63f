#!lua flags=no-writes
-- The workers whose announcement on this queue has not lapsed (server time),
-- each with how long ago it was made and what it said. Lapsed ones are left
-- out here and forgotten by the next announcement. Reads only.
-- KEYS: 1 workers (zset id → lapse ms), 2 workers:seen (hash id → "<ms>:<body>")
-- Returns: flat (id, ms since its announcement, body) triples
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')) do
  local seen = redis.call('HGET', KEYS[2], id)
  local colon = seen and string.find(seen, ':', 1, true)
  if colon then
    local at = tonumber(string.sub(seen, 1, colon - 1)) or now
    out[#out + 1] = id
    out[#out + 1] = string.format('%d', math.max(0, now - at))
    out[#out + 1] = string.sub(seen, colon + 1)
  end
end
return out
