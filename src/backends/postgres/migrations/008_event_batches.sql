-- Sheppy on PostgreSQL, version 8: each append to a queue's event log is
-- one row holding all its bodies, not one row per body. A worker's settle of
-- a hundred tasks appends two hundred events; as rows, each was an insert
-- with an index entry and, once the log was at its cap, a delete, which
-- together cost the database about as much as the settle itself.
--
-- Ids stay one per event. A queue's ids are now its own count (`top` in
-- event_counts), drawn under the queue's event lock; a queue's first append
-- starts its count from the schema's sequence, so its ids are above any a
-- reader could hold from before (an earlier version, a clear). A row holds the ids
-- `first_id` to `last_id`, one per body, in order, and rows of a queue never
-- overlap. `low` is the oldest id a reader may see and `n` how many it sees
-- (ids below `low` in the row that straddles it are trimmed, not yet
-- deleted); the cap holds on `n`, as before.
CREATE TABLE %SCHEMA%.event_batches (
  queue text NOT NULL,
  last_id bigint NOT NULL,
  first_id bigint NOT NULL,
  bodies text[] NOT NULL,
  PRIMARY KEY (queue, last_id),
  CHECK (last_id - first_id + 1 = cardinality(bodies))
);

ALTER TABLE %SCHEMA%.event_counts ADD COLUMN top bigint NOT NULL DEFAULT 0;

-- The events written before keep their ids (one row each), so a reader
-- resuming after one of them misses nothing; new ids follow the newest.
INSERT INTO %SCHEMA%.event_batches (queue, last_id, first_id, bodies)
SELECT queue, id, id, ARRAY[body] FROM %SCHEMA%.events;

UPDATE %SCHEMA%.event_counts c
SET top = greatest(c.low - 1, 0, coalesce((SELECT max(e.id) FROM %SCHEMA%.events e WHERE e.queue = c.queue), 0));

ALTER SEQUENCE %SCHEMA%.events_id_seq OWNED BY NONE;
DROP TABLE %SCHEMA%.events;
ALTER SEQUENCE %SCHEMA%.events_id_seq RENAME TO event_ids;

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
BEGIN
  IF n = 0 OR cap <= 0 THEN
    RETURN 0;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('sheppy-events:%SCHEMA%:' || q, 0));
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

-- Ids keep growing across a clear: a reader resuming after an id from before
-- it must not skip the events that come after.
CREATE OR REPLACE FUNCTION %SCHEMA%.clear_events(q text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  gone bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('sheppy-events:%SCHEMA%:' || q, 0));
  SELECT c.n INTO gone FROM %SCHEMA%.event_counts c WHERE c.queue = q;
  DELETE FROM %SCHEMA%.event_batches WHERE queue = q;
  UPDATE %SCHEMA%.event_counts SET low = top + 1, n = 0 WHERE queue = q;
  RETURN coalesce(gone, 0);
END
$$;
