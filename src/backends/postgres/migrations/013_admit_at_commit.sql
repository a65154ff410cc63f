-- Sheppy on PostgreSQL, version 13: keyed adds within an application's
-- READ COMMITTED transaction admit their keys' held rows at its commit, not
-- at the add.
--
-- Admitting takes the key's advisory lock (migration 005), held to the end
-- of the transaction. An add within the application's transaction used to
-- admit at once, so that transaction held the key's lock for as long as it
-- stayed open, and then took the queue's event lock at its commit (its
-- events' flush, migration 007). Sheppy's own statements take the two the
-- other way round: the event lock inside the statement, the key's lock in
-- the admit trigger at its end. So a settle or add of the same key, made
-- while that transaction was open, waited for the key holding the event
-- lock — stalling every append of the queue — and the application's COMMIT
-- then lost a deadlock against it.
--
-- Now such an add stages its keys here instead (the add statement writes a
-- row with no key first, which tells the admit triggers to stage rather
-- than admit), and a deferred trigger admits them at the commit, after the
-- commit's events are appended: the event lock first, then the keys in
-- order, as every other statement takes them. While the transaction is
-- open it holds neither lock, and its tasks wait held, as they would for a
-- free slot, which nobody else sees before the commit anyway.
CREATE TABLE %SCHEMA%.admits_pending (
  queue text NOT NULL,
  -- NULL: the marker an add within an application's transaction writes.
  ckey  text
);

-- The committing transaction's pending events of queue `q`, moved into the
-- log (the event lock taken only when there are some). Other transactions'
-- pending rows are not visible here, except those a REPEATABLE READ or
-- SERIALIZABLE commit left behind, which go first.
CREATE FUNCTION %SCHEMA%.move_pending_events(q text) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  v_bodies text[];
  v_cap integer;
  v_channel text;
BEGIN
  WITH moved AS (
    DELETE FROM %SCHEMA%.events_pending p WHERE p.queue = q
    RETURNING p.seq, p.body, p.cap, p.channel
  )
  SELECT array_agg(moved.body ORDER BY moved.seq), max(moved.cap), max(moved.channel)
  INTO v_bodies, v_cap, v_channel
  FROM moved;
  IF v_bodies IS NOT NULL THEN
    PERFORM %SCHEMA%.append_events(q, v_bodies, v_cap, v_channel);
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION %SCHEMA%.flush_pending_events()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('transaction_isolation') = 'read committed' THEN
    PERFORM %SCHEMA%.move_pending_events(NEW.queue);
  END IF;
  RETURN NULL;
END
$$;

-- Admits the keys the committing transaction staged for queue `q`, in order.
CREATE FUNCTION %SCHEMA%.admit_staged(q text, sch text) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  pair record;
BEGIN
  FOR pair IN
    WITH staged AS (
      DELETE FROM %SCHEMA%.admits_pending a WHERE a.queue = q RETURNING a.ckey
    )
    SELECT DISTINCT ckey FROM staged WHERE ckey IS NOT NULL ORDER BY 1
  LOOP
    PERFORM %SCHEMA%.admit_held(q, pair.ckey, sch);
  END LOOP;
END
$$;

-- At the commit: the queue's pending events first (under READ COMMITTED; the
-- event lock), then the staged keys. Whichever of this and the events'
-- flush fires first does the work; the other finds nothing left.
CREATE FUNCTION %SCHEMA%.admit_at_commit() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('transaction_isolation') = 'read committed' THEN
    PERFORM %SCHEMA%.move_pending_events(NEW.queue);
  END IF;
  PERFORM %SCHEMA%.admit_staged(NEW.queue, TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER admits_pending_at_commit
AFTER INSERT ON %SCHEMA%.admits_pending
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION %SCHEMA%.admit_at_commit();

-- Whether the current transaction defers admitting keys of queue `q` to its commit.
CREATE FUNCTION %SCHEMA%.admits_deferred(q text) RETURNS boolean
  LANGUAGE sql STABLE AS $$
  SELECT EXISTS (SELECT 1 FROM %SCHEMA%.admits_pending a WHERE a.queue = q AND a.ckey IS NULL)
$$;

-- Admits a key's held rows now, or stages the key for the commit (see
-- above). Only under READ COMMITTED: under REPEATABLE READ or SERIALIZABLE
-- the commit's admission would count the key's slots as the transaction's
-- snapshot saw them, missing every slot freed since — its tasks could stay
-- held for good. There the add admits at once, as before, and holds the
-- key's lock to the commit; the commit takes no event lock at that level
-- (migration 011), so it cannot deadlock, but a statement of Sheppy's on
-- the same key waits for it, holding the queue's event lock meanwhile.
CREATE FUNCTION %SCHEMA%.admit_or_stage(q text, k text, sch text) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('transaction_isolation') = 'read committed' AND %SCHEMA%.admits_deferred(q) THEN
    INSERT INTO %SCHEMA%.admits_pending (queue, ckey) VALUES (q, k);
  ELSE
    PERFORM %SCHEMA%.admit_held(q, k, sch);
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION %SCHEMA%.admit_inserted() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  pair record;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM inserted_rows WHERE state = 4) THEN
    RETURN NULL;
  END IF;
  FOR pair IN
    SELECT DISTINCT queue, ckey FROM inserted_rows WHERE state = 4 ORDER BY queue, ckey
  LOOP
    PERFORM %SCHEMA%.admit_or_stage(pair.queue, pair.ckey, TG_TABLE_SCHEMA);
  END LOOP;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION %SCHEMA%.admit_updated() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  pair record;
BEGIN
  -- Most statements (claims, renewals, plain settles) touch no keyed row: a scan, no join.
  IF NOT EXISTS (SELECT 1 FROM after_rows WHERE ckey IS NOT NULL)
     AND NOT EXISTS (SELECT 1 FROM before_rows WHERE ckey IS NOT NULL) THEN
    RETURN NULL;
  END IF;
  FOR pair IN
    SELECT n.queue, n.ckey FROM before_rows o JOIN after_rows n ON n.queue = o.queue AND n.id = o.id
    WHERE n.state = 4 AND (o.state <> 4 OR o.ckey IS DISTINCT FROM n.ckey)
    UNION
    SELECT o.queue, o.ckey FROM before_rows o JOIN after_rows n ON n.queue = o.queue AND n.id = o.id
    WHERE o.ckey IS NOT NULL AND o.state IN (0, 2) AND n.state NOT IN (0, 2)
    ORDER BY 1, 2
  LOOP
    PERFORM %SCHEMA%.admit_or_stage(pair.queue, pair.ckey, TG_TABLE_SCHEMA);
  END LOOP;
  RETURN NULL;
END
$$;
