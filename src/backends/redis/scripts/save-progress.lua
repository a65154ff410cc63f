#!lua
-- Stores the running record of a claimed task (what it reported: progress,
-- log lines) while the claim naming `fence` is the task's current one: the
-- task is in the processing index and its latest fence is `fence`. Its
-- status and claim start stay in their fields beside the JSON.
-- KEYS: 1 processing
-- ARGV: 1 task key prefix, 2 id, 3 fence, 4 record json
-- Returns: 1 written, 0 the claim is not current
local key = ARGV[1] .. ARGV[2]
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  return 0
end
local fence = redis.call('HGET', key, 'f')
if not fence or fence ~= ARGV[3] then
  return 0
end
redis.call('HSET', key, 'd', ARGV[4])
return 1
