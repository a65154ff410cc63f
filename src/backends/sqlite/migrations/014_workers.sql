-- Sheppy on SQLite, version 14: which workers serve each queue.
--
-- A running worker announces itself on each of its queues every heartbeat,
-- and withdraws when it stops; an announcement lapses at `lapse_at` (ms)
-- unless made again, so a worker that was killed drops out of the list by
-- itself. `body` is what the worker said (JSON text, read by the worker
-- layer). Lapsed rows are deleted by the next announcement on the queue.
CREATE TABLE workers (
  queue    TEXT    NOT NULL,
  id       TEXT    NOT NULL,
  body     TEXT    NOT NULL,
  seen_at  INTEGER NOT NULL,
  lapse_at INTEGER NOT NULL,
  PRIMARY KEY (queue, id)
) WITHOUT ROWID;
