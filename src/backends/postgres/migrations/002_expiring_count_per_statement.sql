-- Sheppy on PostgreSQL, version 2: the expiring count of updated rows is
-- kept once per statement instead of once per row.
--
-- Version 1 counted an update that gave a row an expiry (or took it away)
-- with a row trigger: a settle of 100 finished tasks ran the trigger's
-- upsert of the queue's `expiring` slot 100 times, about a third of the
-- settle's server time. Here one statement trigger compares the rows with
-- an expiry before and after the statement (its transition tables) and
-- adds the difference per queue in one upsert. It runs for every update of
-- `tasks` (a trigger with transition tables cannot name columns), so a
-- claim or a renewal pays one call that finds no difference.

CREATE FUNCTION %SCHEMA%.count_expiring_updated() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO %SCHEMA%.expiring AS e (queue, slot, n)
    SELECT queue, pg_backend_pid() % 64, sum(delta) FROM (
      SELECT queue, 1 AS delta FROM after_rows WHERE expires_at IS NOT NULL
      UNION ALL
      SELECT queue, -1 FROM before_rows WHERE expires_at IS NOT NULL
    ) d
    GROUP BY queue
    HAVING sum(delta) <> 0
    ON CONFLICT (queue, slot) DO UPDATE SET n = e.n + EXCLUDED.n;
  RETURN NULL;
END
$$;

DROP TRIGGER tasks_expiring_update ON %SCHEMA%.tasks;
CREATE TRIGGER tasks_expiring_update AFTER UPDATE ON %SCHEMA%.tasks
  REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
  FOR EACH STATEMENT EXECUTE FUNCTION %SCHEMA%.count_expiring_updated();
