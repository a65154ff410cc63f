#!lua flags=allow-oom
-- Takes over claims whose lease was not renewed for `lease` ms — or for the
-- longer lease their holder claimed them under (the task's field `l`, see
-- claim.lua) — once they
-- have stayed so for `confirm` ms by this server's clock: a first scan notes
-- an expired claim (hash `suspects`: id → "renewal score:time noted"), a
-- later scan at least `confirm` ms after takes it over if it was not renewed
-- meanwhile. So after an outage or a pause of the server, a live holder's
-- renewal — queued or sent within a heartbeat — always comes first. The
-- taker gets a new fence from the queue's fence counter (see claim.lua; the
-- old holder's writes are refused from then on)
-- and the records back; its fence is listed beside the processing index
-- marked `r` (see claim.lua), so the settle that ends it reads the task's
-- own fields. Allowed under out-of-memory.
-- A claim noted and still within its `confirm` ms is passed over, not
-- counted against `limit`: otherwise the oldest hundred noted claims would
-- hide every later one until they were taken, and a queue with many dead
-- claims would be taken over a hundred per `confirm` window. At most ten
-- times `limit` expired claims are looked at per call.
-- Nothing is noted or taken on a queue whose records-version key names a
-- task-record version newer than the caller reads (see claim.lua): an
-- expired claim there is left to a worker of that newer version, and the
-- call answers the error `SHEPPY_NEWER_RECORDS <version>`, so the caller
-- can say why it takes none over.
-- KEYS: 1 processing, 2 suspects, 3 records version
-- ARGV: 1 task key prefix, 2 lease (ms), 3 confirm (ms), 4 limit,
--       5 the newest task-record version the caller reads
-- Returns: '1' when `limit` claims were noted or taken (call again: more may be
-- due), else '0'; then id, json, status, startedAt, finishedAt, fence for
-- each taken (empty string = none)
--@include counts
local lease = tonumber(ARGV[2])
local confirm = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local reads = tonumber(ARGV[5])
if not lease or not confirm or not limit or not reads then
  return redis.error_reply('sheppy reclaim: lease, confirm, limit and the record version must be numbers')
end
local written = redis.call('GET', KEYS[3])
if written and (tonumber(written) or math.huge) > reads then
  return redis.error_reply('SHEPPY_NEWER_RECORDS ' .. string.sub(written, 1, 20))
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - lease), 'WITHSCORES', 'LIMIT', 0, 10 * limit)
local out = { '0' }
local acted = 0
for i = 1, #stale, 2 do
  if acted >= limit then
    break
  end
  local id = stale[i]
  local renewed = stale[i + 1]
  local key = ARGV[1] .. id
  -- Expired by the caller's lease; the holder's own may be longer, and then it counts.
  local held = tonumber(redis.call('HGET', key, 'l') or '')
  local expired = not held or now - tonumber(renewed) > held
  local take = expired and confirm <= 0
  if expired and not take then
    local noted = redis.call('HGET', KEYS[2], id)
    local seenRenewal, seenAt = nil, nil
    if noted then
      seenRenewal, seenAt = string.match(noted, '^([^:]+):(%d+)$')
    end
    if seenRenewal == renewed and seenAt and now - tonumber(seenAt) >= confirm then
      take = true
    elseif seenRenewal ~= renewed then
      redis.call('HSET', KEYS[2], id, renewed .. ':' .. now)
      acted = acted + 1
    end
  end
  if take then
    acted = acted + 1
  end
  if take then
    redis.call('HDEL', KEYS[2], id)
    local fields = redis.call('HMGET', key, 'd', 'status', 'startedAt', 'finishedAt')
    if fields[1] then
      -- From the queue's fence counter, as a claim's (see claim.lua).
      local fence = math.max(tonumber(redis.call('INCR', KEYS[1] .. ':fence')), fenceOf(key, 'f') + 1)
      if fence > tonumber(redis.call('GET', KEYS[1] .. ':fence')) then
        redis.call('SET', KEYS[1] .. ':fence', string.format('%d', fence))
      end
      fence = string.format('%d', fence)
      redis.call('ZADD', KEYS[1], now, id)
      redis.call('HSET', key, 'f', fence)
      -- Held now by the caller, which settles it at once: the earlier holder's lease is not its.
      redis.call('HDEL', key, 'l')
      -- Listed without a request token: taken over, the task is no longer the claim of the
      -- request that made it (which must not put it back).
      redis.call('HSET', KEYS[1] .. ':fences', id, fence .. 'r')
      out[#out + 1] = id
      out[#out + 1] = fields[1]
      out[#out + 1] = fields[2] or ''
      out[#out + 1] = fields[3] or ''
      out[#out + 1] = fields[4] or ''
      out[#out + 1] = fence
    else
      redis.call('ZREM', KEYS[1], id)
      redis.call('HDEL', KEYS[1] .. ':fences', id)
    end
  end
end
if acted >= limit then
  out[1] = '1'
end
-- Notes about claims that were renewed, settled or taken over meanwhile are dropped.
if redis.call('HLEN', KEYS[2]) > 2 * limit then
  for _, id in ipairs(redis.call('HKEYS', KEYS[2])) do
    local score = redis.call('ZSCORE', KEYS[1], id)
    if not score or tonumber(score) > now - lease then
      redis.call('HDEL', KEYS[2], id)
    end
  end
end
return out
