/*-------------------------------------------------------------------------
 *
 * mg_schemacmds.c
 *	  pg_migrate's schema commands: the bodies of "new --autogenerate" and
 *	  "check --schema/--from", and the scratch databases they build.
 *
 * Both compare two states with the extension's migrate_snapshot and
 * migrate_diff.  The current state is what the revisions produce: a
 * scratch database where the files are loaded (load_revisions, the code
 * of "load") and upgraded to heads.  The desired state is a DDL file run
 * in another scratch database, or a database named by a connection string
 * (--from), which must have the extension.  Scratch databases are created
 * on the server the connection options name (CREATE DATABASE ... TEMPLATE
 * template0), named pg_migrate_scratch_<pid>_<n>, and always dropped: by
 * the commands when done, and by an atexit handler on every other way out
 * (an error, pg_fatal, Ctrl-C, which cancels the running query).
 *
 * This file owns the scratch databases (scratch_* functions, usable by any
 * command), the schema options (SCHEMA_LONG_OPTIONS, schema_option), the
 * filtering of the models (schemas, table patterns, the migrations
 * extension itself, the sizes) and the text of the generated bodies.  It
 * must not parse revision files or plan migrations (mg_filecmds.c writes
 * the file's header; the extension plans), nor change any database but
 * its scratch databases.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>

#include "common/logging.h"
#include "fe_utils/cancel.h"
#include "fe_utils/string_utils.h"
#include "pqexpbuffer.h"

#include "pg_migrate.h"

/*
 * Scratch databases
 */
static PGconn *server_conn;		/* to the server conn_opts name */
static char **scratch_names;	/* created and not yet dropped */
static int	nscratch;
static int	scratch_counter;
static bool cleanup_registered;

/* Notices of scratch connections: shown only with -v */
static void
quiet_notices(void *arg, const PGresult *res)
{
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (primary && verbosity > 0)
		pg_log_info("server: %s", esc(primary));
}

/*
 * Run a query on c, with text parameters; NULL after reporting a failure.
 * Ctrl-C (CancelRequested) stops before sending.
 */
static PGresult *
sq(PGconn *c, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res;
	PGconn	   *save = conn;

	if (CancelRequested)
	{
		pg_log_error("canceled");
		return NULL;
	}
	if (verbosity > 1)
		pg_log_info("query in \"%s\": %s", esc(PQdb(c)), esc(sql));
	res = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
		PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		conn = c;				/* report_result_error reads conn's error */
		report_result_error(res);
		conn = save;
		PQclear(res);
		return NULL;
	}
	return res;
}

/* sq for the other commands on scratch databases (lint) */
PGresult *
scratch_query(PGconn *c, const char *sql, int nparams, const char *const *params)
{
	return sq(c, sql, nparams, params);
}

/* Drop every scratch database still there; at exit, and when a command ends */
void
scratch_drop_all(void)
{
	ResetCancelConn();
	for (int i = nscratch - 1; i >= 0; i--)
	{
		char	   *sql;
		PGresult   *res = NULL;

		sql = psprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", fmtId(scratch_names[i]));
		if (server_conn && PQstatus(server_conn) == CONNECTION_OK)
		{
			if (PQtransactionStatus(server_conn) != PQTRANS_IDLE)
				PQclear(PQexec(server_conn, "ROLLBACK"));
			res = PQexec(server_conn, sql);
		}
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		{
			pg_log_warning("could not drop scratch database \"%s\"", esc(scratch_names[i]));
			if (res)
				pg_log_warning_detail("%s", esc(PQresultErrorMessage(res)));
			pg_log_warning_hint("Drop it with DROP DATABASE %s.", esc(fmtId(scratch_names[i])));
		}
		else
			pg_log_info("dropped scratch database \"%s\"", esc(scratch_names[i]));
		PQclear(res);
		free(sql);
		free(scratch_names[i]);
	}
	nscratch = 0;
}

/* atexit: scratch databases never outlive the program */
static void
scratch_atexit(void)
{
	scratch_drop_all();
	if (server_conn)
	{
		if (conn == server_conn)
			conn = NULL;
		PQfinish(server_conn);
		server_conn = NULL;
	}
}

/*
 * The connection to the server the connection options name (connecting
 * on first use, exiting on failure as every database command does), on
 * which scratch databases are created and dropped.  It is also conn.
 */
