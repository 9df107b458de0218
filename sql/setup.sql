--
-- Installation: objects, dump registration, privileges of the catalog
--
CREATE EXTENSION migrations;

-- Helper for the following test files: empty the catalog.
CREATE FUNCTION reset_migrations() RETURNS void LANGUAGE sql AS $$
    DELETE FROM migrate_version;
    DELETE FROM migrate_log;
    DELETE FROM migrate_revision;
$$;

-- Helper: the SQLSTATE a statement fails with
CREATE FUNCTION sqlstate_of(query text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;

-- Objects of the extension
SELECT pg_describe_object(classid, objid, objsubid) AS object
  FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migrations')
   AND deptype = 'e'
 ORDER BY 1;

-- Tables and the log sequence are kept by pg_dump
SELECT unnest(extconfig)::regclass AS dumped
  FROM pg_extension WHERE extname = 'migrations'
 ORDER BY 1;

-- No function runs with its owner's rights
SELECT count(*) AS security_definer
  FROM pg_proc WHERE proname LIKE 'migrate%' AND prosecdef;

-- Who may execute what: changing state is not for PUBLIC
SELECT p.proname,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc AS p
 WHERE p.pronamespace = 'public'::regnamespace AND p.proname LIKE 'migrate%'
 ORDER BY 1;

SELECT c.relname,
       has_table_privilege('public', c.oid, 'SELECT') AS public_select,
       has_table_privilege('public', c.oid, 'INSERT, UPDATE, DELETE') AS public_write
  FROM pg_class AS c
 WHERE c.relnamespace = 'public'::regnamespace AND c.relname LIKE 'migrate%'
   AND c.relkind IN ('r', 'v')
 ORDER BY 1;

-- An empty catalog: no heads, no current revision, empty history
SELECT * FROM migrate_heads();
SELECT * FROM migrate_current();
SELECT * FROM migrate_history();
SELECT migrate_check();
SELECT * FROM migrate_upgrade();
