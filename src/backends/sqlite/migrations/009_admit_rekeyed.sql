-- Sheppy on SQLite, version 9: a replacing add that gives a waiting task
-- another concurrency key, or gives a key to a task that had none, lets that
-- key admit it. A keyed record replacing one is written held (it waits in
-- its key's line as an added one does); the trigger that admits the key's
-- held rows fired only when the replaced row had been due or finished, so a
-- task held for one key and moved to another (a free one), or a claimable
-- task given a key with a free slot, stayed held until something else moved
-- that key. It now fires whenever the row is newly in the key's line: it was
-- not held before, or it was held for another key.
DROP TRIGGER tasks_admit_replaced;

CREATE TRIGGER tasks_admit_replaced AFTER UPDATE OF state ON tasks
  WHEN NEW.ckey IS NOT NULL AND NEW.state = 4
       AND (OLD.state <> 4 OR OLD.ckey IS NOT NEW.ckey)
BEGIN
  UPDATE tasks SET state = 0
  WHERE queue = NEW.queue AND id IN (
    SELECT id FROM tasks WHERE queue = NEW.queue AND ckey = NEW.ckey AND state = 4
    ORDER BY seq, id
    LIMIT max(0, coalesce(NEW.climit, 1) - (
      SELECT count(*) FROM tasks WHERE queue = NEW.queue AND ckey = NEW.ckey AND state IN (0, 2))));
END;
