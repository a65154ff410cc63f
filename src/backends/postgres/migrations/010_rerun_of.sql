-- Sheppy on PostgreSQL, version 10: the manual re-runs a task row's record
-- counts (its JSON's `manualRetryCount`, absent: 0), for a rerun (a retry by
-- hand, a redrive) to replace only the run it was made from: two redrives
-- that read the same failed task both make a rerun of it, and the second,
-- arriving after the first's run had finished again, would otherwise run the
-- task a second time. NULL for JSON that does not parse (a row written by
-- hand), which a rerun then replaces as before.
CREATE FUNCTION %SCHEMA%.manual_retries(data text) RETURNS bigint
  LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN coalesce((data::jsonb ->> 'manualRetryCount')::bigint, 0);
EXCEPTION WHEN others THEN
  RETURN NULL;
END
$$;
