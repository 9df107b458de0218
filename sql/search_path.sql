--
-- search_path: the extension's own queries never resolve a name through the
-- caller's search_path.  A schema "evil" placed first on search_path holds
-- tables named like the catalog (with decoy rows), and functions,
-- aggregates and operators named like the ones the extension's SQL uses.
-- Every shadow object records a call in evil.shadow_calls and raises a
-- WARNING (which shows even when the statement fails).  Some shadows have
-- more specific argument types than the pg_catalog originals, so that they
-- would win even with pg_catalog searched first (the default).
-- Every API function then runs with "evil" first: the shadows are never
-- called, the decoys never read, the real tables used.
--
SELECT reset_migrations();
\set VERBOSITY terse

CREATE SCHEMA evil;
CREATE TABLE evil.shadow_calls (what text);
CREATE FUNCTION evil.spy(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO evil.shadow_calls VALUES (what);
    RAISE WARNING 'shadow object % was called', what;
END
$$;

-- Tables named like the catalog, each with a decoy row, spied on for writes
CREATE TABLE evil.migrate_revision (LIKE public.migrate_revision);
INSERT INTO evil.migrate_revision VALUES ('evil1', '{}', '{}', '{}', 'Evil.',
    'SELECT evil.spy(''evil body'');', 'SELECT evil.spy(''evil body'');',
    true, NULL, 1, now(), current_user);
CREATE TABLE evil.migrate_version (revision varchar(32));
INSERT INTO evil.migrate_version VALUES ('evil1');
CREATE TABLE evil.migrate_log (LIKE public.migrate_log);
INSERT INTO evil.migrate_log VALUES (1, now(), current_user, '1', 'upgrade', 'evil1', '{}', '{evil1}', NULL);
CREATE FUNCTION evil.write_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM evil.spy(TG_OP || ' on evil.' || TG_TABLE_NAME);
    RETURN NULL;
END
$$;
CREATE TRIGGER spy BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON evil.migrate_revision
    FOR EACH STATEMENT EXECUTE FUNCTION evil.write_trigger();
CREATE TRIGGER spy BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON evil.migrate_version
    FOR EACH STATEMENT EXECUTE FUNCTION evil.write_trigger();
CREATE TRIGGER spy BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON evil.migrate_log
    FOR EACH STATEMENT EXECUTE FUNCTION evil.write_trigger();
CREATE VIEW evil.migrate_status AS SELECT * FROM evil.migrate_revision;

-- Functions named like pg_catalog's
CREATE FUNCTION evil.pg_advisory_xact_lock(bigint) RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('pg_advisory_xact_lock(bigint)'); END $$;
CREATE FUNCTION evil.pg_advisory_xact_lock(integer) RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('pg_advisory_xact_lock(integer)'); END $$;
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('now()'); RETURN pg_catalog.now(); END $$;
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('clock_timestamp()'); RETURN pg_catalog.clock_timestamp(); END $$;
CREATE FUNCTION evil.statement_timestamp() RETURNS timestamptz LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('statement_timestamp()'); RETURN pg_catalog.statement_timestamp(); END $$;
CREATE FUNCTION evil.pg_current_xact_id() RETURNS xid8 LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('pg_current_xact_id()'); RETURN pg_catalog.pg_current_xact_id(); END $$;
CREATE FUNCTION evil.nextval(regclass) RETURNS bigint LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('nextval(regclass)'); RETURN pg_catalog.nextval($1); END $$;
CREATE FUNCTION evil.nextval(text) RETURNS bigint LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('nextval(text)'); RETURN pg_catalog.nextval($1::pg_catalog.regclass); END $$;
CREATE FUNCTION evil.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('unnest(text[])'); RETURN QUERY SELECT pg_catalog.unnest($1); END $$;
CREATE FUNCTION evil.array_to_string(text[], text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('array_to_string(text[],text)'); RETURN pg_catalog.array_to_string($1, $2); END $$;
CREATE FUNCTION evil.array_length(text[], integer) RETURNS integer LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('array_length(text[],integer)'); RETURN pg_catalog.array_length($1, $2); END $$;
CREATE FUNCTION evil.array_cat(text[], text[]) RETURNS text[] LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('array_cat(text[],text[])'); RETURN pg_catalog.array_cat($1, $2); END $$;
CREATE FUNCTION evil.quote_ident(text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('quote_ident(text)'); RETURN pg_catalog.quote_ident($1); END $$;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('lower(text)'); RETURN pg_catalog.lower($1); END $$;
CREATE FUNCTION evil.concat_ws(text, bigint, bigint, bigint, timestamptz, text) RETURNS text
    LANGUAGE plpgsql AS $$ BEGIN PERFORM evil.spy('concat_ws(text,bigint,...)'); RETURN ''; END $$;
CREATE FUNCTION evil.concat_ws(text, text, text, text, text, text, text) RETURNS text
    LANGUAGE plpgsql AS $$ BEGIN PERFORM evil.spy('concat_ws(text,text,...)'); RETURN ''; END $$;
CREATE FUNCTION evil.pg_extension_config_dump(regclass, text) RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('pg_extension_config_dump(regclass,text)'); END $$;
-- ... and like the extension's own
CREATE FUNCTION evil.migrate_resolve(text) RETURNS SETOF text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('migrate_resolve(text)'); RETURN NEXT 'evil1'; END $$;
CREATE FUNCTION evil.migrate_state(OUT revision text, OUT is_applied boolean,
                                   OUT is_head boolean, OUT in_version_table boolean)
    RETURNS SETOF record LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('migrate_state()'); RETURN NEXT; END $$;

-- Aggregates
CREATE FUNCTION evil.max_int8(bigint, bigint) RETURNS bigint LANGUAGE plpgsql STRICT
    AS $$ BEGIN PERFORM evil.spy('max(bigint)'); RETURN pg_catalog.int8larger($1, $2); END $$;
CREATE AGGREGATE evil.max(bigint) (SFUNC = evil.max_int8, STYPE = bigint);
CREATE FUNCTION evil.max_tstz(timestamptz, timestamptz) RETURNS timestamptz LANGUAGE plpgsql STRICT
    AS $$ BEGIN PERFORM evil.spy('max(timestamptz)'); RETURN pg_catalog.timestamptz_larger($1, $2); END $$;
CREATE AGGREGATE evil.max(timestamptz) (SFUNC = evil.max_tstz, STYPE = timestamptz);
CREATE FUNCTION evil.count_any(bigint) RETURNS bigint LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('count(*)'); RETURN $1 OPERATOR(pg_catalog.+) 1; END $$;
CREATE AGGREGATE evil.count(*) (SFUNC = evil.count_any, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION evil.string_agg_text(text, text, text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('string_agg(text,text)'); RETURN pg_catalog.concat_ws($3, $1, $2); END $$;
CREATE AGGREGATE evil.string_agg(text, text) (SFUNC = evil.string_agg_text, STYPE = text);

-- Operators on text, varchar, arrays and integers
CREATE FUNCTION evil.op(what text, result boolean) RETURNS boolean LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy(what); RETURN result; END $$;
CREATE FUNCTION evil.eq_text(text, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(text,text)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_text, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION evil.eq_varchar_text(varchar, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(varchar,text)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_varchar_text, LEFTARG = varchar, RIGHTARG = text);
CREATE FUNCTION evil.eq_text_varchar(text, varchar) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(text,varchar)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_text_varchar, LEFTARG = text, RIGHTARG = varchar);
CREATE FUNCTION evil.ne_text(text, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('<>(text,text)', $1 OPERATOR(pg_catalog.<>) $2) $$;
CREATE OPERATOR evil.<> (FUNCTION = evil.ne_text, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION evil.lt_text(text, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('<(text,text)', $1 OPERATOR(pg_catalog.<) $2) $$;
CREATE OPERATOR evil.< (FUNCTION = evil.lt_text, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION evil.match_text(text, text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('~(text,text)', $1 OPERATOR(pg_catalog.~) $2) $$;
CREATE OPERATOR evil.~ (FUNCTION = evil.match_text, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION evil.eq_textarr(text[], text[]) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(text[],text[])', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_textarr, LEFTARG = text[], RIGHTARG = text[]);
CREATE FUNCTION evil.ne_textarr(text[], text[]) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('<>(text[],text[])', $1 OPERATOR(pg_catalog.<>) $2) $$;
CREATE OPERATOR evil.<> (FUNCTION = evil.ne_textarr, LEFTARG = text[], RIGHTARG = text[]);
CREATE FUNCTION evil.eq_bool(boolean, boolean) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(boolean,boolean)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_bool, LEFTARG = boolean, RIGHTARG = boolean);
CREATE FUNCTION evil.ne_bool(boolean, boolean) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('<>(boolean,boolean)', $1 OPERATOR(pg_catalog.<>) $2) $$;
CREATE OPERATOR evil.<> (FUNCTION = evil.ne_bool, LEFTARG = boolean, RIGHTARG = boolean);
CREATE FUNCTION evil.eq_int8(bigint, bigint) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(bigint,bigint)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_int8, LEFTARG = bigint, RIGHTARG = bigint);
CREATE FUNCTION evil.eq_int4(integer, integer) RETURNS boolean LANGUAGE sql
    AS $$ SELECT evil.op('=(integer,integer)', $1 OPERATOR(pg_catalog.=) $2) $$;
CREATE OPERATOR evil.= (FUNCTION = evil.eq_int4, LEFTARG = integer, RIGHTARG = integer);
CREATE FUNCTION evil.plus_int8_int4(bigint, integer) RETURNS bigint LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('+(bigint,integer)'); RETURN $1 OPERATOR(pg_catalog.+) $2; END $$;
CREATE OPERATOR evil.+ (FUNCTION = evil.plus_int8_int4, LEFTARG = bigint, RIGHTARG = integer);
CREATE FUNCTION evil.cat_text(text, text) RETURNS text LANGUAGE plpgsql
    AS $$ BEGIN PERFORM evil.spy('||(text,text)'); RETURN $1 OPERATOR(pg_catalog.||) $2; END $$;
CREATE OPERATOR evil.|| (FUNCTION = evil.cat_text, LEFTARG = text, RIGHTARG = text);

-- The shadows work.  With "evil" before pg_catalog, unqualified names find
-- the decoy table and every shadow:
SET search_path = evil, pg_catalog, public;
SELECT revision FROM migrate_version WHERE revision = 'evil1';
SELECT count(*), max(x), string_agg(x::text, ','), now() IS NOT NULL AS now
  FROM (VALUES (1::bigint), (2::bigint)) AS v(x);
RESET search_path;
SELECT what, count(*) FROM evil.shadow_calls GROUP BY what ORDER BY what;
TRUNCATE evil.shadow_calls;
-- With pg_catalog first (the default), a shadow whose argument types match
-- better than pg_catalog's polymorphic or coercing original still wins:
SET search_path = evil, public;
SELECT count(*) FROM evil.migrate_version WHERE revision = 'evil1'::text;
SELECT ARRAY['a'] <> ARRAY['b'] AS ne, array_to_string(ARRAY['a', 'b'], ',') AS s,
       concat_ws('/', 1::bigint, 2::bigint, 3::bigint, now(), 'x') AS c;
SELECT unnest(ARRAY['a']);
RESET search_path;
SELECT what, count(*) FROM evil.shadow_calls GROUP BY what ORDER BY what;
TRUNCATE evil.shadow_calls;

--
-- 1. "evil" before pg_catalog, the extension's schema (public) after both.
--    Bodies record their runs in public.sp_runs.
--
CREATE TABLE public.sp_runs (id serial, body text);
SET search_path = evil, pg_catalog, public;
SELECT public.migrate_register('sp1', '{}', 'INSERT INTO public.sp_runs (body) VALUES (''sp1 up'');',
                               'INSERT INTO public.sp_runs (body) VALUES (''sp1 down'');', 'One.');
SELECT public.migrate_register('sp2', '{sp1}', 'INSERT INTO public.sp_runs (body) VALUES (''sp2 up'');',
                               'INSERT INTO public.sp_runs (body) VALUES (''sp2 down'');', 'Two.', '{sp}');
SELECT public.migrate_register('sp3', '{sp1}', 'INSERT INTO public.sp_runs (body) VALUES (''sp3 up'');',
                               'INSERT INTO public.sp_runs (body) VALUES (''sp3 down'');', 'Three.', '{}', '{sp2}');
SELECT public.migrate_register('sp4', '{sp2,sp3}', 'INSERT INTO public.sp_runs (body) VALUES (''sp4 up'');',
                               'INSERT INTO public.sp_runs (body) VALUES (''sp4 down'');', 'Merge.',
                               source => 'dir/sp4.sql');
-- unchanged, then updated
SELECT public.migrate_register('sp1', '{}', 'INSERT INTO public.sp_runs (body) VALUES (''sp1 up'');',
                               'INSERT INTO public.sp_runs (body) VALUES (''sp1 down'');', 'One.');
SELECT public.migrate_register('sp3', '{sp1}', 'INSERT INTO public.sp_runs (body) VALUES (''sp3 up'');',
                               'INSERT INTO public.sp_runs (body) VALUES (''sp3 down'');', 'Three, again.',
                               '{}', '{sp2}');
SELECT public.migrate_check();
SELECT revision, branch_labels, is_effective_head FROM public.migrate_heads();
SELECT revision, direction FROM public.migrate_upgrade('sp2');
SELECT revision, is_head, in_version_table FROM public.migrate_current();
SELECT line FROM public.migrate_history();
SELECT revision FROM public.migrate_history('sp1:heads');
SELECT revision, children FROM public.migrate_branches();
SELECT public.migrate_resolve('sp@head');
SELECT revision, message, source FROM public.migrate_show('sp4');
SELECT revision, is_applied, is_head, in_version_table FROM public.migrate_state();
SELECT revision, is_applied, is_head, in_version_table, applied_at IS NOT NULL AS has_applied_at
  FROM public.migrate_status;
SELECT revision, direction FROM public.migrate_upgrade('heads');
SELECT revision, direction FROM public.migrate_downgrade('sp2');
SELECT public.migrate_stamp('heads');
SELECT public.migrate_stamp('sp2', purge => true);
SELECT revision, direction FROM public.migrate_downgrade('base');
-- refusing to change an applied revision reads the state once more
SELECT revision, direction FROM public.migrate_upgrade('sp1');
SELECT public.migrate_register('sp1', '{}', 'SELECT 1;');
-- with a transaction snapshot, the extension compares it with the latest one
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT revision, direction FROM public.migrate_upgrade('heads');
SELECT public.migrate_register('sp5', '{sp4}', 'INSERT INTO public.sp_runs (body) VALUES (''sp5 up'');',
                               'INSERT INTO public.sp_runs (body) VALUES (''sp5 down'');', 'Five.');
COMMIT;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT revision, direction FROM public.migrate_upgrade('heads');
SELECT public.migrate_stamp('sp4');
COMMIT;
RESET search_path;

-- No shadow was called, no decoy read or written; the real tables were used
SELECT what FROM evil.shadow_calls;
SELECT revision FROM evil.migrate_revision;
SELECT revision FROM evil.migrate_version;
SELECT revision, to_revisions FROM evil.migrate_log;
SELECT revision, seq, message FROM public.migrate_revision ORDER BY seq;
SELECT revision FROM public.migrate_version ORDER BY revision;
SELECT direction, revision, from_revisions, to_revisions FROM public.migrate_log ORDER BY id;
SELECT body FROM public.sp_runs ORDER BY id;
TRUNCATE public.sp_runs;

--
-- 2. The default way: pg_catalog is searched first, implicitly.  Shadows
--    with more specific argument types than pg_catalog's would still win.
--
SET search_path = evil, public;
SELECT revision, direction FROM public.migrate_downgrade('base');
SELECT public.migrate_register('sp5', '{sp4}', 'INSERT INTO public.sp_runs (body) VALUES (''sp5 up'');',
                               'INSERT INTO public.sp_runs (body) VALUES (''sp5 down'');', 'Five, again.');
SELECT public.migrate_check();
SELECT revision, direction FROM public.migrate_upgrade('sp@head');
SELECT revision FROM public.migrate_heads();
SELECT revision FROM public.migrate_current();
SELECT revision FROM public.migrate_history();
SELECT revision FROM public.migrate_history('base:sp2');
SELECT revision FROM public.migrate_branches();
SELECT public.migrate_resolve('sp4');
SELECT revision FROM public.migrate_show('heads');
SELECT revision, is_applied FROM public.migrate_state();
SELECT revision, is_applied FROM public.migrate_status;
SELECT public.migrate_stamp('sp4');
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT revision, direction FROM public.migrate_downgrade('sp3');
SELECT public.migrate_stamp('base');
COMMIT;
RESET search_path;

SELECT what FROM evil.shadow_calls;
SELECT count(*) AS decoys FROM evil.migrate_revision, evil.migrate_version, evil.migrate_log;
SELECT revision FROM public.migrate_version ORDER BY revision;
SELECT direction, revision, from_revisions, to_revisions FROM public.migrate_log ORDER BY id;
SELECT body FROM public.sp_runs ORDER BY id;
DROP TABLE public.sp_runs;

--
-- 3. The extension in a schema whose name needs quoting, not on search_path
--    at all; created with "evil" first too.
--
SELECT reset_migrations();
DROP EXTENSION migrations;
CREATE SCHEMA "Mig Schema";
SET search_path = evil, pg_catalog;
CREATE EXTENSION migrations SCHEMA "Mig Schema";
SELECT "Mig Schema".migrate_register('q1', '{}', 'CREATE TABLE public.q_one (id int);',
                                     'DROP TABLE public.q_one;', 'Q one.');
SELECT "Mig Schema".migrate_register('q2', '{q1}', 'CREATE TABLE public.q_two (id int);',
                                     'DROP TABLE public.q_two;', 'Q two.');
SELECT "Mig Schema".migrate_check();
SELECT revision, direction FROM "Mig Schema".migrate_upgrade('heads');
SELECT revision FROM "Mig Schema".migrate_heads();
SELECT revision FROM "Mig Schema".migrate_current();
SELECT line FROM "Mig Schema".migrate_history();
SELECT revision FROM "Mig Schema".migrate_branches();
SELECT revision, message FROM "Mig Schema".migrate_show('q1');
SELECT revision, is_applied FROM "Mig Schema".migrate_status;
SELECT revision, direction FROM "Mig Schema".migrate_downgrade('-1');
SELECT "Mig Schema".migrate_stamp('heads');
SELECT "Mig Schema".migrate_stamp('q1', true);
RESET search_path;

SELECT what FROM evil.shadow_calls;
SELECT count(*) AS decoys FROM evil.migrate_revision, evil.migrate_version, evil.migrate_log;
SELECT revision FROM "Mig Schema".migrate_version;
SELECT direction, revision, from_revisions, to_revisions FROM "Mig Schema".migrate_log ORDER BY id;

-- Back to the extension in public
DROP TABLE q_one;
SET migrations.allow_drop = on;  -- the extension holds history (drop guard)
DROP EXTENSION migrations;
RESET migrations.allow_drop;
DROP SCHEMA "Mig Schema";
CREATE EXTENSION migrations;
DROP SCHEMA evil CASCADE;
