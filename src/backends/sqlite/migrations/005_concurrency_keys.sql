-- Sheppy on SQLite, version 5: concurrency keys and queue caps.
--
-- A task with a concurrency key (ckey, with its limit climit) takes one of
-- the key's slots while it is claimable (state 0) or claimed (2). When it
-- would become claimable and the key has no free slot — or tasks are held
-- before it — it is held instead: state 4, a pending task that claims do
-- not see, in line by its seq. Triggers keep this whatever statement moves
-- a row (adds, settles, promotions, cancels), and one writer at a time
-- (every write is a BEGIN IMMEDIATE transaction) keeps the counts exact:
-- - a keyed row written claimable from elsewhere than claimable or held is
--   held when its key is full or has held rows;
-- - a keyed row that leaves a slot (finished, waiting for a time, held
--   again) admits the key's held rows, oldest first, while slots are free.
-- An admitted row keeps its seq: its place in the claim order is where it
-- would have been, had it not waited.
--
-- SQLite cannot change a CHECK constraint in place, so the tasks table is
-- rebuilt with the new state and the two new columns, and its indexes and
-- triggers made again (the same ones, plus the key index).

CREATE TABLE tasks_new (
  queue         TEXT    NOT NULL,
  id            TEXT    NOT NULL,
  data          TEXT    NOT NULL,
  status        TEXT    NOT NULL,
  -- 0 claimable, 1 due, 2 claimed, 3 finished, 4 held for its key's slot.
  state         INTEGER NOT NULL CHECK (state BETWEEN 0 AND 4),
  seq           INTEGER,
  due_at        INTEGER,
  created_at    INTEGER NOT NULL,
  started_at    TEXT,
  finished_at   TEXT,
  fence         INTEGER NOT NULL DEFAULT 0,
  settled_fence INTEGER NOT NULL DEFAULT 0,
  lease_at      INTEGER,
  suspect_lease INTEGER,
  suspect_at    INTEGER,
  expires_at    INTEGER,
  priority      INTEGER NOT NULL DEFAULT 0,
  ckey          TEXT,
  climit        INTEGER,
  PRIMARY KEY (queue, id)
);
INSERT INTO tasks_new (queue, id, data, status, state, seq, due_at, created_at, started_at,
                       finished_at, fence, settled_fence, lease_at, suspect_lease, suspect_at,
                       expires_at, priority)
  SELECT queue, id, data, status, state, seq, due_at, created_at, started_at,
         finished_at, fence, settled_fence, lease_at, suspect_lease, suspect_at,
         expires_at, priority
  FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;

CREATE INDEX tasks_claimable ON tasks (queue, priority DESC, seq) WHERE state = 0;
CREATE INDEX tasks_due ON tasks (queue, due_at, id) WHERE state = 1;
CREATE INDEX tasks_claimed ON tasks (queue, lease_at) WHERE state = 2;
CREATE INDEX tasks_expiring ON tasks (queue, expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX tasks_created ON tasks (queue, created_at, id);
-- A key's rows by state: its taken slots (0, 2) are counted, its held rows (4) walked in line order.
CREATE INDEX tasks_keyed ON tasks (queue, ckey, state, seq) WHERE ckey IS NOT NULL;

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

-- Triggers do not fire from inside triggers here (recursive_triggers is
-- off), so each trigger does all a change needs: holding, then admitting.
CREATE TRIGGER tasks_hold_inserted AFTER INSERT ON tasks
  WHEN NEW.ckey IS NOT NULL AND NEW.state = 0
BEGIN
  UPDATE tasks SET state = 4
  WHERE queue = NEW.queue AND id = NEW.id AND (
    EXISTS (SELECT 1 FROM tasks WHERE queue = NEW.queue AND ckey = NEW.ckey AND state = 4)
    OR (SELECT count(*) FROM tasks
        WHERE queue = NEW.queue AND ckey = NEW.ckey AND state IN (0, 2) AND id <> NEW.id)
       >= coalesce(NEW.climit, 1));
END;

CREATE TRIGGER tasks_hold_updated AFTER UPDATE OF state ON tasks
  WHEN NEW.ckey IS NOT NULL AND NEW.state = 0 AND OLD.state IN (1, 2, 3)
BEGIN
  UPDATE tasks SET state = 4
  WHERE queue = NEW.queue AND id = NEW.id AND (
    EXISTS (SELECT 1 FROM tasks WHERE queue = NEW.queue AND ckey = NEW.ckey AND state = 4)
    OR (SELECT count(*) FROM tasks
        WHERE queue = NEW.queue AND ckey = NEW.ckey AND state IN (0, 2) AND id <> NEW.id)
       >= coalesce(NEW.climit, 1));
  -- A claimed row back in line frees its slot: the oldest held rows take the free ones.
  UPDATE tasks SET state = 0
  WHERE queue = NEW.queue AND id IN (
    SELECT id FROM tasks WHERE queue = NEW.queue AND ckey = NEW.ckey AND state = 4
    ORDER BY seq, id
    LIMIT max(0, coalesce(NEW.climit, 1) - (
      SELECT count(*) FROM tasks WHERE queue = NEW.queue AND ckey = NEW.ckey AND state IN (0, 2))));
END;

CREATE TRIGGER tasks_admit_freed AFTER UPDATE OF state ON tasks
  WHEN OLD.ckey IS NOT NULL AND OLD.state IN (0, 2) AND NEW.state NOT IN (0, 2)
BEGIN
  UPDATE tasks SET state = 0
  WHERE queue = OLD.queue AND id IN (
    SELECT id FROM tasks WHERE queue = OLD.queue AND ckey = OLD.ckey AND state = 4
    ORDER BY seq, id
    LIMIT max(0, coalesce(OLD.climit, 1) - (
      SELECT count(*) FROM tasks WHERE queue = OLD.queue AND ckey = OLD.ckey AND state IN (0, 2))));
END;

-- A keyed row replaced by an add is written held (task-store.ts): when it
-- was not in its key's line or slots before, the key admits its held rows.
CREATE TRIGGER tasks_admit_replaced AFTER UPDATE OF state ON tasks
  WHEN NEW.ckey IS NOT NULL AND NEW.state = 4 AND OLD.state IN (1, 3)
BEGIN
  UPDATE tasks SET state = 0
  WHERE queue = NEW.queue AND id IN (
    SELECT id FROM tasks WHERE queue = NEW.queue AND ckey = NEW.ckey AND state = 4
    ORDER BY seq, id
    LIMIT max(0, coalesce(NEW.climit, 1) - (
      SELECT count(*) FROM tasks WHERE queue = NEW.queue AND ckey = NEW.ckey AND state IN (0, 2))));
END;

-- A queue listed here has its claims capped: at most `cap` claimed at once.
CREATE TABLE queue_caps (
  queue TEXT    PRIMARY KEY,
  cap   INTEGER NOT NULL CHECK (cap >= 1)
);
