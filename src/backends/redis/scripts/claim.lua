#!lua
-- Claims up to `limit` claimable tasks, the highest priority first and the
-- oldest first within one (lib/claimable.lua): each becomes
-- `processing` under a lease (score = server time) and a new fence (field
-- `f`, one more than the task's last), listed beside the processing index
-- (hash `<processing>:fences`, id → `<fence>/<token>/<n>`: the fence, the
-- request token and the task's place in the claim). If tasks remain, leaves
-- a wake marker so another idle worker wakes too.
-- A claim whose answer was lost (its connection dropped) may have claimed
-- tasks that nobody received. The worker's next claim names those earlier
-- tokens: whatever they still hold (found in the fences list by their
-- token; a task taken over since is listed without one) is first put back at
-- the front of the claimable list, unclaimed, and then claimed afresh with
-- the rest — so no claim is ever left to wait out its lease, and no task
-- that never ran is marked crashed. Under out-of-memory the call is refused
-- (no flags): no new work starts. A paused queue claims nothing (the lost
-- claims' tasks are still put back); a queue with a concurrency cap claims
-- at most the cap less the claims held now. A put-back task keeps its
-- concurrency key's slot (lib/slots.lua): it is claimable again.
-- The start time is the worker's, or, when it sends none (a claim sent
-- behind a wait on the same connection, run whenever the wait ends), the
-- server's time at the claim less the worker's clock offset.
-- Fences come from the queue's fence counter (`<processing>:fence`), one
-- INCRBY per call: every fence is one the queue never gave before, even to
-- an earlier record under the same id (deleted or cleared, and added again)
-- whose holder may still be running; the counter outlives `clear`. A record
-- whose own last fence is ahead of the counter (written by an earlier
-- version) gets one more than that, and the counter follows.
-- The fences list lets the settle that ends a claim find every fence of its
-- call in one read instead of one read of each task's hash, and keeps the
-- claim's token out of the task's hash (a field written and emptied per
-- attempt). The fence is followed by `r` when that settle must still read
-- the task's own fields: the task has a concurrency key (its slot is
-- freed), or a finish time or expiry left from before (removed with the
-- settle).
-- A queue whose records-version key names a task-record version newer than
-- the caller reads (a newer Sheppy writes it before its first record of that
-- version) is refused with an error reply `SHEPPY_NEWER_RECORDS <version>`,
-- after the lost claims are put back and before anything is claimed: an
-- earlier version must not take a record it would misread and store back
-- damaged. Its own claims, held from before, it still renews and settles.
-- KEYS: 1 pending, 2 processing, 3 wake, 4 paused, 5 concurrency cap,
--       6 records version
-- ARGV: 1 task key prefix, 2 limit, 3 startedAt (ISO, or '' for the server's time),
--       4 request token, 5 the server's clock less the worker's (ms),
--       6 the newest task-record version the caller reads,
--       7 the lease the caller holds its claims under (ms; '' when not told:
--         a reclaimer then goes by its own), kept in the task's field `l`,
--       8… tokens of earlier claims whose answer was lost
-- Returns: startedAt, id1, json1, fence1, status1, id2, …; a status is ''
-- unless the hash's `status` field holds no task status (damaged by hand):
-- then it is that text, and the worker settles the task as the failed record
-- its reader shows instead of running it. A taken id whose key holds no
-- hash, or a hash without its record (`d`), is left out: nothing can run
-- it, and its reader shows it as failed.
--@include counts
--@include claimable
--@include iso-time
local limit = tonumber(ARGV[2])
local token = ARGV[4]
local offset = tonumber(ARGV[5])
local reads = tonumber(ARGV[6])
if not limit or limit < 1 or ARGV[3] == nil or token == nil or token == '' or not offset or not reads then
  return redis.error_reply('sheppy claim: expected a limit ≥ 1, a start time or none, a request token, a clock offset and a record version')
end
local startedAt = ARGV[3]
if startedAt == '' then
  startedAt = isoAt(serverMs(offset))
end
local lease = ARGV[7]
if lease == nil or (lease ~= '' and not string.match(lease, '^%d+$')) then
  return redis.error_reply('sheppy claim: expected a lease in whole ms, or none')
end
if #ARGV >= 8 then
  -- Oldest lost claim first; within one claim, the order it took its tasks in.
  local rankOf = {}
  for i = 8, #ARGV do
    rankOf[ARGV[i]] = i
  end
  local released = {}
  local listed = redis.call('HGETALL', KEYS[2] .. ':fences')
  for j = 1, #listed, 2 do
    local id = listed[j]
    local claimToken, position = string.match(listed[j + 1], '^%d+r?/(.+)/(%d+)$')
    local rank = claimToken and rankOf[claimToken]
    if rank then
      redis.call('ZREM', KEYS[2], id)
      redis.call('HDEL', KEYS[2] .. ':fences', id)
      redis.call('HDEL', ARGV[1] .. id, 'status', 'startedAt')
      released[#released + 1] = { rank, tonumber(position), id }
    end
  end
  table.sort(released, function(a, b)
    if a[1] ~= b[1] then
      return a[1] < b[1]
    end
    return a[2] < b[2]
  end)
  for i = #released, 1, -1 do
    local id = released[i][3]
    pushClaimable(KEYS[1], id, redis.call('HGET', ARGV[1] .. id, 'pr'), true)
  end
end
local written = redis.call('GET', KEYS[6])
if written and (tonumber(written) or math.huge) > reads then
  return redis.error_reply('SHEPPY_NEWER_RECORDS ' .. string.sub(written, 1, 20))
end
if redis.call('EXISTS', KEYS[4]) == 1 then
  return { startedAt }
end
local cap = tonumber(redis.call('GET', KEYS[5]) or '')
if cap then
  limit = math.min(limit, cap - redis.call('ZCARD', KEYS[2]))
  if limit < 1 then
    return { startedAt }
  end
end
local ids = takeClaimable(KEYS[1], limit)
if #ids == 0 then
  return { startedAt }
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = { startedAt }
local statuses = {
  new = true, pending = true, scheduled = true, processing = true, retrying = true,
  completed = true, failed = true, crashed = true, cancelled = true,
}
-- Leases and fences are added in one call per thousand claims, not one per claim.
local leases = {}
local fences = {}
-- Numbers go to Redis as text written once here: a Lua number handed to
-- redis.call is written with the C library's floating-point formatting,
-- which showed as several per cent of the server's time in a drain.
local nowText = string.format('%d', now)
local place = '/' .. token .. '/'
local fenceKey = KEYS[2] .. ':fence'
local nextFence = tonumber(redis.call('INCRBY', fenceKey, #ids)) - #ids + 1
local lastFence = nextFence - 1
for _, id in ipairs(ids) do
  local key = ARGV[1] .. id
  -- A key changed by hand into another type refuses HMGET: that id is left out (readers show it as
  -- failed), not allowed to stop the script halfway, when tasks before it are marked but not leased.
  local fields = redis.pcall('HMGET', key, 'd', 'f', 'status', 'ck', 'finishedAt', 'x', 'l')
  local json = not fields.err and fields[1]
  if json then
    local damaged = fields[3] and not statuses[fields[3]] and fields[3] or ''
    -- A fence that is not an integer (damaged by hand) counts as 0, as in fenceOf.
    local last = fields[2] and string.match(fields[2], '^%d+$') and tonumber(fields[2]) or 0
    local fenceNumber = math.max(nextFence, last + 1)
    nextFence = fenceNumber + 1
    lastFence = math.max(lastFence, fenceNumber)
    local fence = string.format('%d', fenceNumber)
    if lease ~= '' then
      redis.call('HSET', key, 'status', 'processing', 'startedAt', startedAt, 'f', fence, 'l', lease)
    else
      redis.call('HSET', key, 'status', 'processing', 'startedAt', startedAt, 'f', fence)
      -- A lease an earlier holder left is not this claim's.
      if fields[7] then redis.call('HDEL', key, 'l') end
    end
    leases[#leases + 1] = nowText
    leases[#leases + 1] = id
    fences[#fences + 1] = id
    fences[#fences + 1] = ((fields[4] or fields[5] or fields[6]) and fence .. 'r' or fence) .. place .. string.format('%d', (#out - 1) / 4)
    out[#out + 1] = id
    out[#out + 1] = json
    out[#out + 1] = fence
    out[#out + 1] = damaged
  end
end
for first = 1, #leases, 2000 do
  redis.call('ZADD', KEYS[2], unpack(leases, first, math.min(first + 1999, #leases)))
  redis.call('HSET', KEYS[2] .. ':fences', unpack(fences, first, math.min(first + 1999, #fences)))
end
-- Ahead of the counter (an earlier version's fences, or ids left out): it follows.
if lastFence > tonumber(redis.call('GET', fenceKey)) then
  redis.call('SET', fenceKey, string.format('%d', lastFence))
end
if anyClaimable(KEYS[1]) and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
return out
