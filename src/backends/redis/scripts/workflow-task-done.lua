-- Removes a task id from a workflow's pending set; returns how many remain, or -1.
-- KEYS: 1 workflows hash, 2 the workflow's pending set
-- ARGV: 1 workflow id, 2 task id
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return -1
end
if redis.call('SREM', KEYS[2], ARGV[2]) == 0 then
  return -1
end
return redis.call('SCARD', KEYS[2])
