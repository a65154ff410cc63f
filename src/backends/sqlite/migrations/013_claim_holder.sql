-- Sheppy on SQLite, version 13: which process holds each claim.
--
-- A SQLite file is shared only by processes of one machine, so a worker can
-- see that a claim's holder has ended (killed, crashed) and take its tasks
-- over at its next reclaim scan, instead of waiting out the lease and the
-- confirmation window. The holder is `<boot id>:<pid namespace>:<pid>:<start
-- time>` (see claim-holder.ts); NULL where a process could not tell (not
-- Linux), and for claims made before this version: those go by their lease.
ALTER TABLE tasks ADD COLUMN holder TEXT;
