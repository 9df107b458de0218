/*-------------------------------------------------------------------------
 *
 * mg_output.c
 *	  How pg_migrate prints the results of its query commands: psql's
 *	  aligned table (the default), psql's unaligned form (-A), tuples
 *	  only (-t), or JSON (--format=json); and the lines it adds for
 *	  people: that there was nothing to do, Alembic's one-line history.
 *
 * Tables are printed by PostgreSQL's own table printer (fe_utils/print.h),
 * which measures text by display width in the connection's client
 * encoding (PQmblen and PQdsplen), as psql does: an accented or CJK
 * message lines up as in psql, provided the locale is set (main calls
 * set_pglocale_pgservice) so that client_encoding "auto" finds it.
 *
 * JSON is an array of objects, one per row, with the result's column
 * names as keys, in column order: NULL is null, booleans and numbers are
 * JSON's own, json and jsonb values are copied, arrays (one-dimensional
 * or not) are JSON arrays of their elements, and everything else is a
 * string.  Strings are escaped as JSON requires (RFC 8259); they are not
 * passed through esc(), since JSON's escaping already keeps control
 * characters off the terminal.  Output is UTF-8 when the client encoding
 * is (load, and a UTF-8 locale); JSON text in another encoding is the
 * caller's choice of PGCLIENTENCODING.
 *
 * This file owns the output options and the printing of a PGresult; it
 * runs no query of its own except for the line of nothing_to_do.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "catalog/pg_type_d.h"
#include "common/logging.h"
#include "fe_utils/print.h"
#include "mb/pg_wchar.h"
#include "pqexpbuffer.h"

#include "pg_migrate.h"

OutputFormat output_format = OUTPUT_ALIGNED;
bool		output_tuples_only = false;
bool		output_expanded = false;
bool		output_oneline = false;

/*
 * Remove flag (a long option without argument that one command alone
 * takes, such as history's --oneline) from argv, before the command's
 * options are parsed by the parser the query commands share.  Returns
 * whether it was given.  Arguments after "--" are operands.
 */
bool
take_flag(int *argc, char **argv, const char *flag)
{
	bool		found = false;
	int			n = 1;

	for (int i = 1; i < *argc; i++)
	{
		if (strcmp(argv[i], "--") == 0)
		{
			while (i < *argc)
				argv[n++] = argv[i++];
			break;
		}
		if (strcmp(argv[i], flag) == 0)
			found = true;
		else
			argv[n++] = argv[i];
	}
	*argc = n;
	argv[n] = NULL;
	return found;
}

/*
 * Handle an output option (OUTPUT_LONG_OPTIONS, OUTPUT_SHORT_OPTIONS) of a
 * query command; false if c is not one.  A bad --format is bad usage.
 */
bool
output_option(int c)
{
	switch (c)
	{
		case 't':
			output_tuples_only = true;
			return true;
		case 'A':
			output_format = OUTPUT_UNALIGNED;
			return true;
		case FORMAT_OPTION:
			if (strcmp(optarg, "aligned") == 0)
				output_format = OUTPUT_ALIGNED;
			else if (strcmp(optarg, "unaligned") == 0)
				output_format = OUTPUT_UNALIGNED;
			else if (strcmp(optarg, "json") == 0)
				output_format = OUTPUT_JSON;
			else
				usage_error_detail("The formats are aligned, unaligned and json.",
								   "invalid output format \"%s\"", optarg);
			return true;
	}
	return false;
}

/* Append s as a JSON string (RFC 8259: quote, backslash, controls escaped) */
static void
json_string(PQExpBuffer buf, const char *s)
{
	appendPQExpBufferChar(buf, '"');
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				appendPQExpBufferStr(buf, "\\\"");
				break;
			case '\\':
				appendPQExpBufferStr(buf, "\\\\");
				break;
			case '\n':
				appendPQExpBufferStr(buf, "\\n");
				break;
			case '\r':
				appendPQExpBufferStr(buf, "\\r");
				break;
			case '\t':
				appendPQExpBufferStr(buf, "\\t");
				break;
			case '\b':
				appendPQExpBufferStr(buf, "\\b");
				break;
			case '\f':
				appendPQExpBufferStr(buf, "\\f");
				break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					appendPQExpBuffer(buf, "\\u%04x", *p);
				else
					appendPQExpBufferChar(buf, (char) *p);
		}
	}
	appendPQExpBufferChar(buf, '"');
}

/* How a value of a type is written in JSON */
typedef enum JsonKind
{
	JSON_STRING,
	JSON_NUMBER,
	JSON_BOOL,
	JSON_RAW					/* json, jsonb: already JSON */
} JsonKind;

