-- Commands over many members at once. Each `redis.call` from a script costs
-- about as much as a small command's own work, so a script that touches one
-- index per task writes that index once per call instead.

-- Calls `command` with `head` (a key, or nil for none) and `items`, in calls
-- of at most 2,000 items (far below Lua's stack limit), keeping their order;
-- returns the sum of the replies.
local function inCalls(command, head, items)
  local total = 0
  for first = 1, #items, 2000 do
    local last = math.min(first + 1999, #items)
    if head then
      total = total + redis.call(command, head, unpack(items, first, last))
    else
      total = total + redis.call(command, unpack(items, first, last))
    end
  end
  return total
end

-- The replies of `command` `head` `items` (one per item, in calls of at most
-- 2,000 items) as one list: ZMSCORE, HMGET.
local function readInCalls(command, head, items)
  local out = {}
  for first = 1, #items, 2000 do
    local reply = redis.call(command, head, unpack(items, first, math.min(first + 1999, #items)))
    for _, value in ipairs(reply) do
      out[#out + 1] = value
    end
  end
  return out
end
