-- Sheppy on PostgreSQL, version 9: task rows are written with their record
-- JSON in the compact form (every field at its default left out), about a
-- fifth of the whole form's size. Rows written before keep the whole form
-- and read as before; nothing is rewritten. The schema's tables do not
-- change: this version is here so that an earlier Sheppy, which cannot read
-- the compact form, refuses this schema as newer than it knows instead of
-- reading the new rows as failed records.
COMMENT ON COLUMN %SCHEMA%.tasks.data IS
  'The task record JSON: the compact form (version 3) from schema version 9, the whole form (version 2) in rows written before.';
