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
-- issue 16, item 6: verify bodies.  A revision may carry a verify body,
-- run after its upgrade in the same transaction; an error in it fails the
-- step.  migrate_register gains verify as its last parameter: a new
-- signature, so the function is created anew and the grants users gave on
-- the old one are copied to it before the old one is dropped.
ALTER TABLE @extschema@.migrate_revision ADD COLUMN verify text;
COMMENT ON COLUMN @extschema@.migrate_revision.verify
    IS 'SQL run after the upgrade body in the same transaction; an error fails the step (NULL: none)';

CREATE FUNCTION @extschema@.migrate_register(
    revision text,
    down_revisions text[],
    upgrade text,
    downgrade text DEFAULT NULL,
    message text DEFAULT NULL,
    branch_labels text[] DEFAULT '{}',
    depends_on text[] DEFAULT '{}',
    transactional boolean DEFAULT true,
    source text DEFAULT NULL,
    verify text DEFAULT NULL)
RETURNS text
LANGUAGE C CALLED ON NULL INPUT VOLATILE
AS 'MODULE_PATHNAME', 'migrate_register';
COMMENT ON FUNCTION @extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text)
    IS 'store or update one revision; returns added, updated or unchanged';
REVOKE ALL ON FUNCTION
    @extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text)
FROM PUBLIC;

-- The EXECUTE grants on the old signature, other than its owner's, given
-- again on the new one.  GRANT in an extension script is recorded as one
-- of the extension's initial privileges, which pg_dump leaves out: so the
-- initial privileges are set back to what the REVOKE above left, and the
-- copied grants stay the users' own (dumped, and dropped by DROP OWNED).
-- On a fresh install the old function has its owner's grant only, and
-- nothing is copied.
DO $copy_grants$
DECLARE
    old_fn pg_catalog.regprocedure :=
        '@extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text)';
    new_fn pg_catalog.regprocedure :=
        '@extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text, text)';
    initial pg_catalog.aclitem[];
    g record;
BEGIN
    SELECT p.proacl INTO initial FROM pg_catalog.pg_proc AS p
     WHERE p.oid OPERATOR(pg_catalog.=) new_fn;
    FOR g IN
        SELECT a.grantee, a.is_grantable
          FROM pg_catalog.pg_proc AS p,
               pg_catalog.aclexplode(p.proacl) AS a
         WHERE p.oid OPERATOR(pg_catalog.=) old_fn
           AND a.privilege_type OPERATOR(pg_catalog.=) 'EXECUTE'
           AND a.grantee OPERATOR(pg_catalog.<>) p.proowner
         ORDER BY a.grantee
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', new_fn,
            CASE WHEN g.grantee OPERATOR(pg_catalog.=) 0 THEN 'PUBLIC'
                 ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END,
            CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
    UPDATE pg_catalog.pg_init_privs AS i SET initprivs = initial
     WHERE i.objoid OPERATOR(pg_catalog.=) new_fn::pg_catalog.oid
       AND i.classoid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
       AND i.objsubid OPERATOR(pg_catalog.=) 0
       AND initial IS NOT NULL;
END
$copy_grants$;

DROP FUNCTION @extschema@.migrate_register(text, text[], text, text, text, text[], text[], boolean, text);
-- END 0.4 OTHER
