-- Sheppy on PostgreSQL, version 5: concurrency keys and queue caps.
--
-- A task with a concurrency key (ckey, with its limit climit) takes one of
-- the key's slots while it is claimable (state 0) or claimed (2). When it
-- would become claimable and the key has no free slot — or tasks are held
-- before it — it is held instead: state 4, a pending task that claims do
-- not see, in line by its seq. Triggers keep this whatever statement moves
-- a row, so adds inside the application's own transaction, settles,
-- promotions and cancels all obey it:
-- - before a row is written claimable from anywhere but claimable or held,
--   it is written held instead;
-- - after a statement, every key that gained a held row or lost a slot
--   (a claimable or claimed row finished, waited for a time, was held
--   again) admits its held rows, oldest first, while slots are free, and
--   the work channel is notified. An admitted row keeps its seq: its place
--   in the claim order is where it would have been, had it not waited.
-- Admitting takes a transaction-scoped advisory lock per key, keys in
-- sorted order within a statement, so two transactions never admit past a
-- key's limit between them.

ALTER TABLE %SCHEMA%.tasks ADD COLUMN ckey text, ADD COLUMN climit integer;
ALTER TABLE %SCHEMA%.tasks DROP CONSTRAINT tasks_state_check;
ALTER TABLE %SCHEMA%.tasks ADD CONSTRAINT tasks_state_check CHECK (state BETWEEN 0 AND 4);
-- A key's rows by state: its taken slots (0, 2) are counted, its held rows (4) walked in line order.
CREATE INDEX tasks_keyed ON %SCHEMA%.tasks (queue, ckey, state, seq) WHERE ckey IS NOT NULL;

-- A queue listed here has its claims capped: at most `cap` claimed at once.
CREATE TABLE %SCHEMA%.queue_caps (
  queue text PRIMARY KEY,
  cap   integer NOT NULL CHECK (cap >= 1)
);

-- The work channel of the schema `sch`, as the session names it (schema-name.ts).
CREATE FUNCTION %SCHEMA%.work_channel(sch text) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT left(sch, 32) || '_' || left(encode(sha256(convert_to(sch, 'UTF8')), 'hex'), 10) || '_work' $$;

-- Admits the held rows of key `k` in queue `q`, oldest first, while slots are free.
CREATE FUNCTION %SCHEMA%.admit_held(q text, k text, sch text) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  taken integer;
  next_row record;
  admitted boolean := false;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(length(q)::text || ':' || q || k, 5));
  SELECT count(*) INTO taken FROM %SCHEMA%.tasks
    WHERE queue = q AND ckey = k AND state IN (0, 2);
  LOOP
    SELECT id, climit INTO next_row FROM %SCHEMA%.tasks
      WHERE queue = q AND ckey = k AND state = 4
      ORDER BY seq, id LIMIT 1;
    EXIT WHEN NOT FOUND OR taken >= coalesce(next_row.climit, 1);
    UPDATE %SCHEMA%.tasks SET state = 0 WHERE queue = q AND id = next_row.id;
    taken := taken + 1;
    admitted := true;
  END LOOP;
  IF admitted THEN
    PERFORM pg_notify(%SCHEMA%.work_channel(sch), q);
  END IF;
END
$$;

-- Before a keyed row is written claimable from elsewhere: it is held instead.
CREATE FUNCTION %SCHEMA%.hold_keyed() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  NEW.state := 4;
  RETURN NEW;
END
$$;

CREATE TRIGGER tasks_hold_inserted BEFORE INSERT ON %SCHEMA%.tasks
  FOR EACH ROW WHEN (NEW.ckey IS NOT NULL AND NEW.state = 0)
  EXECUTE FUNCTION %SCHEMA%.hold_keyed();
CREATE TRIGGER tasks_hold_updated BEFORE UPDATE ON %SCHEMA%.tasks
  FOR EACH ROW WHEN (NEW.ckey IS NOT NULL AND NEW.state = 0 AND OLD.state IN (1, 2, 3))
  EXECUTE FUNCTION %SCHEMA%.hold_keyed();

-- After inserts: keys that gained held rows admit them.
CREATE FUNCTION %SCHEMA%.admit_inserted() RETURNS trigger
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
    PERFORM %SCHEMA%.admit_held(pair.queue, pair.ckey, TG_TABLE_SCHEMA);
  END LOOP;
  RETURN NULL;
END
$$;

-- After updates: keys that gained held rows, or lost a taken slot, admit their held rows.
CREATE FUNCTION %SCHEMA%.admit_updated() RETURNS trigger
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
    WHERE n.state = 4 AND o.state <> 4
    UNION
    SELECT o.queue, o.ckey FROM before_rows o JOIN after_rows n ON n.queue = o.queue AND n.id = o.id
    WHERE o.ckey IS NOT NULL AND o.state IN (0, 2) AND n.state NOT IN (0, 2)
    ORDER BY 1, 2
  LOOP
    PERFORM %SCHEMA%.admit_held(pair.queue, pair.ckey, TG_TABLE_SCHEMA);
  END LOOP;
  RETURN NULL;
END
$$;

CREATE TRIGGER tasks_admit_inserted AFTER INSERT ON %SCHEMA%.tasks
  REFERENCING NEW TABLE AS inserted_rows
  FOR EACH STATEMENT EXECUTE FUNCTION %SCHEMA%.admit_inserted();
CREATE TRIGGER tasks_admit_updated AFTER UPDATE ON %SCHEMA%.tasks
  REFERENCING OLD TABLE AS before_rows NEW TABLE AS after_rows
  FOR EACH STATEMENT EXECUTE FUNCTION %SCHEMA%.admit_updated();