PGconn *
scratch_server(void)
{
	if (server_conn == NULL)
	{
		connect_db(true);
		server_conn = conn;
		/* "does not exist, skipping" of a drop after a failed create: -v only */
		PQsetNoticeReceiver(server_conn, quiet_notices, NULL);
		if (!cleanup_registered)
		{
			atexit(scratch_atexit);
			cleanup_registered = true;
		}
	}
	return server_conn;
}

/*
 * Create a new, empty scratch database; returns its name, or NULL after
 * reporting.  A role that cannot create databases gets an error naming
 * the CREATEDB right.
 */
char *
scratch_create(void)
{
	PGconn	   *c = scratch_server();
	PGresult   *res;
	char	   *name;
	char	   *sql;

	res = sq(c, "SELECT r.rolcreatedb OR r.rolsuper FROM pg_catalog.pg_roles r"
			 " WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER", 0, NULL);
	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "f") == 0)
	{
		PQclear(res);
		pg_log_error("role \"%s\" cannot create scratch databases", esc(PQuser(c)));
		pg_log_error_detail("The schema commands build the schemas they compare in scratch databases on the server, which needs the CREATEDB right.");
		pg_log_error_hint("Connect as a role with CREATEDB (ALTER ROLE %s CREATEDB) to a development server.",
						  esc(fmtId(PQuser(c))));
		return NULL;
	}
	PQclear(res);

	name = psprintf("pg_migrate_scratch_%d_%d", (int) getpid(), ++scratch_counter);
	sql = psprintf("CREATE DATABASE %s TEMPLATE template0", fmtId(name));
	/* registered first: if the creation is canceled midway, the drop is harmless */
	scratch_names = pg_realloc(scratch_names, sizeof(char *) * (nscratch + 1));
	scratch_names[nscratch++] = pg_strdup(name);
	SetCancelConn(c);
	res = sq(c, sql, 0, NULL);
	free(sql);
	if (res == NULL)
		return NULL;
	PQclear(res);
	pg_log_info("created scratch database \"%s\"", esc(name));
	return name;
}

/*
 * Connect to database dbname of the same server, with the parameters the
 * server connection used (host, port, user, password, SSL...), in UTF8.
 * Returns NULL after reporting.  Ctrl-C cancels this connection's queries.
 */
