/* migrations--0.3--0.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrations UPDATE TO '0.4'" to load this file. \quit

-- Version 0.4: runs beyond one transaction (issue 14), files and database in
-- agreement (issue 15), adopting Alembic databases (issue 13), plans, graphs
-- and verify sections (issue 16).  Every revision, version row and log row
-- is kept; migrations--0.4.sql ends with the same statements.

-- BEGIN 0.4 STEP (issue 14: stepwise procedures, non-transactional revisions)
-- END 0.4 STEP


-- BEGIN 0.4 PROV (issue 15: unregister, validation at commit, provenance)
-- END 0.4 PROV


-- BEGIN 0.4 ADOPT (issue 13: adopting Alembic databases, alembic_version kept)
-- The Alembic version table that every write of migrate_version also
-- writes (README, "Adopting an Alembic database"): at most one row, set by
-- migrate_keep_alembic_version, removed by migrate_forget_alembic_version.
CREATE TABLE @extschema@.migrate_alembic_version (
    only_row             boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version_table_schema name NOT NULL,
    version_table        name NOT NULL,
    kept_since           timestamptz NOT NULL DEFAULT pg_catalog.now(),
    kept_by              name NOT NULL DEFAULT CURRENT_USER
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.migrate_alembic_version', '');
COMMENT ON TABLE @extschema@.migrate_alembic_version
    IS 'the Alembic version table kept in step with migrate_version, if any';
REVOKE ALL ON @extschema@.migrate_alembic_version FROM PUBLIC;
GRANT SELECT ON @extschema@.migrate_alembic_version TO PUBLIC;

CREATE FUNCTION @extschema@.migrate_keep_alembic_version(
    version_table text DEFAULT 'alembic_version',
    version_table_schema text DEFAULT NULL)
RETURNS text
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_keep_alembic_version';
COMMENT ON FUNCTION @extschema@.migrate_keep_alembic_version(text, text)
    IS 'from now on, every upgrade, downgrade and stamp also writes this Alembic version table';
REVOKE ALL ON FUNCTION @extschema@.migrate_keep_alembic_version(text, text) FROM PUBLIC;

CREATE FUNCTION @extschema@.migrate_forget_alembic_version()
RETURNS boolean
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'migrate_forget_alembic_version';
COMMENT ON FUNCTION @extschema@.migrate_forget_alembic_version()
    IS 'stop writing the Alembic version table; true if one was kept';
REVOKE ALL ON FUNCTION @extschema@.migrate_forget_alembic_version() FROM PUBLIC;
-- END 0.4 ADOPT


-- BEGIN 0.4 PLAN (issue 16: migrate_plan, migrate_graph, verify sections)
-- END 0.4 PLAN


-- BEGIN 0.4 OTHER
-- END 0.4 OTHER
