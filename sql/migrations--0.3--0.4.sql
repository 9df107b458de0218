/* migrations--0.3--0.4.sql */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION migrations UPDATE TO '0.4'" to load this file. \quit

-- Version 0.4: runs beyond one transaction (issue 14), files and database in
-- agreement (issue 15), adopting Alembic databases (issue 13), plans, graphs
-- and verify sections (issue 16).  Every revision, version row and log row
-- is kept; migrations--0.4.sql ends with the same statements.

-- BEGIN 0.4 STEP (issue 14: stepwise procedures, non-transactional revisions)
-- Procedures that commit after each revision: the same plan, order,
-- version rows and log rows as migrate_upgrade/migrate_downgrade, for
-- histories larger than one transaction can hold.
CREATE PROCEDURE @extschema@.migrate_upgrade_stepwise(target text DEFAULT 'heads')
LANGUAGE C
AS 'MODULE_PATHNAME', 'migrate_upgrade_stepwise';
COMMENT ON PROCEDURE @extschema@.migrate_upgrade_stepwise(text)
    IS 'run upgrade steps up to the target, committing after each revision';

CREATE PROCEDURE @extschema@.migrate_downgrade_stepwise(target text)
LANGUAGE C
AS 'MODULE_PATHNAME', 'migrate_downgrade_stepwise';
COMMENT ON PROCEDURE @extschema@.migrate_downgrade_stepwise(text)
    IS 'run downgrade steps down to the target, committing after each revision';

REVOKE ALL ON PROCEDURE
    @extschema@.migrate_upgrade_stepwise(text),
    @extschema@.migrate_downgrade_stepwise(text)
FROM PUBLIC;
-- END 0.4 STEP


-- BEGIN 0.4 PROV (issue 15: unregister, validation at commit, provenance)
-- END 0.4 PROV


-- BEGIN 0.4 ADOPT (issue 13: adopting Alembic databases, alembic_version kept)
-- END 0.4 ADOPT


-- BEGIN 0.4 PLAN (issue 16: migrate_plan, migrate_graph, verify sections)
-- END 0.4 PLAN


-- BEGIN 0.4 OTHER
-- END 0.4 OTHER
