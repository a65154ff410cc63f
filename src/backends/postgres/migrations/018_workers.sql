-- Sheppy on PostgreSQL, version 18: which workers serve each queue.
--
-- A running worker announces itself on each of its queues every heartbeat,
-- and withdraws when it stops; an announcement lapses at `lapse_at` unless
-- made again, so a worker that was killed drops out of the list by itself.
-- Times are the server's (now_ms()), as for leases, so workers on skewed
-- clocks agree. `body` is what the worker said (JSON text, read by the
-- worker layer). Lapsed rows are deleted by the next announcement on the
-- queue; readers skip them, so a read-only role can list workers.
CREATE TABLE %SCHEMA%.workers (
  queue    text   NOT NULL,
  id       text   NOT NULL,
  body     text   NOT NULL,
  seen_at  bigint NOT NULL,
  lapse_at bigint NOT NULL,
  PRIMARY KEY (queue, id)
);
