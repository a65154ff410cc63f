-- Sheppy on PostgreSQL, version 3: queues can be paused. A queue listed
-- here claims nothing until it is removed (the claim statement looks); the
-- rest of its life goes on.
CREATE TABLE %SCHEMA%.paused_queues (
  queue text PRIMARY KEY
);
