-- A workflow's step ended finished with record `json`: while the workflow
-- runs and waits for it, the record is kept with the workflow (field
-- `o:<step id>`) and the workflow stops waiting for it; when it was the last
-- step waited for, the resume task (id, json) is added as claimable unless
-- its id exists. Returns true when the resume was added.
local function stepEnded(wfPrefix, wpPrefix, taskPrefix, pendingKey, allKey, wfId, stepId, json, resumeId, resumeJson)
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
  local rkey = taskPrefix .. resumeId
  if redis.call('EXISTS', rkey) == 1 then
    return false
  end
  redis.call('HSET', rkey, 'd', resumeJson)
  redis.call('SADD', allKey, resumeId)
  redis.call('RPUSH', pendingKey, resumeId)
  return true
end
