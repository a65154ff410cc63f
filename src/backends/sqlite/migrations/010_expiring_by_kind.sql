-- Sheppy on SQLite, version 10: the maxFinished bound counts and trims
-- completed records and the other finished ones (failed, crashed,
-- cancelled) each on its own.
--
-- One count over both let failures, kept 7 days by default against 12 hours
-- for results, fill the whole bound: from then on every completed record was
-- the one due to expire soonest and was deleted by the settle that stored it,
-- so no result could be read. `expiring` keeps counting every row with an
-- expiry; `expiring_errors` counts those that are not completed (the
-- completed ones are the difference), and they have an expiry index of their
-- own, so trimming them never walks past the results.
CREATE TABLE expiring_errors (
  queue TEXT    PRIMARY KEY,
  n     INTEGER NOT NULL
);

INSERT INTO expiring_errors (queue, n)
  SELECT queue, count(*) FROM tasks
  WHERE expires_at IS NOT NULL AND status <> 'completed'
  GROUP BY queue;

CREATE INDEX tasks_expiring_errors ON tasks (queue, expires_at)
  WHERE expires_at IS NOT NULL AND status <> 'completed';

CREATE TRIGGER tasks_expiring_errors_insert AFTER INSERT ON tasks
  WHEN NEW.expires_at IS NOT NULL AND NEW.status <> 'completed'
BEGIN
  INSERT INTO expiring_errors (queue, n) VALUES (NEW.queue, 1)
    ON CONFLICT (queue) DO UPDATE SET n = n + 1;
END;

-- A row with an expiry whose status changes moves between the kinds.
CREATE TRIGGER tasks_expiring_errors_update AFTER UPDATE OF expires_at, status ON tasks
  WHEN (OLD.expires_at IS NOT NULL AND OLD.status <> 'completed')
    <> (NEW.expires_at IS NOT NULL AND NEW.status <> 'completed')
BEGIN
  INSERT INTO expiring_errors (queue, n)
    VALUES (NEW.queue, CASE WHEN NEW.expires_at IS NOT NULL AND NEW.status <> 'completed' THEN 1 ELSE -1 END)
    ON CONFLICT (queue) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER tasks_expiring_errors_delete AFTER DELETE ON tasks
  WHEN OLD.expires_at IS NOT NULL AND OLD.status <> 'completed'
BEGIN
  UPDATE expiring_errors SET n = n - 1 WHERE queue = OLD.queue;
END;
