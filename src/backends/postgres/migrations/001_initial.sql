-- Sheppy on PostgreSQL, version 1: every table of one schema (%SCHEMA% is
-- replaced by the quoted schema name). Applied by src/backends/postgres/
-- migrations.ts inside one transaction holding an advisory lock, which also
-- records it in %SCHEMA%.migrations.
--
-- Conventions
-- - Instants are epoch milliseconds (bigint); the lease clock is the
--   server's (now_ms()), everything else is the caller's clock, as on Redis.
-- - A record is kept as the exact JSON text Sheppy encoded (text, not jsonb:
--   no re-parse on write, and it reads back byte for byte). The few fields
--   that change without the JSON being rewritten — status, startedAt of a
--   claim, finishedAt of a cancel — live in columns beside it and win over
--   the JSON when read (see record-codec.ts beside migrations/).
-- - Every row belongs to a queue; queues are independent namespaces, and
--   every index starts with the queue.

-- Server time in ms: leases are judged on one clock, whatever the workers' clocks say.
CREATE FUNCTION %SCHEMA%.now_ms() RETURNS bigint
  LANGUAGE sql VOLATILE PARALLEL SAFE
  AS $$ SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

-- FIFO claim order: a claimable task's place is the number it took from here
-- when it became claimable (added, promoted, retried now, chained).
CREATE SEQUENCE %SCHEMA%.task_seq AS bigint;

CREATE TABLE %SCHEMA%.tasks (
  queue         text     NOT NULL,
  id            text     NOT NULL,
  -- The record JSON, exactly as encoded.
  data          text     NOT NULL,
  -- The record's status as readers see it (wins over the JSON's).
  status        text     NOT NULL,
  -- Where the record is in its life: 0 claimable, 1 due (waits for due_at),
  -- 2 claimed (a worker holds it), 3 finished.
  state         smallint NOT NULL CHECK (state BETWEEN 0 AND 3),
  -- Place in the FIFO while claimable.
  seq           bigint,
  -- The time a due record waits for.
  due_at        bigint,
  -- The record's createdAt (0 when it is not a real instant), for listTasks.
  created_at    bigint   NOT NULL,
  -- startedAt of the claim held now; finishedAt of a cancel (override the JSON's).
  started_at    text,
  finished_at   text,
  -- Fence of the task's latest claim, and of its last settled one (0: none):
  -- a settle is written only while its fence is the claim held now.
  fence         bigint   NOT NULL DEFAULT 0,
  settled_fence bigint   NOT NULL DEFAULT 0,
  -- Server ms of the claim's last renewal.
  lease_at      bigint,
  -- An expired claim a reclaim noted: the renewal it saw, and when (server
  -- ms); taken over by a later reclaim once confirmMs have passed unrenewed.
  suspect_lease bigint,
  suspect_at    bigint,
  -- When a finished record expires; readers never return an expired record.
  expires_at    bigint,
  -- Token of the call that last added or cancelled it: a resend after a
  -- lost reply recognises its own write.
  req           text,
  PRIMARY KEY (queue, id)
) WITH (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);

-- Claim: the queue's claimable rows in FIFO order.
CREATE INDEX tasks_claimable ON %SCHEMA%.tasks (queue, seq) WHERE state = 0;
-- promoteDue and getScheduled: due rows, earliest first.
CREATE INDEX tasks_due ON %SCHEMA%.tasks (queue, due_at, id) WHERE state = 1;
-- reclaimExpired: claims by their last renewal.
CREATE INDEX tasks_claimed ON %SCHEMA%.tasks (queue, lease_at) WHERE state = 2;
-- pruneExpired and the maxFinished bound: finished rows by expiry.
CREATE INDEX tasks_expiring ON %SCHEMA%.tasks (queue, expires_at) WHERE expires_at IS NOT NULL;
-- listTasks walks this backwards: newest first, ties by id in code point
-- (UTF-8 byte) order, which only the "C" collation gives whatever the database's.
CREATE INDEX tasks_created ON %SCHEMA%.tasks (queue, created_at, id COLLATE "C");

-- How many rows of each queue have an expiry: the maxFinished bound needs
-- the count on every settle, and counting the index each time would cost
-- O(maxFinished). Triggers keep it; each connection adds to its own slot
-- (backend pid mod 64), so concurrent settles do not queue on one row.
CREATE TABLE %SCHEMA%.expiring (
  queue text     NOT NULL,
  slot  smallint NOT NULL,
  n     bigint   NOT NULL,
  PRIMARY KEY (queue, slot)
);

