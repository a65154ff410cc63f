-- A workflow's step ended finished with record `json`: while the workflow
-- runs and waits for it, the record is kept with the workflow (field
-- `o:<step id>`) and the workflow stops waiting for it; when it was the last
-- step waited for, the resume task (a table: id, json, created (ms),
-- status) is added as claimable unless its id exists. Returns true when the
-- resume was added.
local function stepEnded(wfPrefix, wpPrefix, taskPrefix, pendingKey, idsKey, wfId, stepId, json, resume)
  local wkey = wfPrefix .. wfId
  if redis.call('HGET', wkey, 'st') ~= 'running' then
    return false
  end
  local pkey = wpPrefix .. wfId
  if redis.call('SREM', pkey, stepId) == 0 then
    return false
  end
  redis.call('HSET', wkey, 'o:' .. stepId, json)
  if redis.call('SCARD', pkey) > 0 then
    return false
  end
  local rkey = taskPrefix .. resume.id
  if redis.call('EXISTS', rkey) == 1 then
    return false
  end
  redis.call('HSET', rkey, 'd', resume.json, 'status', resume.status)
  redis.call('ZADD', idsKey, resume.created, resume.id)
  redis.call('RPUSH', pendingKey, resume.id)
  return true
end
