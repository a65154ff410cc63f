-- Sheppy on PostgreSQL, version 7: each queue's lifecycle event log. Ids
-- come from one sequence; append_events takes the queue's event lock before
-- it draws them and holds it to commit, so within a queue ids grow in commit
-- order and a reader resuming after an id never misses one committed later.
-- It runs its statements after the lock with fresh snapshots (a volatile
-- function under READ COMMITTED), so the trim sees every row appended before
-- and the queue holds at most `cap` rows at any commit.
CREATE TABLE %SCHEMA%.events (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  body text NOT NULL
);
CREATE INDEX events_queue_id ON %SCHEMA%.events (queue, id);

CREATE FUNCTION %SCHEMA%.append_events(q text, bodies text[], cap integer, channel text)
RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n integer := coalesce(array_length(bodies, 1), 0);
  oldest bigint;
BEGIN
  IF n = 0 OR cap <= 0 THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('sheppy-events:%SCHEMA%:' || q, 0));
  -- Bodies the trim would drop at once are never written.
  INSERT INTO %SCHEMA%.events (queue, body)
  SELECT q, b FROM unnest(bodies[greatest(n - cap + 1, 1):n]) WITH ORDINALITY AS e(b, i)
  ORDER BY i;
  SELECT id INTO oldest FROM %SCHEMA%.events WHERE queue = q ORDER BY id DESC OFFSET cap LIMIT 1;
  IF oldest IS NOT NULL THEN
    DELETE FROM %SCHEMA%.events WHERE queue = q AND id <= oldest;
  END IF;
  PERFORM pg_notify(channel, q);
  RETURN least(n, cap);
END
$$;
