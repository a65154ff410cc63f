-- Sheppy on PostgreSQL, version 11: adds within an application's
-- REPEATABLE READ or SERIALIZABLE transaction. Their events wait in
-- events_pending for the commit, and the deferred trigger then appended them,
-- which updates the queue's event count: when another append had committed
-- since the transaction's snapshot, PostgreSQL refused that update, and with
-- it the application's COMMIT. Under those levels the trigger now leaves the
-- events where they are (committed with the transaction), and the queue's
-- next append moves them into the log ahead of its own bodies, under the
-- queue's event lock. Under READ COMMITTED (the default) the commit still
-- appends them at once.
CREATE INDEX events_pending_queue ON %SCHEMA%.events_pending (queue, seq);

CREATE OR REPLACE FUNCTION %SCHEMA%.flush_pending_events()
RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_bodies text[];
  v_cap integer;
  v_channel text;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RETURN NULL;
  END IF;
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

CREATE OR REPLACE FUNCTION %SCHEMA%.append_events(q text, bodies text[], cap integer, channel text)
RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  n integer := coalesce(array_length(bodies, 1), 0);
  kept integer;
  total bigint;
  floor bigint;
  newest bigint;
  excess bigint;
  start bigint;
  left_behind text[];
BEGIN
  IF n = 0 OR cap <= 0 THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('sheppy-events:%SCHEMA%:' || q, 0));
  -- Events a REPEATABLE READ or SERIALIZABLE transaction's commit left behind come first.
  IF EXISTS (SELECT 1 FROM %SCHEMA%.events_pending p WHERE p.queue = q) THEN
    WITH moved AS (
      DELETE FROM %SCHEMA%.events_pending p WHERE p.queue = q RETURNING p.seq, p.body
    )
    SELECT array_agg(moved.body ORDER BY moved.seq) INTO left_behind FROM moved;
    IF left_behind IS NOT NULL THEN
      bodies := left_behind || bodies;
      n := array_length(bodies, 1);
    END IF;
  END IF;
  -- Bodies the trim would drop at once are never written.
  kept := least(n, cap);
  -- Used only by a queue's first append; drawn every time, as one statement is cheaper than two.
  start := nextval('%SCHEMA%.event_ids');
  INSERT INTO %SCHEMA%.event_counts AS c (queue, n, low, top) VALUES (q, kept, start, start + kept - 1)
  ON CONFLICT (queue) DO UPDATE SET n = c.n + kept, top = c.top + kept
  RETURNING c.n, c.low, c.top INTO total, floor, newest;
  INSERT INTO %SCHEMA%.event_batches (queue, last_id, first_id, bodies)
  VALUES (q, newest, newest - kept + 1, bodies[n - kept + 1:n]);
  PERFORM pg_notify(channel, q);
  IF total > cap THEN
    -- The oldest `excess` visible ids go: walking rows from the floor, the row
    -- where the running count of visible ids reaches `excess` holds the new floor.
    excess := total - cap;
    SELECT r.last_id + 1 - (r.upto - excess) INTO floor
    FROM (
      SELECT b.last_id, sum(b.last_id - greatest(b.first_id, floor) + 1) OVER (ORDER BY b.last_id) AS upto
      FROM %SCHEMA%.event_batches b
      WHERE b.queue = q AND b.last_id >= floor
      ORDER BY b.last_id
    ) r
    WHERE r.upto >= excess
    ORDER BY r.last_id
    LIMIT 1;
    DELETE FROM %SCHEMA%.event_batches WHERE queue = q AND last_id < floor;
    UPDATE %SCHEMA%.event_counts SET n = cap, low = floor WHERE queue = q;
  END IF;
  RETURN kept;
END
$$;

-- A clear also drops the events such a commit left behind: they are older
-- than the clear. (Those of transactions still open are not visible here;
-- they enter the log after it, as they commit after it.)
CREATE OR REPLACE FUNCTION %SCHEMA%.clear_events(q text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  gone bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('sheppy-events:%SCHEMA%:' || q, 0));
  SELECT c.n INTO gone FROM %SCHEMA%.event_counts c WHERE c.queue = q;
  DELETE FROM %SCHEMA%.event_batches WHERE queue = q;
  DELETE FROM %SCHEMA%.events_pending WHERE queue = q;
  UPDATE %SCHEMA%.event_counts SET low = top + 1, n = 0 WHERE queue = q;
  RETURN coalesce(gone, 0);
END
$$;
