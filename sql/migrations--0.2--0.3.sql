/* migrations--0.2--0.3.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrations UPDATE TO '0.3'" to load this file. \quit

-- Version 0.3: the schema seen from inside (issue 12).  No table changes.

-- issue 12, items 1 and 2: the schema model and the diff of two models
-- (README, "Schema snapshots and diffs").  Read-only: EXECUTE for PUBLIC,
-- like the listing functions; the snapshot sees what the caller's rights
-- on the catalogs show.
CREATE FUNCTION @extschema@.migrate_snapshot(schemas text[] DEFAULT NULL)
RETURNS jsonb
LANGUAGE C STABLE
AS 'MODULE_PATHNAME', 'migrate_snapshot';
COMMENT ON FUNCTION @extschema@.migrate_snapshot(text[])
    IS 'the schema model of the given schemas (default: every user schema) as jsonb';

CREATE FUNCTION @extschema@.migrate_diff(source jsonb, target jsonb)
RETURNS TABLE(step integer, statement text, object text, hazard text, note text)
LANGUAGE C IMMUTABLE STRICT
AS 'MODULE_PATHNAME', 'migrate_diff';
COMMENT ON FUNCTION @extschema@.migrate_diff(jsonb, jsonb)
    IS 'the ordered statements turning schema model source into target, with hazards';

-- issue 12, item 5: migrate_roundtrip (README, "Schema snapshots and
-- diffs").  It runs bodies, so it is refused to PUBLIC like
-- migrate_upgrade; everything it does is rolled back.
CREATE FUNCTION @extschema@.migrate_roundtrip(
    target text DEFAULT 'heads',
    OUT revision text, OUT phase text, OUT object text,
    OUT difference text)
RETURNS SETOF record
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_roundtrip';
COMMENT ON FUNCTION @extschema@.migrate_roundtrip(text)
    IS 'upgrade to the target and downgrade back, whole and revision by revision, always rolled back; a row per difference';
REVOKE ALL ON FUNCTION @extschema@.migrate_roundtrip(text) FROM PUBLIC;
