#!lua
-- Admits a start under a rate limit (-1) or returns ms until a slot may be
-- free. Refused callers get staggered slots period/maxRate apart. Mirrors
-- src/backends/rate-window.ts answer for answer. Under out-of-memory the call
-- is refused whole (no flags): the task is put off, nothing is half-written. Times are the caller's (`now`),
-- so a test clock drives it and every backend does the same arithmetic; key
-- expiry below is only garbage collection (generous, as it runs on the
-- server's real time).
-- KEYS: 1 sliding-window zset, 2 state hash (fixed window + next slot), 3 rate-limit key set
-- ARGV: 1 maxRate, 2 period (ms), 3 task id, 4 strategy, 5 now (ms),
--       6 '1' when the task is back at a slot an earlier refusal gave it
--       (refused again, it is told when the window may have room, and the
--       slots handed out since stay as they are); absent or '0' otherwise
--
-- Numbers are stored with string.format('%.17g'), never tostring or `..`
-- (14 significant digits): an epoch time in ms with a fraction would lose it,
-- and the waits would drift a millisecond away from the reference.

-- An argument in an error message: quoted, on one line, not too long.
local function shown(value)
  if type(value) ~= 'string' then return 'nothing' end
  local text = (string.gsub(value, '%c', '?'))
  if #text > 64 then text = string.sub(text, 1, 64) .. '...' end
  return "'" .. text .. "'"
end

-- tonumber alone is not enough: it reads 'nan', 'inf' and '1e999' as numbers.
local function finite(value)
  if type(value) ~= 'string' then return nil end
  local n = tonumber(value)
  if n == nil or n ~= n or n == math.huge or n == -math.huge then return nil end
  return n
end

local function bad(message, value)
  return redis.error_reply('sheppy rate-limit: ' .. message .. ' (got ' .. shown(value) .. ')')
end

-- Every argument is checked before the first write: a bad call writes nothing.
local maxRate = finite(ARGV[1])
if maxRate == nil or maxRate < 1 or maxRate ~= math.floor(maxRate) then
  return bad('maxRate must be a positive integer', ARGV[1])
end
local period = finite(ARGV[2])
if period == nil or period <= 0 then
  return bad('period must be a positive finite number of ms', ARGV[2])
end
local taskId = ARGV[3]
if type(taskId) ~= 'string' or taskId == '' then
  return bad('task id must be a non-empty string', taskId)
end
local strategy = ARGV[4]
if strategy ~= 'sliding_window' and strategy ~= 'fixed_window' then
  return bad("strategy must be 'sliding_window' or 'fixed_window'", strategy)
end
local now = finite(ARGV[5])
if now == nil then
  return bad('now must be a finite number of ms', ARGV[5])
end
local atSlot = ARGV[6]
if atSlot ~= nil and atSlot ~= '0' and atSlot ~= '1' then
  return bad("the at-slot flag must be '0' or '1'", atSlot)
end
atSlot = atSlot == '1'

-- Expiry times must be integers that PEXPIRE accepts, so they are rounded up
-- and capped: a state that would be kept longer is kept a century (real time).
local CENTURY = 3155760000000
local function ttl(ms)
  return math.min(CENTURY, math.ceil(ms))
end
local keep = ttl(math.max(60000, period * 2 + 1000))

-- Stored state that cannot be read (a field that is not a number, a key of
-- another type, an infinite score) is treated as a fresh window and
-- overwritten, rather than failing this call and every later one on the key.
-- The hash is read before the first write, so a bad one cannot stop the
-- script halfway; pcall, as a key of another type would raise an error.
local state = redis.pcall('HMGET', KEYS[2], 'start', 'count', 'next')
if state.err then
  redis.call('DEL', KEYS[2])
  state = {}
end
-- No next slot yet counts as 0, as in the reference's fresh state.
local nextSlot = finite(state[3])
local nextUnreadable = nextSlot == nil and state[3]
nextSlot = nextSlot or 0

redis.call('SADD', KEYS[3], KEYS[1], KEYS[2])
local freeAt
if strategy == 'fixed_window' then
  local start = finite(state[1])
  local count = finite(state[2])
  if count ~= nil and (count < 0 or count ~= math.floor(count)) then count = nil end
  -- A fresh (or unreadable) state has no window yet: the first admission
  -- opens one (even at a small `now`).
  if start == nil or count == nil or count == 0 or now >= start + period then
    start = now
    count = 0
  end
  if count < maxRate then
    redis.call('HSET', KEYS[2], 'start', string.format('%.17g', start), 'count', count + 1)
    if nextUnreadable then redis.call('HDEL', KEYS[2], 'next') end
    -- The hash also holds the next slot: keep it until that slot has passed too.
    redis.call('PEXPIRE', KEYS[2], ttl(keep + math.max(0, nextSlot - now)))
    return -1
  end
  freeAt = start + period
else
  local newest = redis.pcall('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if newest.err or (newest[2] ~= nil and finite(newest[2]) == nil) then
    redis.call('DEL', KEYS[1])
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.17g', now - period))
  local card = redis.call('ZCARD', KEYS[1])
  if card < maxRate then
    -- Members must be unique or ZADD only moves an existing one: the count
    -- keeps the same task at the same instant apart, the suffix the rare
    -- repeat (the same task asked again at an instant already counted, e.g.
    -- by a worker whose clock is behind).
    local member = taskId .. ':' .. string.format('%.17g', now) .. ':' .. card
    local candidate, n = member, 0
    while redis.call('ZADD', KEYS[1], 'NX', string.format('%.17g', now), candidate) == 0 do
      n = n + 1
      candidate = member .. ':' .. n
    end
    redis.call('PEXPIRE', KEYS[1], keep)
    if nextUnreadable then redis.call('HDEL', KEYS[2], 'next') end
    return -1
  end
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  freeAt = tonumber(oldest[2]) + period
end
local slot = freeAt
if not atSlot then
  slot = math.max(freeAt, nextSlot)
  redis.call('HSET', KEYS[2], 'next', string.format('%.17g', slot + period / maxRate))
  redis.call('PEXPIRE', KEYS[2], ttl(math.max(0, slot - now) + keep))
end
-- Capped at 2^53 - 1 ms (285,000 years, far past any date a task can be
-- scheduled at): an integer reply past 2^63 would come back negative, i.e.
-- "admitted".
return math.min(9007199254740991, math.max(10, math.ceil(slot - now)))
