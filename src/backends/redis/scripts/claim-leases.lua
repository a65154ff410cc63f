#!lua flags=no-writes
-- The claims held now on some tasks, as an operator reads them: for each id
-- still in the processing index, how long ago (server ms) its lease was last
-- renewed, and the lease its holder claimed it under (field `l`, '' when the
-- claim did not say). Ids not claimed are left out. Reads only.
-- KEYS: 1 processing
-- ARGV: 1 task key prefix, then ids
-- Returns: flat (id, ms since renewal, lease ms or '') triples
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  local renewed = redis.call('ZSCORE', KEYS[1], id)
  if renewed then
    -- A key changed by hand into another type refuses HGET: its lease is unknown, not an error.
    local lease = redis.pcall('HGET', ARGV[1] .. id, 'l')
    if type(lease) ~= 'string' or not tonumber(lease) then
      lease = ''
    end
    out[#out + 1] = id
    out[#out + 1] = string.format('%d', math.max(0, now - tonumber(renewed)))
    out[#out + 1] = lease
  end
end
return out
