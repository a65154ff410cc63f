-- Sheppy on PostgreSQL, version 7: each queue's lifecycle event log. Ids
-- come from one sequence; append_events takes the queue's event lock before
-- it draws them and holds it to commit, so within a queue ids grow in commit
-- order and a reader resuming after an id never misses one committed later.
-- It runs its statements after the lock with fresh snapshots (a volatile
-- function under READ COMMITTED), so it sees every row appended before.
-- One index, the key: it serves reads (`queue = $1 AND id > $2 ORDER BY id`)
-- and the trim.
CREATE TABLE %SCHEMA%.events (
  queue text NOT NULL,
  id bigserial,
  body text NOT NULL,
  PRIMARY KEY (queue, id)
);

-- Per queue, kept exact under the queue's event lock: `n` rows in its log,
-- none below id `low`. The trim deletes just the excess, found from `low` up
-- (so neither it nor a read from the start walks the index entries of rows
-- deleted but not vacuumed yet), instead of walking `cap` entries back from
-- the newest on every append.
CREATE TABLE %SCHEMA%.event_counts (
  queue text PRIMARY KEY,
  n bigint NOT NULL,
  low bigint NOT NULL DEFAULT 0
);

CREATE FUNCTION %SCHEMA%.append_events(q text, bodies text[], cap integer, channel text)
RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n integer := coalesce(array_length(bodies, 1), 0);
  kept integer;
  total bigint;
  floor bigint;
  top bigint;
BEGIN
  IF n = 0 OR cap <= 0 THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('sheppy-events:%SCHEMA%:' || q, 0));
  -- Bodies the trim would drop at once are never written. One statement
  -- writes the rows, counts them and notifies (each statement of a
  -- function costs an executor start: an add pays for every one).
  kept := least(n, cap);
  WITH written AS (
    INSERT INTO %SCHEMA%.events (queue, body)
    SELECT q, b FROM unnest(bodies[n - kept + 1:n]) WITH ORDINALITY AS e(b, i)
    ORDER BY i
    RETURNING 1
  ), counted AS (
    UPDATE %SCHEMA%.event_counts SET n = event_counts.n + (SELECT count(*) FROM written)
    WHERE queue = q
    RETURNING event_counts.n, event_counts.low
  )
  SELECT counted.n, counted.low INTO total, floor
  FROM counted, (SELECT pg_notify(channel, q)) AS notified;
  IF NOT FOUND THEN
    -- The queue's first append (or first since a clear).
    INSERT INTO %SCHEMA%.event_counts (queue, n) VALUES (q, kept);
    PERFORM pg_notify(channel, q);
    total := kept;
  END IF;
  IF total > cap THEN
    WITH doomed AS (
      SELECT id FROM %SCHEMA%.events WHERE queue = q AND id >= floor ORDER BY id LIMIT total - cap
    ), gone AS (
      DELETE FROM %SCHEMA%.events e USING doomed WHERE e.queue = q AND e.id = doomed.id RETURNING e.id
    )
    SELECT max(id) INTO top FROM gone;
    UPDATE %SCHEMA%.event_counts SET n = cap, low = top + 1 WHERE queue = q;
  END IF;
  RETURN kept;
END
$$;

-- Drops a queue's log under its event lock, so no append in flight is left
-- uncounted.
CREATE FUNCTION %SCHEMA%.clear_events(q text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  gone bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('sheppy-events:%SCHEMA%:' || q, 0));
  DELETE FROM %SCHEMA%.events WHERE queue = q;
  GET DIAGNOSTICS gone = ROW_COUNT;
  DELETE FROM %SCHEMA%.event_counts WHERE queue = q;
  RETURN gone;
END
$$;

-- Events of adds made within an application's transaction wait here, in
-- order, until it commits: a deferred trigger then appends them (taking the
-- queue's event lock only for the commit, however long the application
-- keeps its transaction open). A rollback drops them with the add.
CREATE TABLE %SCHEMA%.events_pending (
  seq bigserial PRIMARY KEY,
  queue text NOT NULL,
  body text NOT NULL,
  cap integer NOT NULL,
  channel text NOT NULL
);

-- Moves the committing transaction's pending events of the row's queue into
-- the log; the first row of a queue to fire moves them all, the rest find
-- none. Other transactions' pending rows are not visible to it.
CREATE FUNCTION %SCHEMA%.flush_pending_events()
RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_bodies text[];
  v_cap integer;
  v_channel text;
BEGIN
  WITH moved AS (
    DELETE FROM %SCHEMA%.events_pending p WHERE p.queue = NEW.queue
    RETURNING p.seq, p.body, p.cap, p.channel
  )
  SELECT array_agg(moved.body ORDER BY moved.seq), max(moved.cap), max(moved.channel)
  INTO v_bodies, v_cap, v_channel
  FROM moved;
  IF v_bodies IS NOT NULL THEN
    PERFORM %SCHEMA%.append_events(NEW.queue, v_bodies, v_cap, v_channel);
  END IF;
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER events_pending_flush
AFTER INSERT ON %SCHEMA%.events_pending
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION %SCHEMA%.flush_pending_events();
