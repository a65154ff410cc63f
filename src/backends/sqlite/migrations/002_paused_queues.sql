-- Sheppy on SQLite, version 2: queues can be paused. A queue listed here
-- claims nothing until it is removed; everything else about it goes on.
CREATE TABLE paused_queues (
  queue TEXT PRIMARY KEY
);
