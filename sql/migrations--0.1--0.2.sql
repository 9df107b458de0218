/* migrations--0.1--0.2.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrations UPDATE TO '0.2'" to load this file. \quit

-- Version 0.2: hardening (the catalog changes only through the extension's
-- functions; the history survives DROP EXTENSION only when asked to go).

-- issue 10, item 3: the catalog changes only through the extension's functions.
-- The C code writes the three tables with the extension owner's rights;
-- internal triggers that fire always refuse every other write, except a
-- superuser's outside migration steps (pg_restore).  They are members of
-- the extension: only DROP EXTENSION removes them.
CREATE FUNCTION @extschema@.migrate_catalog_guard()
RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'migrate_catalog_guard';
COMMENT ON FUNCTION @extschema@.migrate_catalog_guard()
    IS 'trigger: the catalog tables change only through the extension''s functions';
REVOKE ALL ON FUNCTION @extschema@.migrate_catalog_guard() FROM PUBLIC;
CREATE FUNCTION @extschema@.migrate_install_catalog_guard()
RETURNS void
LANGUAGE C
AS 'MODULE_PATHNAME', 'migrate_install_catalog_guard';
SELECT @extschema@.migrate_install_catalog_guard();
DROP FUNCTION @extschema@.migrate_install_catalog_guard();
