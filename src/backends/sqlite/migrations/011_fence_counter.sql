-- Sheppy on SQLite, version 11: fences from one counter.
--
-- A claim's fence was its row's last fence plus one, so a record deleted (or
-- cleared) and added again under the same id started again at 1 — the fence
-- a holder of the earlier record, still running after it was cancelled,
-- might hold, and whose settle would then be written over the new claim.
-- Every claim and takeover now takes its fence from this counter (or one
-- more than the row's own, were that ahead), so no fence is ever handed out
-- twice in a database.
INSERT INTO counters (name, value) SELECT 'fence_seq', coalesce(max(fence), 0) FROM tasks;
