#!lua
-- Stores new work. Each record comes as (id, json, route, extra, created,
-- status, claim spec): route 'p' is claimable now (FIFO within its priority,
-- lib/claimable.lua; or held for its concurrency key's slot, lib/slots.lua), 'd' waits until `extra` (ms),
-- 'f' is finished with status `extra` (a record that could not be used,
-- stored as its failed stand-in); `created` (ms) places it in the creation
-- index (a replaced record takes the new one's place), and `status` is the
-- JSON's, kept beside it for readers. Mode 'unique' leaves an
-- id the queue holds alone (answer 0); 'replace' replaces the old record in
-- whatever state — unless it is claimed right now (0); 'rerun' replaces it
-- only while it is finished or waits for its automatic retry, and only the
-- run it was made from (one manual re-run less; 0 otherwise); 'reschedule'
-- replaces it only while it waits (pending, scheduled or retrying, not
-- claimed) and its stored JSON is still the one the caller read (the
-- record's `expected` field, compared byte for byte: any claim's settle, a
-- retry or a debounced replacement in between rewrites it), and never adds
-- a record the queue does not hold (0).
-- A second copy of an id in one call is a duplicate (0).
-- Each record written carries the call's request token (field `rq`): resent
-- with the same token after a lost reply, the call recognises its own
-- records and answers 1 again instead of calling them duplicates.
-- A record written appends its event body (when given: '' is none) to the
-- event log in the same step; a resend recognising its own records appends
-- nothing again.
-- Every argument is checked before the first write. Under out-of-memory the
-- whole call is refused (no flags): new work waits until memory frees.
-- KEYS: 1 ids, 2 pending, 3 wake, 4 scheduled, 5 processing, 6 done, 7 counts, 8 expires, 9 event log
-- ARGV: 1 task key prefix, 2 mode, 3 request token, 4 event cap (0: log off),
--       then (id, json, route, extra, created, status, claim spec, event body, expected) per
--       record (expected: '' but in mode 'reschedule')
--@include counts
--@include events
--@include claimable
--@include slots
--@include batches
local prefix = ARGV[1]
local mode = ARGV[2]
local token = ARGV[3]
local eventCap = ARGV[4]
local WIDTH = 9
if mode ~= 'unique' and mode ~= 'replace' and mode ~= 'rerun' and mode ~= 'reschedule' then
  return redis.error_reply('sheppy add: mode must be unique, replace, rerun or reschedule (got ' .. tostring(mode) .. ')')
end
if token == nil or token == '' or not isEventCap(eventCap) or (#ARGV - 4) % WIDTH ~= 0 then
  return redis.error_reply('sheppy add: expected a request token, an event cap and (id, json, route, extra, created, status, claim spec, event body, expected) per record')
end
for i = 5, #ARGV, WIDTH do
  local route = ARGV[i + 2]
  local extra = ARGV[i + 3]
  if ARGV[i] == '' or ARGV[i + 1] == '' or (route ~= 'p' and route ~= 'd' and route ~= 'f')
    or (route == 'd' and not tonumber(extra)) or (route == 'f' and extra == '')
    or not tonumber(ARGV[i + 4]) or ARGV[i + 5] == '' or not isClaimSpec(ARGV[i + 6]) then
    return redis.error_reply('sheppy add: record ' .. ((i - 5) / WIDTH) .. ' has a bad id, json, route, due time, creation time, status or claim spec')
  end
end
eventCap = usableEventCap(KEYS[9], eventCap)

-- A call's records are usually all new: one EXISTS over every key tells so,
-- and then no record needs a look of its own (a second copy of an id within
-- the call is still caught by `seen`).
local anyExists
do
  local keys = {}
  for i = 5, #ARGV, WIDTH do
    keys[#keys + 1] = prefix .. ARGV[i]
  end
  anyExists = inCalls('EXISTS', nil, keys) > 0
end

-- The creation index's entries, written once at the end (nothing here reads it).
local created = {}
-- Plain claimable ids (priority 0, no concurrency key) waiting to be appended
-- to the pending list in one call; written out before anything else touches
-- that list, so the list keeps the records' order.
local plainPending = {}
local function flushPending()
  if #plainPending > 0 then
    inCalls('RPUSH', KEYS[2], plainPending)
    plainPending = {}
  end
end

local results = {}
local queued = false
-- A stored record's status: its hash's field, or, for a record an earlier
-- version wrote without it, its JSON's (nil when that does not decode).
local function storedStatus(key)
  local status = redis.call('HGET', key, 'status')
  if status then
    return status
  end
  local ok, record = pcall(cjson.decode, redis.call('HGET', key, 'd') or '')
  return ok and type(record) == 'table' and record.status or nil
end

-- The manual re-runs a record counts (field `manualRetryCount`, absent: 0);
-- nil when its JSON does not decode (written by hand).
local function manualRetries(json)
  local ok, record = pcall(cjson.decode, json or '')
  if not ok or type(record) ~= 'table' then
    return nil
  end
  local n = record.manualRetryCount
  if n == nil or n == cjson.null then
    return 0
  end
  return tonumber(n)
end

-- Whether the rerun `json` was made from the stored record at `key`, not
-- from one that another rerun has replaced since (and that may have run
-- and finished again): a rerun counts one manual re-run more than the record
-- it was made from. A stored record that does not decode is not in the way.
local function rerunOf(key, json)
  local stored = manualRetries(redis.call('HGET', key, 'd'))
  local wanted = manualRetries(json)
  return stored == nil or wanted == nil or stored == wanted - 1
end

-- Whether a reschedule may replace the stored record at `key`: it waits to
-- run (claims are refused before this) and its JSON is still `expected`.
local function reschedulable(key, id, expected)
  if redis.call('HGET', KEYS[6], id) then
    return false
  end
  local status = storedStatus(key)
  if status ~= 'pending' and status ~= 'scheduled' and status ~= 'retrying' then
    return false
  end
  return redis.call('HGET', key, 'd') == expected
end

-- Ids met earlier in this call: a second copy is a duplicate, even of our own write.
local seen = {}
for i = 5, #ARGV, WIDTH do
  local id = ARGV[i]
  local key = prefix .. id
  local exists = anyExists and redis.call('EXISTS', key) == 1
  local again = seen[id]
  seen[id] = true
  if again then
    results[#results + 1] = 0
  elseif exists and redis.call('HGET', key, 'rq') == token then
    results[#results + 1] = 1
  elseif (mode == 'unique' and exists) or (mode ~= 'unique' and redis.call('ZSCORE', KEYS[5], id))
    or (mode == 'rerun' and exists and not redis.call('HGET', KEYS[6], id)
      and storedStatus(key) ~= 'retrying')
    or (mode == 'rerun' and exists and not rerunOf(key, ARGV[i + 1]))
    or (mode == 'reschedule' and not (exists and reschedulable(key, id, ARGV[i + 8]))) then
    results[#results + 1] = 0
  else
    if exists then
      flushPending()
      if leaveSlot(KEYS[2], prefix, id) then
        queued = true
      end
      removeClaimable(KEYS[2], id, redis.call('HGET', key, 'pr'))
      redis.call('ZREM', KEYS[4], id)
      -- A finished record re-queued leaves the finished index and loses its expiry.
      unfinish(KEYS[7], KEYS[6], KEYS[8], id)
      -- The fences stay: a holder of an earlier claim must never match a later one.
      redis.call('HDEL', key, 'd', 'status', 'startedAt', 'finishedAt', 'x', 'rq', 'pr', 'ck', 'cl')
    end
    redis.call('HSET', key, 'd', ARGV[i + 1], 'rq', token, 'status', ARGV[i + 5])
    created[#created + 1] = ARGV[i + 4]
    created[#created + 1] = id
    if ARGV[i + 2] == 'p' and ARGV[i + 6] == '0' then
      plainPending[#plainPending + 1] = id
      queued = true
    elseif ARGV[i + 2] == 'p' then
      flushPending()
      if enqueueClaimable(KEYS[2], prefix, id, false, storeClaimSpec(key, ARGV[i + 6])) then
        queued = true
      end
    elseif ARGV[i + 2] == 'd' then
      storeClaimSpec(key, ARGV[i + 6])
      redis.call('ZADD', KEYS[4], tonumber(ARGV[i + 3]), id)
    else
      storeClaimSpec(key, ARGV[i + 6])
      redis.call('HSET', KEYS[6], id, ARGV[i + 3])
      bump(KEYS[7], KEYS[6], ARGV[i + 3], 1)
    end
    if ARGV[i + 7] ~= '' then
      appendEvent(KEYS[9], eventCap, ARGV[i + 7])
    end
    results[#results + 1] = 1
  end
end
flushPending()
inCalls('ZADD', KEYS[1], created)
if queued and redis.call('LLEN', KEYS[3]) == 0 then
  redis.call('RPUSH', KEYS[3], '1')
end
writeEvents()
return results
