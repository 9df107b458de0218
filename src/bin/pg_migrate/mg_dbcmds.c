/*-------------------------------------------------------------------------
 *
 * mg_dbcmds.c
 *	  pg_migrate's commands on a database: load, and the query commands
 *	  (upgrade, downgrade, stamp, heads, current, history).
 *
 * Every command here connects with libpq, runs its statements in one READ
 * COMMITTED transaction it begins itself, and prints what the server
 * returned: a query command calls one of the extension's functions and
 * prints the result as psql's aligned table; load reads the revision files
 * (read_dirs), sends them with COPY into a temporary table, refuses files
 * that change an applied revision, registers them with migrate_register in
 * file order and validates the graph with migrate_check before committing.
 *
 * This file owns the connection (its options, password prompt, encoding,
 * cancel handling), the reporting of server errors with their fields, and
 * the SQL the client sends: every query is schema-qualified and passes
 * values as parameters.  It must not plan or change migration state
 * itself: planning and the version table are the extension's, reached
 * only through its SQL functions; and it sends no SET (see
 * begin_transaction).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"
#include "common/string.h"
#include "fe_utils/cancel.h"
#include "fe_utils/print.h"
#include "mb/pg_wchar.h"
#include "pqexpbuffer.h"

#include "pg_migrate.h"

PGconn	   *conn;
char	   *ext_schema;		/* quoted schema of the extension */

/* libpq's error message, without its final line end, escaped */
static const char *
esc_conn_error(void)
{
	char	   *msg = pg_strdup(PQerrorMessage(conn));
	size_t		n = strlen(msg);
	const char *e;

	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	e = esc(msg);
	free(msg);
	return e;
}


/* Report a failed query's error with its server fields */
void
report_result_error(const PGresult *res)
{
	report_result_error_at(res, NULL, 0);
}

/*
 * report_result_error_at
 *		Report a failed query's error with its server fields (DETAIL, HINT,
 *		one "context:" line per line of CONTEXT, the SQLSTATE with -v).  With
 *		path, the primary message is given as "path:line: message" (or
 *		"path: message" when line is 0 or less), for an error in a file the
 *		client sent.
 */
void
report_result_error_at(const PGresult *res, const char *path, int line)
{
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (primary == NULL)
	{
		/* a client-side failure, such as a lost connection */
		if (path)
			pg_log_error("%s: %s", esc(path), esc(PQresultErrorMessage(res)));
		else
			pg_log_error("%s", esc_conn_error());
		return;
	}
	if (path && line > 0)
		pg_log_error("%s:%d: %s", esc(path), line, esc(primary));
	else if (path)
		pg_log_error("%s: %s", esc(path), esc(primary));
	else
		pg_log_error("%s", esc(primary));
	if (detail)
		pg_log_error_detail("%s", esc(detail));
	if (hint)
		pg_log_error_hint("%s", esc(hint));
	if (context)
	{
		/* one "context:" line per line of context, innermost first */
		char	   *copy = pg_strdup(context);
		char	   *save;

		for (char *line = strtok_r(copy, "\n", &save); line;
			 line = strtok_r(NULL, "\n", &save))
			fprintf(stderr, "%s: context: %s\n", progname, esc(line));
		free(copy);
	}
	if (sqlstate && verbosity > 0)
		fprintf(stderr, "%s: sqlstate: %s\n", progname, esc(sqlstate));
}

/*
 * Run a query with text parameters.  On failure report it and return NULL
 * (the caller exits; the server rolls back the open transaction when the
 * connection closes).
 */
PGresult *
run_query(const char *sql, int nparams, const char *const *params)
{
	PGresult   *res;

	/* Ctrl-C between statements: send no more (COMMIT included) */
	if (CancelRequested)
	{
		pg_log_error("canceled");
		return NULL;
	}
	if (verbosity > 1)
		pg_log_info("query: %s", esc(sql));
	res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
		PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		report_result_error(res);
		failure_remember(res);
		PQclear(res);
		return NULL;
	}
	return res;
}