CREATE FUNCTION %SCHEMA%.count_expiring_row() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  delta integer;
BEGIN
  IF TG_OP = 'INSERT' THEN
    delta := 1;
  ELSE
    delta := (NEW.expires_at IS NOT NULL)::integer - (OLD.expires_at IS NOT NULL)::integer;
  END IF;
  INSERT INTO %SCHEMA%.expiring AS e (queue, slot, n)
    VALUES (NEW.queue, pg_backend_pid() % 64, delta)
    ON CONFLICT (queue, slot) DO UPDATE SET n = e.n + EXCLUDED.n;
  RETURN NULL;
END
$$;

-- Deletes come in bulk (prune, clear, the bound): counted once per statement.
CREATE FUNCTION %SCHEMA%.count_expiring_deleted() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO %SCHEMA%.expiring AS e (queue, slot, n)
    SELECT queue, pg_backend_pid() % 64, -count(*) FROM gone
    WHERE expires_at IS NOT NULL GROUP BY queue
    ON CONFLICT (queue, slot) DO UPDATE SET n = e.n + EXCLUDED.n;
  RETURN NULL;
END
$$;

CREATE TRIGGER tasks_expiring_insert AFTER INSERT ON %SCHEMA%.tasks
  FOR EACH ROW WHEN (NEW.expires_at IS NOT NULL)
  EXECUTE FUNCTION %SCHEMA%.count_expiring_row();
CREATE TRIGGER tasks_expiring_update AFTER UPDATE OF expires_at ON %SCHEMA%.tasks
  FOR EACH ROW WHEN ((OLD.expires_at IS NULL) <> (NEW.expires_at IS NULL))
  EXECUTE FUNCTION %SCHEMA%.count_expiring_row();
CREATE TRIGGER tasks_expiring_delete AFTER DELETE ON %SCHEMA%.tasks
  REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION %SCHEMA%.count_expiring_deleted();

-- Workflows: the record JSON with its status, finish time and the steps it
-- waits for beside it (they win over the JSON's), and its step count (a
-- resume's write applies only to the step count it replayed). A settle
-- locks the row, so exactly one settle sees the last waited-for step end.
CREATE TABLE %SCHEMA%.workflows (
  queue       text     NOT NULL,
  id          text     NOT NULL,
  data        text     NOT NULL,
  status      text     NOT NULL,
  finished_at text,
  -- Task ids of the steps it waits for, in the record's order.
  pending     text[]   NOT NULL DEFAULT '{}',
  step_count  integer  NOT NULL,
  expires_at  bigint,
  -- Insertion order: listWorkflows pages resume after the last one seen.
  seq         bigint   GENERATED BY DEFAULT AS IDENTITY,
  req         text,
  PRIMARY KEY (queue, id)
);
CREATE INDEX workflows_listing ON %SCHEMA%.workflows (queue, seq);
CREATE INDEX workflows_expiring ON %SCHEMA%.workflows (queue, expires_at)
  WHERE expires_at IS NOT NULL;

-- The finished record of each step that ended, kept with its workflow
-- (replays read it there, so the step's own record may expire).
CREATE TABLE %SCHEMA%.workflow_outcomes (
  queue       text NOT NULL,
  workflow_id text NOT NULL,
  task_id     text NOT NULL,
  data        text NOT NULL,
  PRIMARY KEY (queue, workflow_id, task_id),
  FOREIGN KEY (queue, workflow_id) REFERENCES %SCHEMA%.workflows (queue, id) ON DELETE CASCADE
);

-- Crons by deterministic id; the definition is opaque JSON.
CREATE TABLE %SCHEMA%.crons (
  queue text NOT NULL,
  id    text NOT NULL,
  data  text NOT NULL,
  PRIMARY KEY (queue, id)
);

-- Rate-limit windows: the state of backends/rate-window.ts as JSON, changed
-- under the row's lock; kept_until (caller ms) says when an idle one may go.
CREATE TABLE %SCHEMA%.rate_limits (
  queue      text   NOT NULL,
  key        text   NOT NULL,
  state      text   NOT NULL,
  kept_until bigint NOT NULL,
  PRIMARY KEY (queue, key)
);
