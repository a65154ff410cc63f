-- Server time as the worker's clock reads it, in the ISO-8601 form
-- `toISOString()` writes, for a claim that runs after a wait and so cannot be
-- stamped by the worker beforehand.

-- Milliseconds since the epoch on the server's clock, moved by `offset` (ms).
local function serverMs(offset)
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) - offset
end

-- `ms` (since the epoch, ≥ 0) as `YYYY-MM-DDTHH:MM:SS.mmmZ`: the days are
-- turned into a civil date by counting 400-year eras from 0000-03-01.
local function isoAt(ms)
  local seconds = math.floor(ms / 1000)
  local days = math.floor(seconds / 86400)
  local daySeconds = seconds - days * 86400
  local z = days + 719468
  local era = math.floor(z / 146097)
  local dayOfEra = z - era * 146097
  local yearOfEra = math.floor((dayOfEra - math.floor(dayOfEra / 1460) + math.floor(dayOfEra / 36524)
    - math.floor(dayOfEra / 146096)) / 365)
  local dayOfYear = dayOfEra - (365 * yearOfEra + math.floor(yearOfEra / 4) - math.floor(yearOfEra / 100))
  local shifted = math.floor((5 * dayOfYear + 2) / 153)
  local day = dayOfYear - math.floor((153 * shifted + 2) / 5) + 1
  local month = shifted < 10 and shifted + 3 or shifted - 9
  local year = yearOfEra + era * 400 + (month <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', year, month, day,
    math.floor(daySeconds / 3600), math.floor(daySeconds % 3600 / 60), daySeconds % 60, ms - seconds * 1000)
end