/* Run a statement without parameters; false after reporting a failure */
bool
run_command(const char *sql)
{
	PGresult   *res = run_query(sql, 0, NULL);

	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

/*
 * Start pg_migrate's transaction.  Migrations serialize on the extension's
 * advisory lock and must then see what the previous holder committed: READ
 * COMMITTED does, a transaction snapshot taken before the wait would end in
 * a serialization failure.  So a default of REPEATABLE READ or SERIALIZABLE
 * does not apply to pg_migrate's own transactions.  The level is given to
 * BEGIN, never set for the session: behind a pooler in transaction mode
 * (pgbouncer) a session setting would stay on the server connection and
 * apply to the pooler's later clients.  pg_migrate sends no SET and no
 * set_config(); its only session setting is application_name, given when
 * connecting.
 */
bool
begin_transaction(void)
{
	return run_command("BEGIN ISOLATION LEVEL READ COMMITTED");
}

/*
 * Disconnect after a failure.  A transaction still open is rolled back
 * first: the server would roll it back when the connection closes, but a
 * pooler would rather get its server connection back idle than drop it.
 */
void
close_db(void)
{
	PGTransactionStatusType ts = PQtransactionStatus(conn);

	if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
		PQclear(PQexec(conn, "ROLLBACK"));
	PQfinish(conn);
}

/* Server notices: the steps being run, and notices of the bodies */
static void
notice_receiver(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);

	if (primary == NULL)
		return;
	fprintf(stderr, "%s:  %s\n", severity ? esc(severity) : "NOTICE", esc(primary));
	if (detail && verbosity > 0)
		fprintf(stderr, "DETAIL:  %s\n", esc(detail));
	fflush(stderr);
}

/*
 * Connect.  load sends file contents, which are UTF-8, so it talks UTF8;
 * the other commands use the locale's encoding for their arguments and
 * output, as psql does, unless PGCLIENTENCODING says otherwise.
 */
void
connect_db(bool utf8)
{
	const char *keywords[9];
	const char *values[9];
	int			n = 0;
	char	   *password = NULL;
	bool		again;

	if (conn_opts.force_password)
		password = simple_prompt("Password: ", false);
	do
	{
		n = 0;
		keywords[n] = "host", values[n++] = conn_opts.host;
		keywords[n] = "port", values[n++] = conn_opts.port;
		keywords[n] = "user", values[n++] = conn_opts.username;
		keywords[n] = "password", values[n++] = password;
		keywords[n] = "dbname", values[n++] = conn_opts.dbname;
		keywords[n] = "fallback_application_name", values[n++] = progname;
		keywords[n] = "client_encoding";
		values[n++] = utf8 ? "UTF8" : getenv("PGCLIENTENCODING") ? NULL : "auto";
		keywords[n] = NULL, values[n] = NULL;

		conn = PQconnectdbParams(keywords, values, true);
		if (conn == NULL)
			pg_fatal("could not connect to the database: out of memory");
		again = false;
		if (PQstatus(conn) == CONNECTION_BAD && PQconnectionNeedsPassword(conn) &&
			password == NULL && !conn_opts.no_password)
		{
			PQfinish(conn);
			password = simple_prompt("Password: ", false);
			again = true;
		}
	} while (again);

	if (PQstatus(conn) == CONNECTION_BAD)
	{
		pg_log_error("%s", esc_conn_error());
		exit(EXIT_FAILED);
	}
	PQsetNoticeReceiver(conn, notice_receiver, NULL);

	/*
	 * From here on Ctrl-C sends a cancel request: the server rolls back the
	 * running statement, and the commands check CancelRequested between
	 * statements.  Before, the default action ends the program, which has
	 * changed nothing yet.
	 */
	setup_cancel_handler(NULL);
	SetCancelConn(conn);
	pg_log_info("connected to database \"%s\" as \"%s\" (server %d)",
				esc(PQdb(conn)), esc(PQuser(conn)), PQserverVersion(conn));
}

/*
 * Find the extension's schema.  Returns false if the extension is not
 * installed in this database.
 */
