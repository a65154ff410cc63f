-- Sheppy on PostgreSQL, version 12: a replacing add that moves a waiting
-- task to another concurrency key lets that key admit it. A keyed record
-- replacing one is written held (it waits in its key's line as an added one
-- does); after an update, only keys whose rows became held from another
-- state admitted theirs, so a task held for one key and moved to another (a
-- free one) stayed held until something else moved that key. A row held for
-- another key before now counts as newly in the key's line too.
CREATE OR REPLACE FUNCTION %SCHEMA%.admit_updated() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  pair record;
BEGIN
  -- Most statements (claims, renewals, plain settles) touch no keyed row: a scan, no join.
  IF NOT EXISTS (SELECT 1 FROM after_rows WHERE ckey IS NOT NULL)
     AND NOT EXISTS (SELECT 1 FROM before_rows WHERE ckey IS NOT NULL) THEN
    RETURN NULL;
  END IF;
  FOR pair IN
    SELECT n.queue, n.ckey FROM before_rows o JOIN after_rows n ON n.queue = o.queue AND n.id = o.id
    WHERE n.state = 4 AND (o.state <> 4 OR o.ckey IS DISTINCT FROM n.ckey)
    UNION
    SELECT o.queue, o.ckey FROM before_rows o JOIN after_rows n ON n.queue = o.queue AND n.id = o.id
    WHERE o.ckey IS NOT NULL AND o.state IN (0, 2) AND n.state NOT IN (0, 2)
    ORDER BY 1, 2
  LOOP
    PERFORM %SCHEMA%.admit_held(pair.queue, pair.ckey, TG_TABLE_SCHEMA);
  END LOOP;
  RETURN NULL;
END
$$;
