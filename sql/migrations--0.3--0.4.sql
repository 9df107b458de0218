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
-- END 0.4 ADOPT


-- BEGIN 0.4 PLAN (issue 16: migrate_plan, migrate_graph, verify sections)
-- END 0.4 PLAN


-- BEGIN 0.4 OTHER
-- END 0.4 OTHER