static bool
find_extension(void)
{
	PGresult   *res;

	res = run_query("SELECT pg_catalog.quote_ident(n.nspname)"
					" FROM pg_catalog.pg_extension e"
					" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
					" WHERE e.extname OPERATOR(pg_catalog.=) 'migrations'", 0, NULL);
	if (res == NULL)
		exit(EXIT_FAILED);
	if (PQntuples(res) == 0)
	{
		PQclear(res);
		return false;
	}
	ext_schema = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/* Find the extension's schema, or report that it is missing and exit 1 */
void
require_extension(void)
{
	if (!find_extension())
	{
		pg_log_error("extension \"migrations\" is not installed in database \"%s\"",
					 esc(PQdb(conn)));
		pg_log_error_hint("Run \"%s load DIR...\", or CREATE EXTENSION migrations.",
						  progname);
		PQfinish(conn);
		exit(EXIT_FAILED);
	}
}

/*
 * Print a result in the output format the options chose (mg_output.c):
 * psql's aligned table by default, every header and cell escaped.
 */
void
print_result(const PGresult *res)
{
	output_result(res);
}

/*
 * Parse the options of a database command: the connection options, and
 * --purge where purge is not NULL.  Returns the index of the first operand.
 */
int
parse_db_options(int argc, char **argv, bool *purge)
{
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		OUTPUT_LONG_OPTIONS,
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	static struct option purge_long_options[] = {
		CONN_LONG_OPTIONS,
		OUTPUT_LONG_OPTIONS,
		{"purge", no_argument, NULL, 1},
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	int			c;

	while ((c = getopt_long(argc, argv, CONN_SHORT_OPTIONS OUTPUT_SHORT_OPTIONS,
							purge ? purge_long_options : long_options, NULL)) != -1)
	{
		if (conn_option(c) || output_option(c))
			continue;
		if (c == 1 && purge != NULL)
		{
			*purge = true;
			continue;
		}
		bad_option();
	}
	return optind;
}

/*
 * The query commands: one call of one of the extension's functions each,
 * its result printed as a table.
 */

/* The columns of a plan's steps, as upgrade and downgrade print them */
#define STEP_COLUMNS "revision, direction, message, duration"

/*
 * The command and target of a run of steps (upgrade, downgrade, stamp),
 * for the line run_listing prints when there was nothing to do; NULL for
 * the listings.
 */
static const char *steps_command;
static const char *steps_target;

/*
 * Connect, call function (a call such as "migrate_upgrade($1)") of the
 * extension's schema for columns in a transaction of its own, and print
 * the result.  With --format=json every column of the function is
 * printed, in its own type (arrays as arrays), whatever columns says.
 * Returns the exit status.
 */
int
run_listing(const char *columns, const char *function, int nparams,
			const char *const *params)
{
	char	   *sql;
	PGresult   *res;

	connect_db(false);
	require_extension();
	if (output_format == OUTPUT_JSON)
		columns = "*";
	sql = psprintf("SELECT %s FROM %s.%s", columns, ext_schema, function);
	if (!begin_transaction())
	{
		close_db();
		return EXIT_FAILED;
	}
	res = run_query(sql, nparams, params);
	if (res == NULL || !run_command("COMMIT"))
	{
		PQclear(res);
		if (failure_direction)
			failure_log(failure_direction);
		close_db();
		return EXIT_FAILED;
	}
	if (!(steps_command && nothing_to_do(res, steps_command, steps_target)))
		print_result(res);
	PQclear(res);
	PQfinish(conn);
	return 0;
}

/* pg_migrate upgrade [TARGET] */
int
cmd_upgrade(int argc, char **argv)
{
	bool		stepwise = stepwise_option(&argc, argv);
	int			first = parse_db_options(argc, argv, NULL);
	const char *params[1];

	if (argc - first > 1)
		usage_error("upgrade takes at most one target");
	params[0] = argc > first ? operand(argv[first]) : "heads";
	failure_direction = "upgrade";
	steps_command = "upgrade", steps_target = params[0];
	if (stepwise)
		return run_stepwise_call("migrate_upgrade_stepwise", params[0]);
	return run_listing(STEP_COLUMNS, "migrate_upgrade($1)", 1, params);
}

/* pg_migrate downgrade TARGET */
int
cmd_downgrade(int argc, char **argv)
{
	bool		stepwise = stepwise_option(&argc, argv);
	int			first = parse_db_options(argc, argv, NULL);
	const char *params[1];

	if (argc - first != 1)
		usage_error("downgrade needs one target");
	params[0] = operand(argv[first]);
	failure_direction = "downgrade";
	steps_command = "downgrade", steps_target = params[0];
	if (stepwise)
		return run_stepwise_call("migrate_downgrade_stepwise", params[0]);
	return run_listing(STEP_COLUMNS, "migrate_downgrade($1)", 1, params);
}

/* pg_migrate stamp [--purge] TARGET...: the targets as one string */
int
cmd_stamp(int argc, char **argv)
{
	bool		purge = false;
	int			first = parse_db_options(argc, argv, &purge);
	PQExpBufferData targets;
	const char *params[2];

	if (argc - first < 1)
		usage_error("stamp needs a target");
	initPQExpBuffer(&targets);
	for (int i = first; i < argc; i++)
		appendPQExpBuffer(&targets, "%s%s", i > first ? " " : "", operand(argv[i]));
	params[0] = targets.data;
	params[1] = purge ? "true" : "false";
	failure_direction = "stamp";
	steps_command = "stamp", steps_target = params[0];
	return run_listing("revision", "migrate_stamp($1, $2::pg_catalog.bool)", 2, params);
}

/* pg_migrate heads */
int
cmd_heads(int argc, char **argv)
{
	if (parse_db_options(argc, argv, NULL) < argc)
		usage_error("heads takes no arguments");
	return run_listing("revision,"
					   " pg_catalog.array_to_string(branch_labels, ', ') AS branch_labels,"
					   " CASE WHEN is_effective_head THEN 'effective head' ELSE 'head' END AS kind,"
					   " message",
					   "migrate_heads()", 0, NULL);
}

/* pg_migrate current */
int
cmd_current(int argc, char **argv)
{
	if (parse_db_options(argc, argv, NULL) < argc)
		usage_error("current takes no arguments");
	return run_listing("revision,"
					   " pg_catalog.array_to_string(branch_labels, ', ') AS branch_labels,"
					   " CASE WHEN is_effective_head THEN 'effective head'"
					   " WHEN is_head THEN 'head' ELSE '' END AS kind,"
					   " message",
					   "migrate_current()", 0, NULL);
}

/* pg_migrate history [--oneline] [RANGE] */
int
cmd_history(int argc, char **argv)
{
	bool		oneline = take_flag(&argc, argv, "--oneline");
	int			first = parse_db_options(argc, argv, NULL);
	const char *params[1];

	if (argc - first > 1)
		usage_error("history takes at most one range");
	params[0] = argc > first ? operand(argv[first]) : NULL;
	if (oneline)
	{
		output_oneline = true;
		return run_listing("line", "migrate_history($1)", 1, params);
	}
	return run_listing("revision,"
					   " pg_catalog.array_to_string(down_revisions, ', ') AS down_revisions,"
					   " pg_catalog.array_to_string(branch_labels, ', ') AS branch_labels,"
					   " pg_catalog.array_to_string(depends_on, ', ') AS depends_on,"
					   " pg_catalog.concat_ws(', ',"
					   "  CASE WHEN is_head THEN 'head' WHEN is_effective_head THEN 'effective head' END,"
					   "  CASE WHEN is_branch_point THEN 'branchpoint' END,"
					   "  CASE WHEN is_merge_point THEN 'mergepoint' END) AS kind,"
					   " CASE WHEN is_applied THEN 'yes' ELSE '' END AS applied,"
					   " message",
					   "migrate_history($1)", 1, params);
}

/*
 * pg_migrate load
 */

/*
 * load sends the revisions with COPY, one text-format row per file.  The
 * server reads a row into one buffer, and a buffer cannot exceed 1 GB:
 * a longer row (bodies of backslashes, tabs or line ends, which COPY
 * doubles, and a long message) would end the connection.  Rows are
 * measured before anything is sent, and a file whose row would exceed
 * MAX_COPY_ROW is refused, named.  The margin under 1 GB leaves room for
 * the row's tuple headers on the server.
 */
#define MAX_COPY_ROW	((size_t) 1000 * 1000 * 1000)
#define COPY_CHUNK		(1024 * 1024)

/* Bytes s takes as a COPY text field, separator included */
static size_t
copy_field_size(const char *s)
{
	size_t		n = 1;

	if (s == NULL)
		return n + 2;
	for (; *s; s++)
		n += (*s == '\\' || *s == '\t' || *s == '\n' || *s == '\r') ? 2 : 1;
	return n;
}

/* Append s to buf as a COPY text field */
static void
copy_field(PQExpBuffer buf, const char *s, bool last)
{
	if (s == NULL)
		appendPQExpBufferStr(buf, "\\N");
	else
	{
		for (; *s; s++)
		{
			switch (*s)
			{
				case '\\':
					appendPQExpBufferStr(buf, "\\\\");
					break;
				case '\t':
					appendPQExpBufferStr(buf, "\\t");
					break;
				case '\n':
					appendPQExpBufferStr(buf, "\\n");
					break;
				case '\r':
					appendPQExpBufferStr(buf, "\\r");
					break;
				default:
					appendPQExpBufferChar(buf, *s);
			}
		}
	}
	appendPQExpBufferChar(buf, last ? '\n' : '\t');
}

/* An array of names as a COPY field; names are [A-Za-z0-9_], quoted */
static size_t
copy_array_size(char **items, int n)
{
	size_t		size = 3;		/* braces and the separator */

	for (int i = 0; i < n; i++)
		size += strlen(items[i]) + 2 + (i ? 1 : 0);
	return size;
}

/* Append an array of names to buf as a COPY field (see copy_array_size) */
static void
copy_array(PQExpBuffer buf, char **items, int n)
{
	appendPQExpBufferChar(buf, '{');
	for (int i = 0; i < n; i++)
		appendPQExpBuffer(buf, "%s\"%s\"", i ? "," : "", items[i]);
	appendPQExpBufferStr(buf, "}\t");
}

/* The row of file i, and its size (copy_row_size) */
static void
copy_row(PQExpBuffer buf, const MgRevFile *rf, int i)
{
	char		num[32];

	snprintf(num, sizeof(num), "%d", i + 1);
	copy_field(buf, num, false);
	copy_field(buf, rf->path, false);
	snprintf(num, sizeof(num), "%d", rf->line[MG_KEY_REVISION]);
	copy_field(buf, num, false);
	copy_field(buf, rf->revision, false);
	copy_array(buf, rf->down, rf->ndown);
	copy_field(buf, rf->upgrade, false);
	copy_field(buf, rf->downgrade, false);
	copy_field(buf, rf->message, false);
	copy_array(buf, rf->labels, rf->nlabels);
	copy_array(buf, rf->deps, rf->ndeps);
	copy_field(buf, rf->transactional ? "t" : "f", false);
	copy_field(buf, rf->source, false);
	copy_field(buf, rf->verify, true);
}

/* Bytes copy_row appends for file i (checked against it when sending) */
static size_t
copy_row_size(const MgRevFile *rf, int i)
{
	char		num[32];
	size_t		size;

	snprintf(num, sizeof(num), "%d", i + 1);
	size = copy_field_size(num);
	size += copy_field_size(rf->path);
	snprintf(num, sizeof(num), "%d", rf->line[MG_KEY_REVISION]);
	size += copy_field_size(num);
	size += copy_field_size(rf->revision);
	size += copy_array_size(rf->down, rf->ndown);
	size += copy_field_size(rf->upgrade);
	size += copy_field_size(rf->downgrade);
	size += copy_field_size(rf->message);
	size += copy_array_size(rf->labels, rf->nlabels);
	size += copy_array_size(rf->deps, rf->ndeps);
	size += copy_field_size(rf->transactional ? "t" : "f");
	size += copy_field_size(rf->source);
	size += copy_field_size(rf->verify);
	return size;
}

/*
 * Refuse the files whose COPY rows would be too long for the server,
 * naming each, before connecting.
 */
bool
check_row_sizes(const MgRevSet *set)
{
	bool		ok = true;

	for (int i = 0; i < set->n; i++)
	{
		size_t		size = copy_row_size(set->files[i], i);

		if (size <= MAX_COPY_ROW)
			continue;
		pg_log_error("%s: revision \"%s\" is too large to load",
					 esc(set->files[i]->path), esc(set->files[i]->revision));
		pg_log_error_detail("Sent to the server, its bodies, message and names take %zu bytes; the limit is %zu bytes. Backslashes, tabs and line ends count twice.",
							size, MAX_COPY_ROW);
		pg_log_error_hint("Split the work into several revisions.");
		ok = false;
	}
	return ok;
}

/*
 * The file a COPY error is about: the server's CONTEXT names the row
 * ("COPY pg_migrate_load, line N"), and row N is file N.  For a character
 * the database's encoding cannot hold, find its line in the file (0: not in
 * the contents; *in_name: it is in the file's name).  Returns the file's
 * index or -1.
 */
static int
copy_error_file(const PGresult *res, const MgRevSet *set, int *line, bool *in_name)
{
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *p;
	int			row;
	unsigned char bytes[8];
	int			nbytes = 0;

	*line = 0;
	*in_name = false;
	if (context == NULL || (p = strstr(context, "COPY pg_migrate_load, line ")) == NULL ||
		sscanf(p, "COPY pg_migrate_load, line %d", &row) != 1 || row < 1 || row > set->n)
		return -1;

	/* "character with byte sequence 0xe2 0x82 0xac in encoding ..." */
	if (primary && (p = strstr(primary, "byte sequence ")) != NULL)
	{
		unsigned int b;
		int			used;

		p += strlen("byte sequence ");
		while (nbytes < (int) sizeof(bytes) && sscanf(p, "0x%2x%n", &b, &used) == 1)
		{
			bytes[nbytes++] = (unsigned char) b;
			p += used;
			if (*p == ' ')
				p++;
		}
	}
	if (nbytes > 0)
	{
		const MgRevFile *rf = set->files[row - 1];
		char	   *buf;
		size_t		len;
		MgDiags		diags = {0};

		if (memmem(rf->path, strlen(rf->path), bytes, nbytes) ||
			(rf->source && memmem(rf->source, strlen(rf->source), bytes, nbytes)))
			*in_name = true;
		else if (mg_read_file(rf->path, &buf, &len, &diags))
		{
			const char *at = memmem(buf, len, bytes, nbytes);

			if (at)
			{
				*line = 1;
				for (const char *q = buf; q < at; q++)
					if (*q == '\n')
						(*line)++;
			}
			free(buf);
		}
		mg_diags_free(&diags);
	}
	return row - 1;
}

/* Report a failed COPY: as an error in the file of the row, if known */
static void
report_copy_error(const PGresult *res, const MgRevSet *set)
{
	int			line;
	bool		in_name;
	int			f = copy_error_file(res, set, &line, &in_name);
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const MgRevFile *rf;
	bool		encoding;

	if (f < 0 || primary == NULL)
	{
		report_result_error(res);
		return;
	}
	rf = set->files[f];
	encoding = sqlstate && (strcmp(sqlstate, "22P05") == 0 || strcmp(sqlstate, "22021") == 0);
	if (line > 0)
		pg_log_error("%s:%d: %s", esc(rf->path), line, esc(primary));
	else
		pg_log_error("%s: %s", esc(rf->path), esc(primary));
	if (encoding)
	{
		const char *enc = PQparameterStatus(conn, "server_encoding");

		if (in_name)
			pg_log_error_detail("The file's name cannot be stored in database \"%s\", whose encoding is %s.",
								esc(PQdb(conn)), esc(enc ? enc : "?"));
		else
			pg_log_error_detail("Revision \"%s\" cannot be stored in database \"%s\", whose encoding is %s.",
								esc(rf->revision), esc(PQdb(conn)), esc(enc ? enc : "?"));
		pg_log_error_hint("%s", in_name ?
						  "Rename the file, or load into a database with encoding UTF8." :
						  "Use only characters the database's encoding has, or load into a database with encoding UTF8.");
	}
	else
	{
		if (detail)
			pg_log_error_detail("%s", esc(detail));
		if (hint)
			pg_log_error_hint("%s", esc(hint));
	}
	if (sqlstate && verbosity > 0)
		fprintf(stderr, "%s: sqlstate: %s\n", progname, esc(sqlstate));
}

/* Send buf in messages of at most COPY_CHUNK bytes */
static bool
send_copy_data(PQExpBuffer buf)
{
	if (PQExpBufferBroken(buf))
		pg_fatal("out of memory");
	for (size_t off = 0; off < buf->len; off += COPY_CHUNK)
	{
		int			n = (int) Min((size_t) COPY_CHUNK, buf->len - off);

		if (PQputCopyData(conn, buf->data + off, n) != 1)
		{
			pg_log_error("could not send revisions: %s", esc_conn_error());
			return false;
		}
	}
	resetPQExpBuffer(buf);
	return true;
}

/*
 * copy_revisions
 *		Send every file of set as one row of pg_temp.pg_migrate_load with
 *		COPY FROM STDIN, in messages of at most COPY_CHUNK bytes, the row
 *		of file i being row i + 1 (so that an error's CONTEXT names the
 *		file).  Returns false after reporting a failure (a COPY error as
 *		an error in the file of its row, see report_copy_error); the
 *		caller then rolls back.  Memory: one chunk beyond the files.
 */
static bool
copy_revisions(const MgRevSet *set)
{
	PGresult   *res;
	PQExpBufferData buf;

	res = PQexec(conn, "COPY pg_temp.pg_migrate_load FROM STDIN");
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		report_result_error(res);
		PQclear(res);
		return false;
	}
	PQclear(res);

	initPQExpBuffer(&buf);
	for (int i = 0; i < set->n; i++)
	{
		size_t		before = buf.len;

		copy_row(&buf, set->files[i], i);
		if (!PQExpBufferBroken(&buf) && buf.len - before != copy_row_size(set->files[i], i))
			pg_fatal("internal error: COPY row of %s measured wrongly", esc(set->files[i]->path));
		if ((buf.len >= COPY_CHUNK || i == set->n - 1) && !send_copy_data(&buf))
			return false;
	}
	termPQExpBuffer(&buf);
	if (PQputCopyEnd(conn, NULL) != 1)
	{
		pg_log_error("could not send revisions: %s", esc_conn_error());
		return false;
	}
	res = PQgetResult(conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		report_copy_error(res, set);
		PQclear(res);
		return false;
	}
	PQclear(res);
	while ((res = PQgetResult(conn)) != NULL)
		PQclear(res);
	return true;
}

/* IS NOT DISTINCT FROM, without an operator looked up on search_path */
#define SAME_DOWNGRADE \
	"((r.downgrade IS NULL AND s.downgrade IS NULL) OR" \
	" COALESCE(r.downgrade OPERATOR(pg_catalog.=) s.downgrade, false))"

/*
 * check_applied_changes
 *		Refuse files that change an applied revision, naming every one of
 *		them with its file and what it changes, before anything is
 *		registered (the rows are in pg_temp.pg_migrate_load).  The server
 *		refuses the same changes (migrate_register); checking here reports
 *		them all at once.  Returns true when no file changes one; false
 *		after reporting (a failed query included).  One query.
 */
static bool
check_applied_changes(void)
{
	char	   *sql;
	PGresult   *res;
	int			n;

	sql = psprintf("SELECT s.path, s.line, s.revision,"
				   " pg_catalog.concat_ws(', ',"
				   "  CASE WHEN r.down_revisions OPERATOR(pg_catalog.<>) s.down_revisions THEN 'down_revision' END,"
				   "  CASE WHEN r.depends_on OPERATOR(pg_catalog.<>) s.depends_on THEN 'depends_on' END,"
				   "  CASE WHEN r.branch_labels OPERATOR(pg_catalog.<>) s.branch_labels THEN 'branch_labels' END,"
				   "  CASE WHEN r.upgrade OPERATOR(pg_catalog.<>) s.upgrade THEN 'upgrade body' END,"
				   "  CASE WHEN " SAME_DOWNGRADE " THEN NULL ELSE 'downgrade body' END,"
				   "  CASE WHEN r.transactional OPERATOR(pg_catalog.<>) s.transactional THEN 'transactional flag' END)"
				   " FROM pg_temp.pg_migrate_load s"
				   " JOIN %s.migrate_revision r ON r.revision OPERATOR(pg_catalog.=) s.revision"
				   " JOIN %s.migrate_state() st ON st.revision OPERATOR(pg_catalog.=) s.revision"
				   " WHERE st.is_applied AND (r.down_revisions OPERATOR(pg_catalog.<>) s.down_revisions"
				   "  OR r.depends_on OPERATOR(pg_catalog.<>) s.depends_on"
				   "  OR r.branch_labels OPERATOR(pg_catalog.<>) s.branch_labels"
				   "  OR r.upgrade OPERATOR(pg_catalog.<>) s.upgrade"
				   "  OR NOT " SAME_DOWNGRADE
				   "  OR r.transactional OPERATOR(pg_catalog.<>) s.transactional)"
				   " ORDER BY s.ord", ext_schema, ext_schema);
	/*
	 * An invalid registered graph (made before 0.4 checked it at commit, or
	 * by a superuser) has no applied set to compare with: skip this report
	 * then, and let the load repair the graph (migrate_register still
	 * refuses changes of what it can tell is applied).
	 */
	if (!run_command("SAVEPOINT pg_migrate_applied"))
		return false;
	res = PQexec(conn, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pg_log_info("registered graph is invalid, not comparing applied revisions first: %s",
					esc(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ?
						PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : ""));
		PQclear(res);
		return run_command("ROLLBACK TO SAVEPOINT pg_migrate_applied");
	}
	n = PQntuples(res);
	for (int i = 0; i < n; i++)
	{
		pg_log_error("%s:%s: cannot change applied revision \"%s\"",
					 esc(PQgetvalue(res, i, 0)), esc(PQgetvalue(res, i, 1)),
					 esc(PQgetvalue(res, i, 2)));
		pg_log_error_detail("Revision \"%s\" is applied to database \"%s\", and the file changes its %s.",
							esc(PQgetvalue(res, i, 2)), esc(PQdb(conn)), esc(PQgetvalue(res, i, 3)));
		pg_log_error_hint("Write a new revision for the new change, or downgrade below \"%s\" first.",
						  esc(PQgetvalue(res, i, 2)));
	}
	PQclear(res);
	return n == 0;
}

/*
 * cmd_load
 *		pg_migrate load [-r] [-n] [--no-create-extension] DIR...: read and
 *		check the files (nothing is sent if one is bad or too large for a
 *		COPY row), connect in UTF8, and in one READ COMMITTED transaction:
 *		refuse a standby, take the extension's advisory lock (the one the
 *		migrate_* functions take), create the extension if needed, COPY
 *		the files into a temporary table, refuse changes of applied
 *		revisions, register every file in file order with
 *		migrate_register, run migrate_check, and commit (with -n: roll
 *		back).  Prints the counts of added, updated and unchanged
 *		revisions.  Returns 0, or EXIT_FAILED after reporting a failure
 *		and "Nothing was loaded." (the transaction is rolled back); bad
 *		usage exits with EXIT_USAGE.
 */
int
cmd_load(int argc, char **argv)
{
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		{"recursive", no_argument, NULL, 'r'},
		{"dry-run", no_argument, NULL, 'n'},
		{"no-create-extension", no_argument, NULL, 1},
		{"prune", no_argument, NULL, 2},
		FOLLOW_LINKS_LONG_OPTION,
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	bool		recursive = false;
	bool		dry_run = false;
	bool		create_ext = true;
	int			c;
	MgRevSet	set = {0};
	int			counts[3] = {0, 0, 0};

	while ((c = getopt_long(argc, argv, CONN_SHORT_OPTIONS "rn", long_options, NULL)) != -1)
	{
		if (conn_option(c))
			continue;
		switch (c)
		{
			case 'r':
				recursive = true;
				break;
			case 'n':
				dry_run = true;
				break;
			case 1:
				create_ext = false;
				break;
			case 2:
				load_prune = true;
				break;
			case FOLLOW_LINKS_OPTION:
				follow_external_links = true;
				break;
			default:
				bad_option();
		}
	}
	if (optind >= argc)
		usage_error("load needs at least one directory");

	if (!read_dirs(&set, argv + optind, argc - optind, recursive, true) ||
		!check_row_sizes(&set))
	{
		pg_log_error_hint("Nothing was loaded.");
		return EXIT_FAILED;
	}

	connect_db(true);
	if (!load_revisions(&set, dry_run, create_ext, counts))
	{
		pg_log_error_hint("Nothing was loaded.");
		close_db();
		return EXIT_FAILED;
	}

	if (load_prune)
		printf("pruned %d\n", load_pruned);
	if (dry_run)
		printf("added %d, updated %d, unchanged %d (dry run, nothing was committed)\n",
			   counts[0], counts[1], counts[2]);
	else
		printf("added %d, updated %d, unchanged %d\n", counts[0], counts[1], counts[2]);
	PQfinish(conn);
	mg_revset_free(&set);
	return 0;
}

/*
 * load_revisions
 *		The work of load on the connection conn (connected in UTF8), for
 *		the files of set, already read and checked (read_dirs,
 *		check_row_sizes): in one READ COMMITTED transaction, refuse a
 *		standby, take the extension's advisory lock, create the extension
 *		if needed (unless !create_ext), COPY the files into a temporary
 *		table, refuse changes of applied revisions, register every file in
 *		file order, run migrate_check, and commit (dry_run: roll back).
 *		counts gets the numbers of added, updated and unchanged revisions.
 *		Returns false after reporting a failure; the transaction may then
 *		still be open (close_db or a ROLLBACK ends it).  Also used by the
 *		schema commands (mg_schemacmds.c) to build a scratch database.
 */
bool
load_revisions(const MgRevSet *set, bool dry_run, bool create_ext, int counts[3])
{
	PGresult   *res;
	char	   *sql;
	static const char *const kinds[3] = {"added", "updated", "unchanged"};
	char		lockkey[32];
	const char *params[1];

	counts[0] = counts[1] = counts[2] = 0;
	if (!begin_transaction())
		goto fail;
	/* a standby would refuse the first write; say why before trying */
	res = run_query("SELECT pg_catalog.pg_is_in_recovery()", 0, NULL);
	if (res == NULL)
		goto fail;
	if (strcmp(PQgetvalue(res, 0, 0), "t") == 0)
	{
		PQclear(res);
		pg_log_error("cannot load revisions into a standby server");
		pg_log_error_detail("The server is in recovery: migration state can only change on the primary.");
		pg_log_error_hint("Connect to the primary server and run load there.");
		goto fail;
	}
	PQclear(res);
	/* serialize with other loaders and migrations, extension creation included */
	snprintf(lockkey, sizeof(lockkey), "%lld", (long long) MG_ADVISORY_LOCK_KEY_VALUE);
	params[0] = lockkey;
	res = run_query("SELECT pg_catalog.pg_advisory_xact_lock($1::pg_catalog.int8)", 1, params);
	if (res == NULL)
		goto fail;
	PQclear(res);
	if (!find_extension())
	{
		if (!create_ext)
		{
			pg_log_error("extension \"migrations\" is not installed in database \"%s\"",
						 esc(PQdb(conn)));
			pg_log_error_hint("Create it with CREATE EXTENSION migrations, or leave out --no-create-extension.");
			goto fail;
		}
		if (!run_command("CREATE EXTENSION migrations"))
			goto fail;
		pg_log_info("created extension \"migrations\"");
		if (!find_extension())
			goto fail;
	}

	if (!run_command("CREATE TEMPORARY TABLE pg_migrate_load ("
					 " ord pg_catalog.int4, path pg_catalog.text, line pg_catalog.int4,"
					 " revision pg_catalog.text, down_revisions pg_catalog.text[],"
					 " upgrade pg_catalog.text, downgrade pg_catalog.text,"
					 " message pg_catalog.text, branch_labels pg_catalog.text[],"
					 " depends_on pg_catalog.text[], transactional pg_catalog.bool,"
					 " source pg_catalog.text, verify pg_catalog.text) ON COMMIT DROP"))
		goto fail;
	if (!copy_revisions(set))
		goto fail;
	if (!check_applied_changes())
		goto fail;

	/* register in file order: the order breaks ties in Alembic's step order */
	sql = psprintf("SELECT s.path, s.revision,"
				   " %s.migrate_register(s.revision, s.down_revisions, s.upgrade,"
				   "  s.downgrade, s.message, s.branch_labels, s.depends_on,"
				   "  s.transactional, s.source, s.verify)"
				   " FROM (SELECT * FROM pg_temp.pg_migrate_load ORDER BY ord OFFSET 0) s",
				   ext_schema);
	res = run_query(sql, 0, NULL);
	if (res == NULL)
		goto fail;
	for (int i = 0; i < PQntuples(res); i++)
	{
		const char *what = PQgetvalue(res, i, 2);

		for (int k = 0; k < 3; k++)
			if (strcmp(what, kinds[k]) == 0)
				counts[k]++;
		if (strcmp(what, "unchanged") != 0)
			pg_log_info("%s %s (%s)", esc(what), esc(PQgetvalue(res, i, 1)),
						esc(PQgetvalue(res, i, 0)));
	}
	PQclear(res);
	/* load --prune: what no file has goes, before the graph is checked */
	if (load_prune && !prune_revisions())
		goto fail;

	sql = psprintf("SELECT %s.migrate_check()", ext_schema);
	if (!run_command(sql))
		goto fail;
	if (!run_command(dry_run ? "ROLLBACK" : "COMMIT"))
		goto fail;
	return true;

fail:
	return false;
}
