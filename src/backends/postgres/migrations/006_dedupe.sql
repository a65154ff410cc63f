-- Sheppy on PostgreSQL, version 6: dedupe keys. A key's row names the task
-- that holds it and, for a window, when the window ends (ms; NULL: held
-- while the task is unfinished). An add locks the key's row for the rest of
-- its transaction, so racing adds of one key are decided one after another.
CREATE TABLE %SCHEMA%.dedupe (
  queue text NOT NULL,
  key text NOT NULL,
  task_id text NOT NULL,
  held_until bigint,
  PRIMARY KEY (queue, key)
);