/* The kind of scalar type oid; *elem gets the element kind of an array */
static JsonKind
json_kind(Oid type, bool *is_array)
{
	*is_array = true;
	switch (type)
	{
		case INT2ARRAYOID:
		case INT4ARRAYOID:
		case INT8ARRAYOID:
		case FLOAT4ARRAYOID:
		case FLOAT8ARRAYOID:
		case NUMERICARRAYOID:
		case OIDARRAYOID:
			return JSON_NUMBER;
		case BOOLARRAYOID:
			return JSON_BOOL;
		case JSONARRAYOID:
		case JSONBARRAYOID:
			return JSON_RAW;
		case TEXTARRAYOID:
		case VARCHARARRAYOID:
		case NAMEARRAYOID:
		case BPCHARARRAYOID:
			return JSON_STRING;
	}
	*is_array = false;
	switch (type)
	{
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
		case OIDOID:
			return JSON_NUMBER;
		case BOOLOID:
			return JSON_BOOL;
		case JSONOID:
		case JSONBOID:
			return JSON_RAW;
	}
	return JSON_STRING;
}

/* Append one scalar value, as text from the server, as kind */
static void
json_scalar(PQExpBuffer buf, const char *s, JsonKind kind)
{
	switch (kind)
	{
		case JSON_BOOL:
			appendPQExpBufferStr(buf, strcmp(s, "t") == 0 ? "true" : "false");
			return;
		case JSON_NUMBER:
			/* NaN and the infinities have no JSON number: strings */
			if (strspn(s, "0123456789+-.eE") == strlen(s) && s[0] != '\0')
			{
				appendPQExpBufferStr(buf, s);
				return;
			}
			break;
		case JSON_RAW:
			appendPQExpBufferStr(buf, s);
			return;
		case JSON_STRING:
			break;
	}
	json_string(buf, s);
}

/*
 * Append the array literal at *p (the server's text output of an array:
 * braces, elements separated by commas, an element double-quoted with
 * backslash escapes when it needs it, NULL unquoted) as a JSON array of
 * kind elements, nested arrays for more dimensions.  Advances *p past the
 * closing brace.
 */
static void
json_array(PQExpBuffer buf, const char **p, JsonKind kind)
{
	const char *s = *p;
	PQExpBufferData elem;
	bool		first = true;

	/* a lower bound decoration "[1:2]=" precedes arrays not starting at 1 */
	if (*s == '[')
	{
		const char *eq = strchr(s, '=');

		if (eq)
			s = eq + 1;
	}
	if (*s != '{')
	{
		json_string(buf, s);
		*p = s + strlen(s);
		return;
	}
	s++;
	initPQExpBuffer(&elem);
	appendPQExpBufferChar(buf, '[');
	while (*s && *s != '}')
	{
		if (!first)
			appendPQExpBufferChar(buf, ',');
		first = false;
		if (*s == '{')
			json_array(buf, &s, kind);
		else if (*s == '"')
		{
			resetPQExpBuffer(&elem);
			for (s++; *s && *s != '"'; s++)
			{
				if (*s == '\\' && s[1])
					s++;
				appendPQExpBufferChar(&elem, *s);
			}
			if (*s == '"')
				s++;
			json_scalar(buf, elem.data, kind);
		}
		else
		{
			size_t		n = strcspn(s, ",}");

			resetPQExpBuffer(&elem);
			appendBinaryPQExpBuffer(&elem, s, n);
			s += n;
			if (strcmp(elem.data, "NULL") == 0)
				appendPQExpBufferStr(buf, "null");
			else
				json_scalar(buf, elem.data, kind);
		}
		if (*s == ',')
			s++;
	}
	if (*s == '}')
		s++;
	appendPQExpBufferChar(buf, ']');
	termPQExpBuffer(&elem);
	*p = s;
}

/*
 * Print res as JSON: an array of one object per row, keys the column
 * names.  An empty result is [].
 */
static void
print_json(const PGresult *res)
{
	int			ncols = PQnfields(res);
	int			nrows = PQntuples(res);
	PQExpBufferData buf;

	initPQExpBuffer(&buf);
	appendPQExpBufferChar(&buf, '[');
	for (int r = 0; r < nrows; r++)
	{
		appendPQExpBufferStr(&buf, r ? ",\n {" : "\n {");
		for (int c = 0; c < ncols; c++)
		{
			bool		is_array;
			JsonKind	kind = json_kind(PQftype(res, c), &is_array);

			if (c)
				appendPQExpBufferStr(&buf, ", ");
			json_string(&buf, PQfname(res, c));
			appendPQExpBufferStr(&buf, ": ");
			if (PQgetisnull(res, r, c))
				appendPQExpBufferStr(&buf, "null");
			else if (is_array)
			{
				const char *p = PQgetvalue(res, r, c);

				json_array(&buf, &p, kind);
			}
			else
				json_scalar(&buf, PQgetvalue(res, r, c), kind);
		}
		appendPQExpBufferChar(&buf, '}');
	}
	appendPQExpBufferStr(&buf, nrows ? "\n]\n" : "]\n");
	if (PQExpBufferBroken(&buf))
		pg_fatal("out of memory");
	fwrite(buf.data, 1, buf.len, stdout);
	termPQExpBuffer(&buf);
}

