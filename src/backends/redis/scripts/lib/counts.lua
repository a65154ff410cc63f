-- Status counters (hash `counts`: status → number of finished records) are
-- kept in step with the index of finished records (hash `done`: id →
-- status). `bump` is called after `done` is up to date, so a counter that is
-- not an integer (corrupted by hand) is recounted from `done` instead of
-- making HINCRBY fail halfway through a script.
local function bump(counts, done, status, delta)
  local value = redis.call('HGET', counts, status)
  if value == false or string.match(value, '^%-?%d+$') then
    redis.call('HINCRBY', counts, status, delta)
    return
  end
  local n = 0
  for _, s in ipairs(redis.call('HVALS', done)) do
    if s == status then
      n = n + 1
    end
  end
  redis.call('HSET', counts, status, n)
end

-- The integer in a task hash's field (a fence), or 0 when it is absent or
-- not an integer: a corrupted fence then matches no holder and is replaced
-- by the next claim.
local function fenceOf(key, field)
  local value = redis.call('HGET', key, field)
  if value and string.match(value, '^%d+$') then
    return tonumber(value)
  end
  return 0
end

-- Finished records that expire are indexed by kind: completed ones in the
-- queue's expiry set, the others (failed, crashed, cancelled) in the set
-- beside it, so each kind has a bound of its own (`maxFinished`,
-- `maxFailed`) and a run of failures, kept longer, never deletes the results
-- of tasks that completed.
local function errorExpiries(expires)
  return expires .. ':errors'
end

-- The count bounds an argument 'completed:others' gives (either part ''
-- for no bound; the whole '' or absent for none): each kind's expiry set
-- paired with its bound, or nil when the argument is malformed.
local function countBounds(expires, arg)
  if arg == nil or arg == '' then
    return {}
  end
  local completed, others = string.match(arg, '^(%d*):(%d*)$')
  if not completed then
    return nil
  end
  local bounds = {}
  if completed ~= '' then
    bounds[#bounds + 1] = { expires, tonumber(completed) }
  end
  if others ~= '' then
    bounds[#bounds + 1] = { errorExpiries(expires), tonumber(others) }
  end
  return bounds
end

-- Takes a finished record out of the finished index and its status count.
local function unfinish(counts, done, expires, id)
  local status = redis.call('HGET', done, id)
  if status then
    redis.call('HDEL', done, id)
    bump(counts, done, status, -1)
  end
  redis.call('ZREM', expires, id)
  redis.call('ZREM', errorExpiries(expires), id)
end
