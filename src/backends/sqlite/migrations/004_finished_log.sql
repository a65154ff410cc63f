-- Sheppy on SQLite, version 4: finished tasks are announced to other
-- processes with their ids. Every write that finishes tasks or workflows
-- appends one row naming them; a process watching a queue reads the rows
-- after the last it saw (its own process's rows it has already announced).
-- Old rows are trimmed as new ones come, so the log stays small; a watcher
-- that fell behind the trim looks again instead. It replaces the per-queue
-- counters of version 1, which could only say that something finished.
CREATE TABLE finished_log (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  queue  TEXT NOT NULL,
  -- JSON array of the task and workflow ids that finished.
  ids    TEXT NOT NULL,
  -- The process that wrote it (a random token per process).
  origin TEXT NOT NULL
);
DROP TABLE finish_marks;
