-- Sheppy on SQLite, version 7: each queue's lifecycle event log. Appends run
-- inside write transactions (one writer at a time), so ids grow in commit
-- order; AUTOINCREMENT keeps an id from being given again after the rows
-- above it are trimmed or cleared, so a reader's position stays meaningful.
CREATE TABLE events (
  id    INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  body  TEXT NOT NULL
);
CREATE INDEX events_queue_id ON events (queue, id);
-- Rows of each queue's log, kept exact by the appends and clears (all in
-- write transactions): the trim deletes just the excess from the oldest
-- end, instead of walking `eventCap` index entries back from the newest.
CREATE TABLE event_counts (
  queue TEXT PRIMARY KEY,
  n     INTEGER NOT NULL
);
