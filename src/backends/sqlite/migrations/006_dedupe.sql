-- Sheppy on SQLite, version 6: dedupe keys. A key's row names the task that
-- holds it and, for a window, when the window ends (ms; NULL: held while the
-- task is unfinished). Adds under keys run in one write transaction, so
-- racing adds of one key, from any process, are decided one after another.
CREATE TABLE dedupe (
  queue      TEXT NOT NULL,
  key        TEXT NOT NULL,
  task_id    TEXT NOT NULL,
  held_until INTEGER,
  PRIMARY KEY (queue, key)
);
