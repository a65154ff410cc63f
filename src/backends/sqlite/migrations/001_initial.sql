-- Sheppy on SQLite, version 1: every table of one database file. Applied by
-- src/backends/sqlite/migrations.ts inside one BEGIN IMMEDIATE transaction
-- (so of several processes opening a new file at once, one applies it and
-- the others find it done), which also records it in the migrations table.
--
-- Conventions
-- - Instants are epoch milliseconds (integers). Leases are stamped with the
--   machine's clock (every process sharing a file shares it); everything
--   else is the caller's clock, as on the other backends.
-- - A record is kept as the exact JSON text Sheppy encoded. The few fields
--   that change without the JSON being rewritten — status, startedAt of a
--   claim, finishedAt of a cancel — live in columns beside it and win over
--   the JSON when read (see backends/sql/stored-columns.ts).
-- - Every row belongs to a queue; queues are independent namespaces, and
--   every index starts with the queue. Text compares byte for byte (SQLite's
--   BINARY collation), which for UTF-8 is code point order.

-- Counters: the FIFO place a claimable task takes ('task_seq') and the
-- insertion order of workflows ('workflow_seq').
CREATE TABLE counters (
  name  TEXT    PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO counters (name, value) VALUES ('task_seq', 0), ('workflow_seq', 0);

CREATE TABLE tasks (
  queue         TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  -- The record JSON, exactly as encoded.
  data          TEXT    NOT NULL,
  -- The record's status as readers see it (wins over the JSON's).
  status        TEXT    NOT NULL,
  -- Where the record is in its life: 0 claimable, 1 due (waits for due_at),
  -- 2 claimed (a worker holds it), 3 finished.
  state         INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),
  -- Place in the FIFO while claimable.
  seq           INTEGER,
  -- The time a due record waits for.
  due_at        INTEGER,
  -- The record's createdAt (0 when it is not a real instant), for listTasks.
  created_at    INTEGER NOT NULL,
  -- startedAt of the claim held now; finishedAt of a cancel (override the JSON's).
  started_at    TEXT,
  finished_at   TEXT,
  -- Fence of the task's latest claim, and of its last settled one (0: none):
  -- a settle is written only while its fence is the claim held now.
  fence         INTEGER NOT NULL DEFAULT 0,
  settled_fence INTEGER NOT NULL DEFAULT 0,
  -- Machine ms of the claim's last renewal.
  lease_at      INTEGER,
  -- An expired claim a reclaim noted: the renewal it saw, and when; taken
  -- over by a later reclaim once confirmMs have passed unrenewed.
  suspect_lease INTEGER,
  suspect_at    INTEGER,
  -- When a finished record expires; readers never return an expired record.
  expires_at    INTEGER,
  PRIMARY KEY (queue, id)
);

-- Claim: the queue's claimable rows in FIFO order.
CREATE INDEX tasks_claimable ON tasks (queue, seq) WHERE state = 0;
-- promoteDue and getScheduled: due rows, earliest first.
CREATE INDEX tasks_due ON tasks (queue, due_at, id) WHERE state = 1;
-- reclaimExpired: claims by their last renewal.
CREATE INDEX tasks_claimed ON tasks (queue, lease_at) WHERE state = 2;
-- pruneExpired and the maxFinished bound: finished rows by expiry.
CREATE INDEX tasks_expiring ON tasks (queue, expires_at) WHERE expires_at IS NOT NULL;
-- listTasks walks this backwards: newest first, ties by id.
CREATE INDEX tasks_created ON tasks (queue, created_at, id);

-- How many rows of each queue have an expiry: the maxFinished bound needs
-- the count on every settle, and counting the index each time would cost
-- O(maxFinished). The triggers below keep it.
CREATE TABLE expiring (
  queue TEXT    PRIMARY KEY,
  n     INTEGER NOT NULL
);

CREATE TRIGGER tasks_expiring_insert AFTER INSERT ON tasks
  WHEN NEW.expires_at IS NOT NULL
BEGIN
  INSERT INTO expiring (queue, n) VALUES (NEW.queue, 1)
    ON CONFLICT (queue) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tasks_expiring_update AFTER UPDATE OF expires_at ON tasks
  WHEN (OLD.expires_at IS NULL) <> (NEW.expires_at IS NULL)
BEGIN
  INSERT INTO expiring (queue, n)
    VALUES (NEW.queue, CASE WHEN NEW.expires_at IS NULL THEN -1 ELSE 1 END)
    ON CONFLICT (queue) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER tasks_expiring_delete AFTER DELETE ON tasks
  WHEN OLD.expires_at IS NOT NULL
BEGIN
  UPDATE expiring SET n = n - 1 WHERE queue = OLD.queue;
END;

-- Per queue, how many times tasks or workflows finished: a process watching
-- for finished tasks of a queue looks again when it changes (other
-- processes' settles cannot call it).
CREATE TABLE finish_marks (
  queue    TEXT    PRIMARY KEY,
  finished INTEGER NOT NULL
);

-- Workflows: the record JSON with its status, finish time and the steps it
-- waits for beside it (they win over the JSON's), and its step count (a
-- resume's write applies only to the step count it replayed).
CREATE TABLE workflows (
  queue       TEXT    NOT NULL,
  id          TEXT    NOT NULL,
  data        TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  finished_at TEXT,
  -- JSON array of the task ids of the steps it waits for, in the record's order.
  pending     TEXT    NOT NULL DEFAULT '[]',
  step_count  INTEGER NOT NULL,
  expires_at  INTEGER,
  -- Insertion order: listWorkflows pages resume after the last one seen.
  seq         INTEGER NOT NULL,
  PRIMARY KEY (queue, id)
);
CREATE INDEX workflows_listing ON workflows (queue, seq);
CREATE INDEX workflows_expiring ON workflows (queue, expires_at) WHERE expires_at IS NOT NULL;

-- The finished record of each step that ended, kept with its workflow
-- (replays read it there, so the step's own record may expire).
CREATE TABLE workflow_outcomes (
  queue       TEXT NOT NULL,
  workflow_id TEXT NOT NULL,
  task_id     TEXT NOT NULL,
  data        TEXT NOT NULL,
  PRIMARY KEY (queue, workflow_id, task_id),
  FOREIGN KEY (queue, workflow_id) REFERENCES workflows (queue, id) ON DELETE CASCADE
);

-- Crons by deterministic id; the definition is opaque JSON.
CREATE TABLE crons (
  queue TEXT NOT NULL,
  id    TEXT NOT NULL,
  data  TEXT NOT NULL,
  PRIMARY KEY (queue, id)
);

-- Rate-limit windows: the state of backends/rate-window.ts as JSON;
-- kept_until (caller ms) says when an idle one may go.
CREATE TABLE rate_limits (
  queue      TEXT    NOT NULL,
  key        TEXT    NOT NULL,
  state      TEXT    NOT NULL,
  kept_until INTEGER NOT NULL,
  PRIMARY KEY (queue, key)
);
