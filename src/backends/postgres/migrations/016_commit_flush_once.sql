-- Sheppy on PostgreSQL, version 16: a commit moves an application
-- transaction's pending events (and admits its staged keys) once, not once
-- per row it staged.
--
-- The deferred triggers of migrations 007 and 013 fire once per row staged:
-- one `events_pending` row per task added within the transaction, one
-- `admits_pending` marker per add call. The first firing of a queue moved
-- all of its rows; each later one still looked for the queue's rows — and
-- in a table whose index holds every row this transaction just deleted,
-- each look walked past all of them. A transaction that added 8,000 tasks
-- took seconds to commit, holding the queue's event lock all along, so the
-- queue's other adds and settles waited. A firing now first asks whether its
-- own row is still there, by its key: when an earlier firing moved it, there
-- is nothing left for this one to do.

ALTER TABLE %SCHEMA%.admits_pending ADD COLUMN seq bigserial PRIMARY KEY;

CREATE OR REPLACE FUNCTION %SCHEMA%.flush_pending_events()
RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('transaction_isolation') = 'read committed'
     AND EXISTS (SELECT 1 FROM %SCHEMA%.events_pending p WHERE p.seq = NEW.seq) THEN
    PERFORM %SCHEMA%.move_pending_events(NEW.queue);
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION %SCHEMA%.admit_at_commit() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM %SCHEMA%.admits_pending a WHERE a.seq = NEW.seq) THEN
    RETURN NULL;
  END IF;
  IF current_setting('transaction_isolation') = 'read committed' THEN
    PERFORM %SCHEMA%.move_pending_events(NEW.queue);
  END IF;
  PERFORM %SCHEMA%.admit_staged(NEW.queue, TG_TABLE_SCHEMA);
  RETURN NULL;
END
$$;
