-- Sheppy on SQLite, version 12: the lease each claim was made under.
--
-- A claim's takeover went by the reclaiming worker's lease alone, so a worker
-- given a short lease took tasks from live workers that renew less often,
-- and a long lease given to one worker (for tasks that block its event loop)
-- did not keep its tasks from the others. The holder's lease is now kept with
-- its claim, and a claim is taken over only once unrenewed for the longer of
-- the two. NULL: a claim made without one (the reclaimer's lease counts).
ALTER TABLE tasks ADD COLUMN lease_ms INTEGER;