PGconn *
scratch_connect(const char *dbname)
{
	PQconninfoOption *opts = PQconninfo(scratch_server());
	const char **keywords;
	const char **values;
	int			n = 0,
				max = 3;
	PGconn	   *c;

	for (PQconninfoOption *o = opts; o && o->keyword; o++)
		max++;
	keywords = pg_malloc(sizeof(char *) * max);
	values = pg_malloc(sizeof(char *) * max);
	for (PQconninfoOption *o = opts; o && o->keyword; o++)
	{
		if (o->val == NULL || o->val[0] == '\0' || strcmp(o->keyword, "dbname") == 0 ||
			strcmp(o->keyword, "client_encoding") == 0)
			continue;
		keywords[n] = o->keyword;
		values[n++] = o->val;
	}
	keywords[n] = "dbname", values[n++] = dbname;
	keywords[n] = "client_encoding", values[n++] = "UTF8";
	keywords[n] = NULL, values[n] = NULL;
	c = PQconnectdbParams(keywords, values, false);
	free(keywords);
	free(values);
	PQconninfoFree(opts);
	if (c == NULL || PQstatus(c) == CONNECTION_BAD)
	{
		pg_log_error("could not connect to database \"%s\": %s", esc(dbname),
					 c ? esc(PQerrorMessage(c)) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeReceiver(c, quiet_notices, NULL);
	SetCancelConn(c);
	return c;
}

/* Close a connection this file opened; conn goes back to the server's */
static void
close_conn(PGconn *c)
{
	if (c == NULL)
		return;
	ResetCancelConn();
	if (conn == c)
		conn = server_conn;
	PQfinish(c);
}

/*
 * Options
 */

/* Handle one of SCHEMA_LONG_OPTIONS (optarg); false if c is not one */
bool
schema_option(int c, SchemaOpts *opts)
{
	char	 ***list;
	int		   *n;

	switch (c)
	{
		case SCHEMA_FILE_OPTION:
			opts->schema_file = pg_strdup(optarg);
			return true;
		case SCHEMA_FROM_OPTION:
			opts->from = pg_strdup(optarg);
			return true;
		case SCHEMA_INCLUDE_OPTION:
			list = &opts->include_schemas, n = &opts->ninclude_schemas;
			break;
		case SCHEMA_EXCLUDE_OPTION:
			list = &opts->exclude_schemas, n = &opts->nexclude_schemas;
			break;
		case SCHEMA_EXCLUDE_TABLE_OPTION:
			list = &opts->exclude_tables, n = &opts->nexclude_tables;
			break;
		default:
			return false;
	}
	*list = pg_realloc(*list, sizeof(char *) * (*n + 1));
	(*list)[(*n)++] = pg_strdup(optarg);
	return true;
}

/* Is a desired state given (--schema or --from)? */
bool
schema_opts_given(const SchemaOpts *opts)
{
	return opts->schema_file != NULL || opts->from != NULL;
}

/* Usage errors of the schema options for command (exit 2) */
void
schema_opts_validate(const SchemaOpts *opts, const char *command)
{
	if (opts->schema_file && opts->from)
		usage_error("%s takes --schema or --from, not both", command);
	if (!schema_opts_given(opts) &&
		(opts->ninclude_schemas || opts->nexclude_schemas || opts->nexclude_tables))
		usage_error("--include-schema, --exclude-schema and --exclude-table need --schema or --from");
}

/* A text[] literal of the strings, for a parameter */
static char *
text_array(char **items, int n)
{
	PQExpBufferData buf;

	initPQExpBuffer(&buf);
	appendPQExpBufferChar(&buf, '{');
	for (int i = 0; i < n; i++)
	{
		if (i)
			appendPQExpBufferChar(&buf, ',');
		appendPQExpBufferChar(&buf, '"');
		for (const char *p = items[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				appendPQExpBufferChar(&buf, '\\');
			appendPQExpBufferChar(&buf, *p);
		}
		appendPQExpBufferChar(&buf, '"');
	}
	appendPQExpBufferChar(&buf, '}');
	return buf.data;
}

/* A glob (* any characters, ? one) as a LIKE pattern with escape \ */
static char *
glob_to_like(const char *glob)
{
	PQExpBufferData buf;

	initPQExpBuffer(&buf);
	for (const char *p = glob; *p; p++)
	{
		if (*p == '*')
			appendPQExpBufferChar(&buf, '%');
		else if (*p == '?')
			appendPQExpBufferChar(&buf, '_');
		else
		{
			if (*p == '%' || *p == '_' || *p == '\\')
				appendPQExpBufferChar(&buf, '\\');
			appendPQExpBufferChar(&buf, *p);
		}
	}
	return buf.data;
}

/* The extension's schema in c, quoted; NULL if it is not installed there */
char *
ext_schema_in(PGconn *c)
{
	PGresult   *res;
	char	   *schema = NULL;

	res = sq(c, "SELECT pg_catalog.quote_ident(n.nspname)"
			 " FROM pg_catalog.pg_extension e"
			 " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
			 " WHERE e.extname OPERATOR(pg_catalog.=) 'migrations'", 0, NULL);
	if (res && PQntuples(res) == 1)
		schema = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return schema;
}

/* Entries of one collection of model m whose key does not match a pattern */
#define KEEP_RELATIONS(coll) \
	"COALESCE((SELECT pg_catalog.jsonb_object_agg(e.key, e.value)" \
	"  FROM pg_catalog.jsonb_each(m.m OPERATOR(pg_catalog.->) '" coll "') e" \
	"  WHERE NOT EXISTS (SELECT FROM pg_catalog.unnest($2::pg_catalog.text[]) p" \
	"   WHERE (pg_catalog.parse_ident(e.key))[2] OPERATOR(pg_catalog.~~) p)" \
	"  AND NOT EXISTS (SELECT FROM pg_catalog.unnest($3::pg_catalog.text[]) p" \
	"   WHERE pg_catalog.array_to_string(pg_catalog.parse_ident(e.key), '.') OPERATOR(pg_catalog.~~) p))," \
	" '{}'::pg_catalog.jsonb)"

/*
 * snapshot
 *		The model of the database c, as the schema commands compare it:
 *		migrate_snapshot of the schemas the options select (default: every
 *		schema but the system ones and the extensions'; --include-schema
 *		names them; --exclude-schema takes some away), without the tables,
 *		views and sequences whose name matches an --exclude-table pattern
 *		(a pattern with a dot is matched against schema.name, one without
 *		against the name), without the migrations extension itself (it is
 *		the tool, not the schema; nor its schema, if that is not public and
 *		holds nothing else of the model) and without "sizes": scratch databases
 *		are empty, so their sizes would hide every long lock a real
 *		database would take; without them migrate_diff flags them all.
 *		Returns the model's text, or NULL after reporting.
 */
static char *
snapshot(PGconn *c, const SchemaOpts *opts)
{
	char	   *ext = ext_schema_in(c);
	char	   *sql;
	const char *params[4];
	char	  **names = pg_malloc(sizeof(char *) * (opts->nexclude_tables + 1));
	char	  **quals = pg_malloc(sizeof(char *) * (opts->nexclude_tables + 1));
	int			nnames = 0,
				nquals = 0;
	PGresult   *res;
	char	   *model;

	if (ext == NULL)
	{
		pg_log_error("extension \"migrations\" is not installed in database \"%s\"", esc(PQdb(c)));
		pg_log_error_hint("Its snapshot function reads the schema: run CREATE EXTENSION migrations there (its own objects are left out of the comparison).");
		return NULL;
	}
	for (int i = 0; i < opts->nexclude_tables; i++)
	{
		if (strchr(opts->exclude_tables[i], '.'))
			quals[nquals++] = glob_to_like(opts->exclude_tables[i]);
		else
			names[nnames++] = glob_to_like(opts->exclude_tables[i]);
	}

	/* $1: the schemas; NULL is migrate_snapshot's default */
	params[0] = NULL;
	if (opts->ninclude_schemas > 0 || opts->nexclude_schemas > 0)
	{
		char	   *lsql;
		const char *lparams[2];

		lparams[0] = opts->ninclude_schemas ?
			text_array(opts->include_schemas, opts->ninclude_schemas) : NULL;
		lparams[1] = text_array(opts->exclude_schemas, opts->nexclude_schemas);
		/* migrate_snapshot's default list, or the included names; minus the excluded */
		lsql = "SELECT COALESCE(pg_catalog.array_agg(s ORDER BY s), '{}')::pg_catalog.text"
			" FROM (SELECT pg_catalog.unnest($1::pg_catalog.text[]) AS s WHERE $1 IS NOT NULL"
			"  UNION"
			"  SELECT n.nspname::pg_catalog.text FROM pg_catalog.pg_namespace n WHERE $1 IS NULL"
			"   AND n.nspname OPERATOR(pg_catalog.<>) ALL ('{pg_catalog,information_schema,pg_toast}'::pg_catalog.text[])"
			"   AND n.nspname OPERATOR(pg_catalog.!~) '^pg_(toast_)?temp_'"
			"   AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d"
			"    WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass"
			"    AND d.objid OPERATOR(pg_catalog.=) n.oid AND d.deptype OPERATOR(pg_catalog.=) 'e')) l"
			" WHERE s OPERATOR(pg_catalog.<>) ALL ($2::pg_catalog.text[])";
		res = sq(c, lsql, 2, lparams);
		if (res == NULL)
			return NULL;
		params[0] = pg_strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	params[1] = text_array(names, nnames);
	params[2] = text_array(quals, nquals);

	/*
	 * The extension's own schema, when it is not public and no object of
	 * the model is in it, is the tool's too: left out like the extension.
	 */
	sql = psprintf("WITH f AS (SELECT (pg_catalog.jsonb_set(pg_catalog.jsonb_set(pg_catalog.jsonb_set(m.m,"
				   " '{tables}', " KEEP_RELATIONS("tables") "),"
				   " '{views}', " KEEP_RELATIONS("views") "),"
				   " '{sequences}', " KEEP_RELATIONS("sequences") ")"
				   " OPERATOR(pg_catalog.-) 'sizes'::pg_catalog.text"
				   " OPERATOR(pg_catalog.#-) '{extensions,migrations}'::pg_catalog.text[]) AS f"
				   " FROM (SELECT %s.migrate_snapshot($1::pg_catalog.text[]) AS m) m)"
				   " SELECT (CASE WHEN x.nspname IS NULL OR EXISTS (SELECT"
				   "   FROM pg_catalog.jsonb_each(f.f) c,"
				   "   pg_catalog.jsonb_object_keys(CASE WHEN c.key OPERATOR(pg_catalog.<>) ALL ('{schemas,extensions,format}')"
				   "    AND pg_catalog.jsonb_typeof(c.value) OPERATOR(pg_catalog.=) 'object' THEN c.value ELSE '{}' END) k"
				   "   WHERE pg_catalog.starts_with(k, pg_catalog.quote_ident(x.nspname) OPERATOR(pg_catalog.||) '.'))"
				   "  THEN f.f ELSE f.f OPERATOR(pg_catalog.#-) ARRAY['schemas', x.nspname::pg_catalog.text] END)::pg_catalog.text"
				   " FROM f LEFT JOIN (SELECT n.nspname FROM pg_catalog.pg_extension e"
				   "  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
				   "  WHERE e.extname OPERATOR(pg_catalog.=) 'migrations'"
				   "  AND n.nspname OPERATOR(pg_catalog.<>) 'public') x ON true", ext);
	res = sq(c, sql, 3, params);
	free(sql);
	if (res == NULL)
		return NULL;
	model = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return model;
}

/*
 * The desired state from a DDL file
 */

/*
 * The line of the file that character position pos (1-based, in
 * characters, as the server counts) of the UTF-8 text falls on.
 */
static int
position_line(const char *text, int pos)
{
	int			line = 1;
	int			chars = 0;

	for (const unsigned char *p = (const unsigned char *) text; *p; p++)
	{
		if ((*p & 0xC0) != 0x80)
		{
			if (++chars >= pos)
				break;
		}
		if (*p == '\n')
			line++;
	}
	return line;
}

static bool
ident_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		(ch >= '0' && ch <= '9') || ch == '_' || ch >= 0x80;
}

/*
 * statement_line
 *		The line on which statement k (from 0; statements holding only
 *		blanks and comments do not count, as the server skips them) of the
 *		SQL text starts, or 0 if there are fewer.  Statements end at a
 *		semicolon outside quotes ('...', E'...' with its backslashes,
 *		"...", dollar quotes), comments (-- and nested slash-star) and
 *		parentheses; psql splits a file the same way (a BEGIN ATOMIC
 *		body is not recognized here: an error after one may be given the
 *		wrong line).  Only used to say where an error without a position
 *		happened; the text is run as one string.
 */
static int
statement_line(const char *text, int k)
{
	const unsigned char *p = (const unsigned char *) text;
	int			line = 1;
	int			n = 0;
	int			start = 0;		/* line of the current statement, 0: none yet */
	int			depth = 0;

	while (*p)
	{
		if (*p == '\n')
		{
			line++;
			p++;
		}
		else if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f')
			p++;
		else if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n')
				p++;
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			int			nest = 1;

			for (p += 2; *p && nest > 0; p++)
			{
				if (*p == '\n')
					line++;
				else if (p[0] == '/' && p[1] == '*')
					nest++, p++;
				else if (p[0] == '*' && p[1] == '/')
					nest--, p++;
			}
		}
		else if (*p == ';' && start == 0)
			p++;				/* an empty statement */
		else
		{
			if (start == 0)
			{
				if (n == k)
					return line;
				start = line;
			}
			if (*p == ';' && depth == 0)
			{
				n++;
				start = 0;
				p++;
			}
			else if (*p == '(' || *p == ')')
			{
				depth += *p == '(' ? 1 : (depth > 0 ? -1 : 0);
				p++;
			}
			else if (*p == '\'' || *p == '"')
			{
				unsigned char q = *p;
				bool		escapes = q == '\'' && (const char *) p > text &&
					(p[-1] == 'E' || p[-1] == 'e') &&
					((const char *) p - 1 == text || !ident_char(p[-2]));

				for (p++; *p; p++)
				{
					if (*p == '\n')
						line++;
					if (escapes && *p == '\\' && p[1])
					{
						if (p[1] == '\n')
							line++;
						p++;
					}
					else if (*p == q)
					{
						if (p[1] == q)
							p++;	/* a doubled quote */
						else
							break;
					}
				}
				if (*p)
					p++;
			}
			else if (*p == '$' && ((const char *) p == text || !ident_char(p[-1])))
			{
				const unsigned char *t = p + 1;
				size_t		taglen;

				while (*t && ident_char(*t) && !(t == p + 1 && *t >= '0' && *t <= '9'))
					t++;
				if (*t != '$')
				{
					p++;		/* a parameter or a plain dollar */
					continue;
				}
				taglen = (size_t) (t - p + 1);
				for (p = t + 1; *p && strncmp((const char *) p, (const char *) t - taglen + 1, taglen) != 0; p++)
					if (*p == '\n')
						line++;
				if (*p)
					p += taglen;
			}
			else
			{
				/* a word: its dollar signs, digits and letters */
				for (p++; *p && (ident_char(*p) || *p == '$'); p++)
					;
			}
		}
	}
	return 0;
}

/*
 * Report an error of the DDL file as "file:line: message": the line of
 * the error's position when the server gives one, otherwise that of the
 * statement that failed (the done-th: done statements had succeeded).
 */
static void
report_ddl_error(const PGresult *res, const char *path, const char *text, int done)
{
	const char *position = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);

	report_result_error_at(res, path, position ? position_line(text, atoi(position)) :
						   statement_line(text, done));
}

/*
 * Blank the psql meta-commands that pg_dump writes around a dump
 * (\restrict KEY and \unrestrict KEY, lines of their own), keeping every
 * other character in place so that error positions keep their lines.
 * Other backslash commands are left for the server to refuse.
 */
static void
blank_dump_guards(char *text)
{
	char	   *line = text;

	while (*line)
	{
		char	   *end = strchr(line, '\n');

		if (strncmp(line, "\\restrict ", 10) == 0 || strncmp(line, "\\unrestrict ", 12) == 0)
			for (char *p = line; p < (end ? end : line + strlen(line)); p++)
				*p = ' ';
		if (end == NULL)
			break;
		line = end + 1;
	}
}

/*
 * Run the DDL text of file path on c as one simple-query string (one
 * implicit transaction), counting the statements that succeed so that an
 * error without a position can still be given its statement's line.
 * COPY FROM STDIN is refused, COPY TO STDOUT read and discarded.  Returns
 * false after reporting.
 */
static bool
run_ddl(PGconn *c, const char *path, const char *text)
{
	PGresult   *res;
	PGresult   *error = NULL;
	int			done = 0;

	if (!PQsendQuery(c, text))
	{
		pg_log_error("%s: %s", esc(path), esc(PQerrorMessage(c)));
		return false;
	}
	while ((res = PQgetResult(c)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			done++;
		else if (st == PGRES_COPY_IN)
			PQputCopyEnd(c, "COPY FROM STDIN cannot be used in a schema file");
		else if (st == PGRES_COPY_OUT)
		{
			char	   *buf;

			while (PQgetCopyData(c, &buf, 0) > 0)
				PQfreemem(buf);
		}
		else if (st != PGRES_EMPTY_QUERY && error == NULL)
		{
			error = res;
			continue;
		}
		PQclear(res);
	}
	if (error)
	{
		report_ddl_error(error, path, text, done);
		PQclear(error);
		return false;
	}
	return true;
}

/*
 * desired_from_file
 *		Run the DDL file path in a new scratch database, as one
 *		simple-query string (as psql -f would, statement by statement,
 *		but all or nothing), then snapshot it on a fresh connection (the
 *		file's SET commands stay with its own session) after creating the
 *		extension there.  Returns the model, or NULL after reporting (an
 *		error of the file as "file:line: message").
 */
static char *
desired_from_file(const SchemaOpts *opts)
{
	char	   *text;
	size_t		len;
	MgDiags		diags = {0};
	char	   *db;
	PGconn	   *c;
	PGresult   *res;
	char	   *model;

	if (!mg_read_file(opts->schema_file, &text, &len, &diags))
	{
		report_diags(&diags);
		mg_diags_free(&diags);
		return NULL;
	}
	if (memchr(text, '\0', len))
	{
		pg_log_error("%s: the schema file contains a zero byte", esc(opts->schema_file));
		return NULL;
	}
	blank_dump_guards(text);
	if ((db = scratch_create()) == NULL || (c = scratch_connect(db)) == NULL)
		return NULL;
	pg_log_info("running \"%s\" in scratch database \"%s\"", esc(opts->schema_file), esc(db));
	if (!run_ddl(c, opts->schema_file, text))
	{
		pg_log_error_hint("The schema file was run in a scratch database, which has been dropped.");
		close_conn(c);
		return NULL;
	}
	close_conn(c);
	free(text);

	if ((c = scratch_connect(db)) == NULL)
		return NULL;
	res = sq(c, "CREATE EXTENSION IF NOT EXISTS migrations", 0, NULL);
	if (res == NULL)
	{
		close_conn(c);
		return NULL;
	}
	PQclear(res);
	model = snapshot(c, opts);
	close_conn(c);
	return model;
}

/* The desired state from the database --from names (read only) */
static char *
desired_from_db(const SchemaOpts *opts)
{
	const char *keywords[] = {"dbname", "client_encoding", NULL};
	const char *values[] = {opts->from, "UTF8", NULL};
	PGconn	   *c = PQconnectdbParams(keywords, values, true);
	char	   *model;

	if (c == NULL || PQstatus(c) == CONNECTION_BAD)
	{
		pg_log_error("could not connect to the --from database: %s",
					 c ? esc(PQerrorMessage(c)) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeReceiver(c, quiet_notices, NULL);
	SetCancelConn(c);
	model = snapshot(c, opts);
	close_conn(c);
	return model;
}

/*
 * compute_diff
 *		The two diffs of a schema command: *up turns what the revisions of
 *		set produce into the desired state, *down the reverse.  Builds the
 *		desired state as the options say, then the current state in a
 *		scratch database (the extension, the files loaded as "load" loads
 *		them, upgrade heads), snapshots both and runs migrate_diff both ways in
 *		the current state's database.  The scratch databases are dropped
 *		before returning, on success and on failure.  Results have the
 *		columns statement, object, hazard, note, in execution order.
 *		Returns false after reporting.
 */
static bool
compute_diff(const SchemaOpts *opts, const MgRevSet *set, PGresult **up, PGresult **down)
{
	char	   *db;
	PGconn	   *c = NULL;
	PGresult   *res;
	char	   *current = NULL;
	char	   *desired = NULL;
	char	   *ext;
	char	   *sql;
	const char *params[2];
	int			counts[3];
	bool		ok = false;

	*up = *down = NULL;
	if (set->n > 0 && !check_row_sizes(set))
		return false;

	/* the desired state first: a bad file or --from fails before the load */
	desired = opts->schema_file ? desired_from_file(opts) : desired_from_db(opts);
	if (desired == NULL)
		goto done;

	/* the current state: the revisions upgraded to heads */
	if ((db = scratch_create()) == NULL || (c = scratch_connect(db)) == NULL)
		goto done;
	pg_log_info("upgrading %d revisions in scratch database \"%s\"", set->n, esc(db));
	if (set->n > 0)
	{
		conn = c;				/* load_revisions works on conn */
		if (!load_revisions(set, false, true, counts))
		{
			conn = server_conn;
			pg_log_error_hint("The revisions could not be loaded into a scratch database.");
			goto done;
		}
		conn = server_conn;
		if ((ext = ext_schema_in(c)) == NULL)
			goto done;
		sql = psprintf("SELECT pg_catalog.count(*) FROM %s.migrate_upgrade('heads')", ext);
		if ((res = sq(c, "BEGIN ISOLATION LEVEL READ COMMITTED", 0, NULL)) == NULL)
			goto done;
		PQclear(res);
		if ((res = sq(c, sql, 0, NULL)) == NULL)
		{
			pg_log_error_hint("Upgrading the revisions to heads failed in a scratch database.");
			goto done;
		}
		PQclear(res);
		if ((res = sq(c, "COMMIT", 0, NULL)) == NULL)
			goto done;
		PQclear(res);
	}
	else if ((res = sq(c, "CREATE EXTENSION migrations", 0, NULL)) == NULL)
		goto done;
	else
		PQclear(res);
	if ((current = snapshot(c, opts)) == NULL)
		goto done;

	/* both diffs, in the current state's database */
	ext = ext_schema_in(c);
	sql = psprintf("SELECT statement, object, hazard, note"
				   " FROM %s.migrate_diff($1::pg_catalog.jsonb, $2::pg_catalog.jsonb) ORDER BY step",
				   ext);
	params[0] = current, params[1] = desired;
	if ((*up = sq(c, sql, 2, params)) == NULL)
		goto done;
	params[0] = desired, params[1] = current;
	if ((*down = sq(c, sql, 2, params)) == NULL)
		goto done;
	ok = true;

done:
	close_conn(c);
	scratch_drop_all();
	free(current);
	free(desired);
	if (!ok)
	{
		PQclear(*up);
		PQclear(*down);
		*up = *down = NULL;
	}
	return ok;
}

/*
 * One body of a generated revision: every statement followed by ";", its
 * hazard (and note) as a comment on the line before it, a row without a
 * statement as "-- not generated: <note>".
 */
static char *
format_body(const PGresult *res)
{
	PQExpBufferData buf;

	initPQExpBuffer(&buf);
	appendPQExpBufferStr(&buf, "-- Generated by pg_migrate new --autogenerate: review it before use.\n");
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *note = PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3);

		if (PQgetisnull(res, i, 0))
		{
			appendPQExpBuffer(&buf, "-- not generated: %s: %s\n", PQgetvalue(res, i, 1),
							  note ? note : "(no note)");
			continue;
		}
		if (!PQgetisnull(res, i, 2))
			appendPQExpBuffer(&buf, "-- hazard: %s%s%s\n", PQgetvalue(res, i, 2),
							  note ? ": " : "", note ? note : "");
		else if (note)
			appendPQExpBuffer(&buf, "-- note: %s\n", note);
		{
			const char *stmt = PQgetvalue(res, i, 0);
			size_t		n = strlen(stmt);

			while (n > 0 && (stmt[n - 1] == '\n' || stmt[n - 1] == ' '))
				n--;
			appendBinaryPQExpBuffer(&buf, stmt, n);
			appendPQExpBufferStr(&buf, n > 0 && stmt[n - 1] == ';' ? "\n" : ";\n");
		}
	}
	if (PQExpBufferBroken(&buf))
		pg_fatal("out of memory");
	return buf.data;
}

/*
 * autogenerate_bodies
 *		For new --autogenerate: the upgrade and downgrade bodies that turn
 *		what the revisions of set produce into the desired state and back
 *		(see compute_diff).  *upgrade is NULL when there is nothing to do.
 *		Returns false after reporting.
 */
bool
autogenerate_bodies(const SchemaOpts *opts, const MgRevSet *set,
					char **upgrade, char **downgrade)
{
	PGresult   *up,
			   *down;

	*upgrade = *downgrade = NULL;
	if (!compute_diff(opts, set, &up, &down))
		return false;
	if (PQntuples(up) > 0 || PQntuples(down) > 0)
	{
		*upgrade = format_body(up);
		*downgrade = format_body(down);
	}
	PQclear(up);
	PQclear(down);
	return true;
}

/*
 * check_schema
 *		check --schema/--from: exit 0 when upgrading the revisions of set
 *		from an empty database gives the desired state, 1 (after listing
 *		the upgrade statements that would be needed, with their objects, on
 *		standard output) when it does not or on a failure.
 */
int
check_schema(const SchemaOpts *opts, const MgRevSet *set)
{
	PGresult   *up,
			   *down;
	const char *desired = opts->schema_file ? opts->schema_file : "the --from database";
	int			n;

	if (!compute_diff(opts, set, &up, &down))
		return EXIT_FAILED;
	n = PQntuples(up);
	if (n == 0 && PQntuples(down) == 0)
	{
		printf("no differences: upgrading the revisions to heads gives the schema of %s\n",
			   esc(desired));
		PQclear(up);
		PQclear(down);
		return 0;
	}
	for (int i = 0; i < n; i++)
	{
		if (PQgetisnull(up, i, 0))
			printf("%s: not generated: %s\n", esc(PQgetvalue(up, i, 1)),
				   PQgetisnull(up, i, 3) ? "" : esc(PQgetvalue(up, i, 3)));
		else
			printf("%s: %s%s%s\n", esc(PQgetvalue(up, i, 1)), esc(PQgetvalue(up, i, 0)),
				   PQgetisnull(up, i, 2) ? "" : "  -- hazard: ",
				   PQgetisnull(up, i, 2) ? "" : esc(PQgetvalue(up, i, 2)));
	}
	fflush(stdout);
	pg_log_error("upgrading the revisions to heads does not give the schema of %s", esc(desired));
	if (n == 1)
		pg_log_error_detail("There is 1 difference; the statement that would be needed is listed above.");
	else
		pg_log_error_detail("There are %d differences; the statements that would be needed are listed above.", n);
	pg_log_error_hint("Write them as a revision with \"%s new --autogenerate -m MESSAGE %s DIR...\", and review it.",
					  progname, opts->schema_file ? "--schema FILE" : "--from CONNINFO");
	PQclear(up);
	PQclear(down);
	return EXIT_FAILED;
}