/*
 * Print each row's first column as a line of its own: the form of
 * history --oneline (migrate_history's line column, Alembic's line).
 */
static void
output_lines(const PGresult *res)
{
	for (int r = 0; r < PQntuples(res); r++)
		printf("%s\n", esc(PQgetvalue(res, r, 0)));
	fflush(stdout);
}

/*
 * s escaped line by line (mg_escape), its line ends kept: a body shown by
 * show keeps its lines, which the table printer lays out as a multi-line
 * cell, while everything else that could act on the terminal is escaped.
 */
static char *
escape_lines(const char *s, bool utf8)
{
	PQExpBufferData buf;

	initPQExpBuffer(&buf);
	for (;;)
	{
		size_t		n = strcspn(s, "\n");
		char	   *e = mg_escape(s, n, utf8);

		appendPQExpBufferStr(&buf, e);
		free(e);
		if (s[n] == '\0')
			break;
		appendPQExpBufferChar(&buf, '\n');
		s += n + 1;
	}
	if (PQExpBufferBroken(&buf))
		pg_fatal("out of memory");
	return buf.data;
}

/*
 * output_result
 *		Print res in the chosen format: JSON, or psql's table (aligned or
 *		unaligned, with or without headers and footer), every header and
 *		cell escaped (esc) first: the table shows what the server sent,
 *		not what a control character in a message or id would make of the
 *		terminal.  The table printer pads by display width in the client
 *		encoding.
 */
void
output_result(const PGresult *res)
{
	printTableOpt topt;
	printTableContent cont;
	int			ncols = PQnfields(res);
	int			nrows = PQntuples(res);
	bool		utf8 = output_is_utf8();
	char	  **cells;
	int			ncells = 0;

	if (output_format == OUTPUT_JSON)
	{
		print_json(res);
		fflush(stdout);
		return;
	}
	if (output_oneline)
	{
		output_lines(res);
		return;
	}
	cells = pg_malloc(sizeof(char *) * ((size_t) ncols * nrows + ncols + 1));
	memset(&topt, 0, sizeof(topt));
	topt.format = output_format == OUTPUT_UNALIGNED ? PRINT_UNALIGNED : PRINT_ALIGNED;
	topt.border = 1;
	topt.tuples_only = output_tuples_only;
	topt.start_table = true;
	topt.stop_table = true;
	topt.default_footer = true;
	topt.fieldSep.separator = "|";
	topt.recordSep.separator = "\n";
	topt.expanded = output_expanded ? 1 : 0;
	topt.encoding = PQclientEncoding(conn);
	printTableInit(&cont, &topt, NULL, ncols, nrows);
	for (int c = 0; c < ncols; c++)
	{
		const char *name = PQfname(res, c);

		cells[ncells] = mg_escape(name, strlen(name), utf8);
		printTableAddHeader(&cont, cells[ncells++], false,
							column_type_alignment(PQftype(res, c)));
	}
	for (int r = 0; r < nrows; r++)
		for (int c = 0; c < ncols; c++)
		{
			cells[ncells] = output_expanded ?
				escape_lines(PQgetvalue(res, r, c), utf8) :
				mg_escape(PQgetvalue(res, r, c),
						  (size_t) PQgetlength(res, r, c), utf8);
			printTableAddCell(&cont, cells[ncells++], false, false);
		}
	printTable(&cont, stdout, false, NULL);
	printTableCleanup(&cont);
	for (int i = 0; i < ncells; i++)
		free(cells[i]);
	free(cells);
	fflush(stdout);
}

/*
 * nothing_to_do
 *		After upgrade, downgrade or stamp ran no step (res has no rows):
 *		say so on stderr, with the database's current revisions, instead
 *		of an empty table.  The JSON form still prints [] on stdout, and
 *		-t prints nothing there: scripts read stdout, people read both.
 *		Returns true when it said so (the caller then prints no table).
 */
bool
nothing_to_do(const PGresult *res, const char *command, const char *target)
{
	PGresult   *cur;
	char	   *sql;
	const char *current = "base";

	if (PQntuples(res) > 0)
		return false;
	sql = psprintf("SELECT pg_catalog.string_agg(revision, ', ' ORDER BY revision)"
				   " FROM %s.migrate_current()", ext_schema);
	cur = PQexec(conn, sql);
	if (PQresultStatus(cur) == PGRES_TUPLES_OK && PQntuples(cur) == 1 &&
		!PQgetisnull(cur, 0, 0))
		current = PQgetvalue(cur, 0, 0);
	if (strcmp(command, "stamp") == 0)
		fprintf(stderr, "%s: nothing to stamp: the version table of database \"%s\" already holds %s\n",
				progname, esc(PQdb(conn)), esc(current));
	else
		fprintf(stderr, "%s: nothing to %s: database \"%s\" is already at %s (current: %s)\n",
				progname, command, esc(PQdb(conn)), esc(target), esc(current));
	fflush(stderr);
	PQclear(cur);
	free(sql);
	return output_format != OUTPUT_JSON;
}
