#!lua flags=no-writes
-- Reads the claimable tasks of a queue, in claim order, changing nothing:
-- ARGV[1] 'count' answers how many there are; 'range' the first ARGV[2] ids.
-- KEYS: 1 pending
--@include claimable
if ARGV[1] == 'count' then
  local n = 0
  for _, list in ipairs(claimableLists(KEYS[1])) do
    n = n + redis.call('LLEN', list[1])
  end
  return n
end
local limit = tonumber(ARGV[2])
if ARGV[1] ~= 'range' or not limit or limit < 1 then
  return redis.error_reply("sheppy claimable: expected 'count', or 'range' and a count ≥ 1")
end
local ids = {}
for _, list in ipairs(claimableLists(KEYS[1])) do
  if #ids >= limit then
    break
  end
  for _, id in ipairs(redis.call('LRANGE', list[1], 0, limit - #ids - 1)) do
    ids[#ids + 1] = id
  end
end
return ids
