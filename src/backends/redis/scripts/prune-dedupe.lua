#!lua flags=allow-oom
-- Drops dedupe slots that hold nothing any more (see add-deduplicated.lua),
-- looking at up to `limit` slots whose check time has come: a window that
-- has ended goes; a slot without one goes once its task has finished or is
-- gone, and is otherwise looked at again `recheck` ms later.
-- KEYS: 1 dedupe, 2 dedupe checks, 3 done
-- ARGV: 1 task key prefix, 2 now (ms), 3 limit, 4 recheck (ms)
-- Returns: { dropped, looked at }
local now, limit, recheck = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not now or not limit or not recheck then
  return redis.error_reply('sheppy pruneDedupe: now, limit and recheck must be numbers')
end
local keys = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, limit)
local dropped = 0
for _, dkey in ipairs(keys) do
  local slot = redis.call('HGET', KEYS[1], dkey)
  local stale = true
  local sep = slot and string.find(slot, ':', 1, true)
  if sep then
    local untilText, holder = string.sub(slot, 1, sep - 1), string.sub(slot, sep + 1)
    if untilText ~= '' then
      stale = (tonumber(untilText) or now) <= now
    else
      stale = redis.call('EXISTS', ARGV[1] .. holder) == 0 or redis.call('HEXISTS', KEYS[3], holder) == 1
    end
  end
  if stale then
    redis.call('HDEL', KEYS[1], dkey)
    redis.call('ZREM', KEYS[2], dkey)
    dropped = dropped + 1
  else
    redis.call('ZADD', KEYS[2], now + recheck, dkey)
  end
end
return { dropped, #keys }
