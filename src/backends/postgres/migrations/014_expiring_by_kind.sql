-- Sheppy on PostgreSQL, version 14: the maxFinished bound counts and trims
-- completed records and the other finished ones (failed, crashed,
-- cancelled) each on its own.
--
-- One count over both let failures, kept 7 days by default against 12 hours
-- for results, fill the whole bound: from then on every completed record was
-- the one due to expire soonest and was deleted by the settle that stored it,
-- so no result could be read. The `expiring` counts now carry the kind of
-- record (`errors`), every trigger keeps them by kind, and the failures have
-- an expiry index of their own, so trimming them never walks past the
-- results.

-- No settle may count or trim while the counts are rebuilt.
LOCK TABLE %SCHEMA%.tasks IN SHARE ROW EXCLUSIVE MODE;

ALTER TABLE %SCHEMA%.expiring ADD COLUMN errors boolean NOT NULL DEFAULT false;
ALTER TABLE %SCHEMA%.expiring DROP CONSTRAINT expiring_pkey;
ALTER TABLE %SCHEMA%.expiring ADD PRIMARY KEY (queue, errors, slot);
DELETE FROM %SCHEMA%.expiring;
INSERT INTO %SCHEMA%.expiring (queue, slot, errors, n)
  SELECT queue, 0, status <> 'completed', count(*) FROM %SCHEMA%.tasks
  WHERE expires_at IS NOT NULL
  GROUP BY queue, status <> 'completed';

CREATE INDEX tasks_expiring_errors ON %SCHEMA%.tasks (queue, expires_at)
  WHERE expires_at IS NOT NULL AND status <> 'completed';

CREATE OR REPLACE FUNCTION %SCHEMA%.count_expiring_row() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO %SCHEMA%.expiring AS e (queue, slot, errors, n)
    VALUES (NEW.queue, pg_backend_pid() % 64, NEW.status <> 'completed', 1)
    ON CONFLICT (queue, errors, slot) DO UPDATE SET n = e.n + EXCLUDED.n;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION %SCHEMA%.count_expiring_deleted() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO %SCHEMA%.expiring AS e (queue, slot, errors, n)
    SELECT queue, pg_backend_pid() % 64, status <> 'completed', -count(*) FROM gone
    WHERE expires_at IS NOT NULL GROUP BY queue, status <> 'completed'
    ON CONFLICT (queue, errors, slot) DO UPDATE SET n = e.n + EXCLUDED.n;
  RETURN NULL;
END
$$;

-- A row keeps its place in the counts while its expiry and its kind stay; a
-- status change of a row with an expiry moves it from one kind to the other.
CREATE OR REPLACE FUNCTION %SCHEMA%.count_expiring_updated() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO %SCHEMA%.expiring AS e (queue, slot, errors, n)
    SELECT queue, pg_backend_pid() % 64, errors, sum(delta) FROM (
      SELECT queue, status <> 'completed' AS errors, 1 AS delta
      FROM after_rows WHERE expires_at IS NOT NULL
      UNION ALL
      SELECT queue, status <> 'completed', -1 FROM before_rows WHERE expires_at IS NOT NULL
    ) d
    GROUP BY queue, errors
    HAVING sum(delta) <> 0
    ON CONFLICT (queue, errors, slot) DO UPDATE SET n = e.n + EXCLUDED.n;
  RETURN NULL;
END
$$;
