/*-------------------------------------------------------------------------
 *
 * mg_lint.c
 *	  pg_migrate lint DIR...: naming and risk findings on revision files
 *	  (issue 12, item 6).
 *
 * The revisions are loaded into a scratch database (mg_schemacmds.c's
 * scratch API) and upgraded one revision at a time, in the order an
 * upgrade to heads runs them.  Around each step the constraints and
 * indexes of the user's schemas are listed, so that every object the step
 * created is known, with its table, columns and referred table.  The
 * findings, each with the revision, file and line:
 *
 *	naming-convention	a constraint or index whose name is not the one the
 *						naming convention gives (default Invenio's, which is
 *						SQLAlchemy's naming_convention syntax);
 *	truncated-name		an identifier longer than 63 bytes, which PostgreSQL
 *						cuts (NAMEDATALEN);
 *	unnamed-constraint	a constraint or index whose name does not appear in
 *						the revision's upgrade body: PostgreSQL chose it;
 *	index-not-concurrent CREATE INDEX without CONCURRENTLY on a table an
 *						earlier revision created (it blocks writes while it
 *						builds);
 *	alter-column-type	ALTER COLUMN ... TYPE on such a table (usually a
 *						rewrite under an ACCESS EXCLUSIVE lock);
 *	volatile-default	ADD COLUMN whose default calls a volatile function
 *						(the table is rewritten);
 *	set-not-null		SET NOT NULL with no validated CHECK (col IS NOT
 *						NULL) before or after the step (a full scan under an
 *						ACCESS EXCLUSIVE lock).
 *
 * The risky-statement findings give the table's size when --sizes-from
 * names a live database.  A comment "-- lint-ignore: RULE[, RULE...]" on
 * the reported line or the line before it silences those findings.
 *
 * Statements are found with the core's splitter (src/mg_split.c); inside
 * a statement a small scanner below reads words, quoted identifiers and
 * punctuation, skipping string constants and comments, which is all the
 * rules need.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>

#include "common/logging.h"
#include "fe_utils/string_utils.h"
#include "pqexpbuffer.h"

#include "mg_split.h"
#include "pg_migrate.h"

#define MAX_IDENT_BYTES 63		/* NAMEDATALEN - 1 */

typedef enum LintRule
{
	R_NAMING,
	R_TRUNCATED,
	R_UNNAMED,
	R_INDEX,
	R_ALTER_TYPE,
	R_VOLATILE_DEFAULT,
	R_SET_NOT_NULL,
	NRULES
} LintRule;

static const char *const rule_names[NRULES] = {
	"naming-convention", "truncated-name", "unnamed-constraint",
	"index-not-concurrent", "alter-column-type", "volatile-default",
	"set-not-null"
};

/* The naming convention: SQLAlchemy's syntax, one template per kind */
typedef enum ConvKind
{
	K_IX, K_UQ, K_CK, K_FK, K_PK, NKINDS
} ConvKind;

static const char *const kind_names[NKINDS] = {"ix", "uq", "ck", "fk", "pk"};

/* Invenio's convention (invenio_db), the default */
static const char *const default_convention[NKINDS] = {
	"ix_%(column_0_label)s",
	"uq_%(table_name)s_%(column_0_name)s",
	"ck_%(table_name)s_%(constraint_name)s",
	"fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
	"pk_%(table_name)s",
};

/* One token of a body: a word (lowercased unless quoted) or a character */
typedef struct Token
{
	char	   *text;			/* the identifier or keyword; NULL: punctuation */
	char		punct;			/* the character when text is NULL */
	bool		quoted;			/* a "quoted identifier" */
	int			line;			/* 1-based, in the body */
	int			stmt;			/* index of its statement */
} Token;

typedef struct Body
{
	Token	   *tokens;
	int			ntokens;
	int		   *stmt_line;		/* first line of each statement, in the body */
	int			nstmts;
} Body;

/* One finding, before silencing */
typedef struct Finding
{
	int			file;			/* index in the set */
	int			line;			/* in the file; 0: not about a line */
	LintRule	rule;
	char	   *message;
} Finding;

static Finding *findings;
static int	nfindings;

/* One constraint or index of the user's schemas */
typedef struct DbObject
{
	char	   *schema;
	char	   *table;
	char	   *name;
	char		kind;			/* p u f c x: constraints; i U: indexes */
	char	  **columns;		/* NULL entry for an expression */
	int			ncolumns;
	char	   *referred;		/* foreign keys: the referred table */
} DbObject;

typedef struct ObjectList
{
	DbObject   *items;
	int			n;
} ObjectList;

/*
 * The scanner: words, quoted identifiers and single characters of
 * [start, end) of body; string constants, dollar-quoted strings and
 * comments are skipped.  The splitter has already vouched that quotes
 * and comments are closed in it.
 */
static void
scan_tokens(Body *b, const char *body, int start, int end, int line, int stmt)
{
	int			i = start;

	while (i < end)
	{
		unsigned char ch = (unsigned char) body[i];

		if (ch == '\n')
		{
			line++;
			i++;
		}
		else if (isspace(ch))
			i++;
		else if (ch == '-' && i + 1 < end && body[i + 1] == '-')
		{
			while (i < end && body[i] != '\n')
				i++;
		}
		else if (ch == '/' && i + 1 < end && body[i + 1] == '*')
		{
			int			depth = 1;

			i += 2;
			while (i < end && depth > 0)
			{
				if (body[i] == '\n')
					line++;
				if (body[i] == '/' && i + 1 < end && body[i + 1] == '*')
					depth++, i++;
				else if (body[i] == '*' && i + 1 < end && body[i + 1] == '/')
					depth--, i++;
				i++;
			}
		}
		else if (ch == '\'' || ((ch == 'e' || ch == 'E') && i + 1 < end && body[i + 1] == '\''))
		{
			bool		escapes = ch != '\'';

			i += escapes ? 2 : 1;
			while (i < end)
			{
				if (body[i] == '\n')
					line++;
				if (escapes && body[i] == '\\' && i + 1 < end)
					i += 2;
				else if (body[i] == '\'' && i + 1 < end && body[i + 1] == '\'')
					i += 2;
				else if (body[i] == '\'')
				{
					i++;
					break;
				}
				else
					i++;
			}
		}
		else if (ch == '$' && i + 1 < end &&
				 (body[i + 1] == '$' || isalpha((unsigned char) body[i + 1]) || body[i + 1] == '_'))
		{
			/* $tag$ ... $tag$; a $1 parameter has digits and is a character */
			int			t = i + 1;

			while (t < end && (isalnum((unsigned char) body[t]) || body[t] == '_'))
				t++;
			if (t < end && body[t] == '$')
			{
				int			taglen = t - i + 1;
				const char *close = NULL;

				for (int k = t + 1; k + taglen <= end; k++)
					if (body[k] == '$' && strncmp(body + k, body + i, taglen) == 0)
					{
						close = body + k;
						break;
					}
				for (const char *p = body + t + 1; p < (close ? close : body + end); p++)
					if (*p == '\n')
						line++;
				i = close ? (int) (close - body) + taglen : end;
			}
			else
				i++;
		}
		else if (ch == '"' || isalpha(ch) || ch == '_' || ch >= 0x80)
		{
			PQExpBufferData word;
			Token	   *tk;
			bool		quoted = ch == '"';
			int			first_line = line;

			initPQExpBuffer(&word);
			if (quoted)
			{
				i++;
				while (i < end)
				{
					if (body[i] == '"' && i + 1 < end && body[i + 1] == '"')
					{
						appendPQExpBufferChar(&word, '"');
						i += 2;
					}
					else if (body[i] == '"')
					{
						i++;
						break;
					}
					else
					{
						if (body[i] == '\n')
							line++;
						appendPQExpBufferChar(&word, body[i++]);
					}
				}
			}
			else
				while (i < end && (isalnum((unsigned char) body[i]) || body[i] == '_' ||
								   body[i] == '$' || (unsigned char) body[i] >= 0x80))
				{
					unsigned char c = (unsigned char) body[i++];

					appendPQExpBufferChar(&word, c < 0x80 ? tolower(c) : c);
				}
			b->tokens = pg_realloc(b->tokens, sizeof(Token) * (b->ntokens + 1));
			tk = &b->tokens[b->ntokens++];
			tk->text = word.data;
			tk->punct = 0;
			tk->quoted = quoted;
			tk->line = first_line;
			tk->stmt = stmt;
		}
		else
		{
			Token	   *tk;

			b->tokens = pg_realloc(b->tokens, sizeof(Token) * (b->ntokens + 1));
			tk = &b->tokens[b->ntokens++];
			tk->text = NULL;
			tk->punct = (char) ch;
			tk->quoted = false;
			tk->line = line;
			tk->stmt = stmt;
			i++;
		}
	}
}

/* Is token k the keyword kw (an unquoted word)? */
static bool
is_kw(const Body *b, int k, const char *kw)
{
	return k < b->ntokens && b->tokens[k].text && !b->tokens[k].quoted &&
		strcmp(b->tokens[k].text, kw) == 0;
}

/* Is token k the character ch? */
static bool
is_punct(const Body *b, int k, char ch)
{
	return k < b->ntokens && b->tokens[k].text == NULL && b->tokens[k].punct == ch;
}

/*
 * The name a token stands for, as PostgreSQL stores it: lowercased
 * unless quoted (the scanner did that), cut at 63 bytes on a character
 * boundary.  Returned in buf (of MAX_IDENT_BYTES + 1 bytes).
 */
static const char *
stored_name(const char *text, char *buf)
{
	size_t		n = strlen(text);

	if (n > MAX_IDENT_BYTES)
	{
		n = MAX_IDENT_BYTES;
		while (n > 0 && ((unsigned char) text[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(buf, text, n);
	buf[n] = '\0';
	return buf;
}

/* The first token of b that names name (as stored), or -1 */
static int
find_name(const Body *b, const char *name)
{
	char		buf[MAX_IDENT_BYTES + 1];

	for (int k = 0; k < b->ntokens; k++)
		if (b->tokens[k].text && strcmp(stored_name(b->tokens[k].text, buf), name) == 0)
			return k;
	return -1;
}

/*
 * A qualified name at token *k (a, a.b or a.b.c): its last part, the
 * relation's own name; *k moves past it.  NULL when there is none.
 */
static const char *
relation_name(const Body *b, int *k)
{
	const char *last = NULL;

	while (*k < b->ntokens && b->tokens[*k].text)
	{
		last = b->tokens[*k].text;
		(*k)++;
		if (!is_punct(b, *k, '.'))
			break;
		(*k)++;
	}
	return last;
}

/*
 * Findings
 */
static void
add_finding(int file, int line, LintRule rule, const char *fmt,...)
	pg_attribute_printf(4, 5);

static void
add_finding(int file, int line, LintRule rule, const char *fmt,...)
{
	va_list		ap;
	char		msg[4096];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	findings = pg_realloc(findings, sizeof(Finding) * (nfindings + 1));
	findings[nfindings].file = file;
	findings[nfindings].line = line;
	findings[nfindings].rule = rule;
	findings[nfindings].message = pg_strdup(msg);
	nfindings++;
}

/*
 * Is the finding silenced: "lint-ignore:" in a comment on its line or the
 * line before, naming its rule (or "all")?
 */
static bool
silenced(const char *text, int line, LintRule rule)
{
	int			cur = 1;
	const char *p = text;

	if (line <= 0 || text == NULL)
		return false;
	while (*p && cur < line - 1)
	{
		if (*p++ == '\n')
			cur++;
	}
	for (int l = (line > 1 ? line - 1 : line); l <= line && *p; l++)
	{
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		const char *dash = NULL;

		for (const char *q = p; q + 1 < end; q++)
			if (q[0] == '-' && q[1] == '-')
			{
				dash = q;
				break;
			}
		if (dash)
		{
			const char *mark = NULL;

			for (const char *q = dash; q + 12 <= end; q++)
				if (strncmp(q, "lint-ignore:", 12) == 0)
				{
					mark = q + 12;
					break;
				}
			while (mark && mark < end)
			{
				size_t		n;

				while (mark < end && (*mark == ' ' || *mark == ',' || *mark == '\t'))
					mark++;
				n = 0;
				while (mark + n < end && (isalnum((unsigned char) mark[n]) || mark[n] == '-'))
					n++;
				if (n == 0)
					break;
				if ((n == 3 && strncmp(mark, "all", 3) == 0) ||
					(strlen(rule_names[rule]) == n && strncmp(mark, rule_names[rule], n) == 0))
					return true;
				mark += n;
			}
		}
		p = eol ? eol + 1 : end;
	}
	return false;
}

/*
 * The naming convention
 */
static const char *convention[NKINDS];

/*
 * Render template for object o as SQLAlchemy would; "%(constraint_name)s"
 * becomes a single '\x01' that matches any non-empty text.  NULL when a
 * token needs what o has not (a column of an expression index) or the
 * template has a token we do not know.
 */
static char *
render(const char *tmpl, const DbObject *o)
{
	PQExpBufferData out;
	const char *p = tmpl;

	initPQExpBuffer(&out);
	while (*p)
	{
		const char *close;
		char	   *tok;
		int			n;

		if (p[0] != '%' || p[1] != '(' || (close = strstr(p, ")s")) == NULL)
		{
			appendPQExpBufferChar(&out, *p++);
			continue;
		}
		tok = mg_xstrndup(p + 2, close - p - 2);
		p = close + 2;
		if (strcmp(tok, "table_name") == 0)
			appendPQExpBufferStr(&out, o->table);
		else if (strcmp(tok, "referred_table_name") == 0 && o->referred)
			appendPQExpBufferStr(&out, o->referred);
		else if (strcmp(tok, "constraint_name") == 0)
			appendPQExpBufferChar(&out, '\x01');
		else if ((strcmp(tok, "column_0_name") == 0 || strcmp(tok, "column_0_label") == 0) &&
				 o->ncolumns > 0 && o->columns[0])
		{
			if (tok[9] == 'l')
				appendPQExpBuffer(&out, "%s_", o->table);
			appendPQExpBufferStr(&out, o->columns[0]);
		}
		else if ((strcmp(tok, "column_0N_name") == 0 || strcmp(tok, "column_0_N_name") == 0) &&
				 o->ncolumns > 0)
		{
			for (n = 0; n < o->ncolumns; n++)
			{
				if (o->columns[n] == NULL)
					break;
				appendPQExpBuffer(&out, "%s%s", n > 0 && tok[9] == '_' ? "_" : "", o->columns[n]);
			}
			if (n < o->ncolumns)
				tok[0] = '\0';	/* an expression: not renderable */
		}
		else
			tok[0] = '\0';
		if (tok[0] == '\0')
		{
			free(tok);
			termPQExpBuffer(&out);
			return NULL;
		}
		free(tok);
	}
	return out.data;
}

/* Does name match pattern (render's output, '\x01' a wildcard)? */
static bool
matches(const char *pattern, const char *name)
{
	const char *wild = strchr(pattern, '\x01');
	size_t		pre,
				post,
				n = strlen(name);

	if (wild == NULL)
		return strcmp(pattern, name) == 0;
	pre = wild - pattern;
	post = strlen(wild + 1);
	return n > pre + post && strncmp(name, pattern, pre) == 0 &&
		strcmp(name + n - post, wild + 1) == 0;
}

/*
 * SQLAlchemy's own cut of a convention name longer than the limit: the
 * first 55 characters, "_" and the last 4 hex digits of its MD5 (the
 * server computes the MD5: the client links no hash code of its own).
 */
static bool
sqlalchemy_cut(PGconn *c, const char *full, const char *name)
{
	const char *params[2] = {full, name};
	PGresult   *res;
	bool		same;

	if (strlen(full) <= MAX_IDENT_BYTES || strchr(full, '\x01'))
		return false;
	res = PQexecParams(c, "SELECT (pg_catalog.substr($1, 1, 55) OPERATOR(pg_catalog.||) '_'"
					   " OPERATOR(pg_catalog.||) pg_catalog.right(pg_catalog.md5($1), 4))"
					   " OPERATOR(pg_catalog.=) $2", 2, NULL, params, NULL, NULL, 0);
	same = PQresultStatus(res) == PGRES_TUPLES_OK && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return same;
}

/* The convention kind of an object; -1: none applies (exclusion) */
static int
object_kind(const DbObject *o)
{
	switch (o->kind)
	{
		case 'p':
			return K_PK;
		case 'u':
			return K_UQ;
		case 'f':
			return K_FK;
		case 'c':
			return K_CK;
		case 'i':
		case 'U':
			return K_IX;		/* Index(unique=True) is "ix" for SQLAlchemy */
	}
	return -1;
}

static const char *
object_word(const DbObject *o)
{
	switch (o->kind)
	{
		case 'p':
			return "primary key";
		case 'u':
			return "unique constraint";
		case 'f':
			return "foreign key";
		case 'c':
			return "check constraint";
		case 'x':
			return "exclusion constraint";
		case 'U':
			return "unique index";
	}
	return "index";
}

/*
 * The database side
 */

/* Relations of the user's schemas: not system ones, not an extension's */
#define USER_RELATION(rel, nsp) \
	" " nsp ".nspname OPERATOR(pg_catalog.<>) ALL (ARRAY['pg_catalog', 'information_schema'])" \
	" AND " nsp ".nspname OPERATOR(pg_catalog.!~) '^pg_toast'" \
	" AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend e" \
	"  WHERE e.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass" \
	"  AND e.objid OPERATOR(pg_catalog.=) " rel ".oid AND e.deptype OPERATOR(pg_catalog.=) 'e')"

/*
 * Constraints and indexes, one row each: schema, table, name, kind,
 * columns (joined by \x1f, \x02 for an expression), referred table.
 * Constraints a partition inherits and partitions' indexes are left out:
 * they are named after the parent's.
 */
static const char objects_sql[] =
"SELECT n.nspname, t.relname, k.conname, k.contype::pg_catalog.text,"
"  pg_catalog.array_to_string(ARRAY(SELECT a.attname::pg_catalog.text"
"   FROM pg_catalog.unnest(k.conkey) WITH ORDINALITY AS u(attnum, ord)"
"   JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) k.conrelid"
"    AND a.attnum OPERATOR(pg_catalog.=) u.attnum ORDER BY u.ord), E'\\x1f'),"
"  r.relname"
" FROM pg_catalog.pg_constraint k"
" JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) k.conrelid"
" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) t.relnamespace"
" LEFT JOIN pg_catalog.pg_class r ON r.oid OPERATOR(pg_catalog.=) k.confrelid"
" WHERE k.contype OPERATOR(pg_catalog.=) ANY (ARRAY['p', 'u', 'f', 'c', 'x']::pg_catalog.\"char\"[])"
"  AND k.conparentid OPERATOR(pg_catalog.=) 0 AND k.coninhcount OPERATOR(pg_catalog.=) 0"
"  AND" USER_RELATION("t", "n")
" UNION ALL "
"SELECT n.nspname, t.relname, i.relname, CASE WHEN x.indisunique THEN 'U' ELSE 'i' END,"
"  pg_catalog.array_to_string(ARRAY(SELECT COALESCE(a.attname::pg_catalog.text, E'\\x02')"
"   FROM pg_catalog.unnest(x.indkey::pg_catalog.int2[]) WITH ORDINALITY AS u(attnum, ord)"
"   LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) x.indrelid"
"    AND a.attnum OPERATOR(pg_catalog.=) u.attnum"
"   WHERE u.ord OPERATOR(pg_catalog.<=) x.indnkeyatts ORDER BY u.ord), E'\\x1f'),"
"  NULL"
" FROM pg_catalog.pg_index x"
" JOIN pg_catalog.pg_class i ON i.oid OPERATOR(pg_catalog.=) x.indexrelid"
" JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) x.indrelid"
" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) t.relnamespace"
" WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k"
"   WHERE k.conindid OPERATOR(pg_catalog.=) x.indexrelid"
"   AND k.contype OPERATOR(pg_catalog.=) ANY (ARRAY['p', 'u', 'x']::pg_catalog.\"char\"[]))"
"  AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits h WHERE h.inhrelid OPERATOR(pg_catalog.=) x.indexrelid)"
"  AND" USER_RELATION("t", "n")
" ORDER BY 1, 2, 3";

/* Tables of the user's schemas, by name */
static const char tables_sql[] =
"SELECT DISTINCT t.relname FROM pg_catalog.pg_class t"
" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) t.relnamespace"
" WHERE t.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'm']::pg_catalog.\"char\"[])"
"  AND" USER_RELATION("t", "n")
" ORDER BY 1";

/*
 * Has a table of that name a column of that name whose default calls a
 * volatile function?  The functions are read from the stored expression
 * (pg_depend has no rows for built-in functions such as random() or
 * nextval(), which are pinned).
 */
static const char volatile_default_sql[] =
"SELECT EXISTS (SELECT FROM pg_catalog.pg_attrdef d"
" JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) d.adrelid"
" JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) d.adrelid"
"  AND a.attnum OPERATOR(pg_catalog.=) d.adnum"
" CROSS JOIN LATERAL pg_catalog.regexp_matches(d.adbin::pg_catalog.text,"
"  ':(?:funcid|opfuncid) ([0-9]+)', 'g') AS m(id)"
" JOIN pg_catalog.pg_proc f ON f.oid OPERATOR(pg_catalog.=) m.id[1]::pg_catalog.oid"
" WHERE t.relname OPERATOR(pg_catalog.=) $1 AND a.attname OPERATOR(pg_catalog.=) $2"
"  AND f.provolatile OPERATOR(pg_catalog.=) 'v')";

/* Has a table of that name a validated CHECK (col IS NOT NULL)? */
static const char not_null_check_sql[] =
"SELECT EXISTS (SELECT FROM pg_catalog.pg_constraint k"
" JOIN pg_catalog.pg_class t ON t.oid OPERATOR(pg_catalog.=) k.conrelid"
" JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) t.oid"
"  AND a.attname OPERATOR(pg_catalog.=) $2"
" WHERE t.relname OPERATOR(pg_catalog.=) $1 AND k.contype OPERATOR(pg_catalog.=) 'c'"
"  AND k.convalidated AND k.conkey OPERATOR(pg_catalog.=) ARRAY[a.attnum]"
"  AND pg_catalog.pg_get_constraintdef(k.oid) OPERATOR(pg_catalog.=)"
"   ('CHECK ((' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(a.attname)"
"   OPERATOR(pg_catalog.||) ' IS NOT NULL))'))";

/* The rows and size of a live database's table of that name */
static const char size_sql[] =
"SELECT GREATEST(t.reltuples, 0)::pg_catalog.int8,"
"  pg_catalog.pg_size_pretty(pg_catalog.pg_total_relation_size(t.oid))"
" FROM pg_catalog.pg_class t"
" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) t.relnamespace"
" WHERE t.relname OPERATOR(pg_catalog.=) $1"
"  AND t.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'm']::pg_catalog.\"char\"[])"
"  AND" USER_RELATION("t", "n")
" ORDER BY pg_catalog.pg_total_relation_size(t.oid) DESC LIMIT 1";

static bool
query_objects(PGconn *c, ObjectList *list)
{
	PGresult   *res = scratch_query(c, objects_sql, 0, NULL);

	if (res == NULL)
		return false;
	list->n = PQntuples(res);
	list->items = pg_malloc0(sizeof(DbObject) * (list->n + 1));
	for (int i = 0; i < list->n; i++)
	{
		DbObject   *o = &list->items[i];
		char	   *cols = PQgetvalue(res, i, 4);

		o->schema = pg_strdup(PQgetvalue(res, i, 0));
		o->table = pg_strdup(PQgetvalue(res, i, 1));
		o->name = pg_strdup(PQgetvalue(res, i, 2));
		o->kind = PQgetvalue(res, i, 3)[0];
		o->referred = PQgetisnull(res, i, 5) ? NULL : pg_strdup(PQgetvalue(res, i, 5));
		while (*cols)
		{
			char	   *sep = strchr(cols, '\x1f');
			size_t		n = sep ? (size_t) (sep - cols) : strlen(cols);

			o->columns = pg_realloc(o->columns, sizeof(char *) * (o->ncolumns + 1));
			o->columns[o->ncolumns++] = (n == 1 && cols[0] == '\x02') ? NULL : mg_xstrndup(cols, n);
			cols += n + (sep ? 1 : 0);
			if (sep == NULL)
				break;
		}
	}
	PQclear(res);
	return true;
}

static void
free_objects(ObjectList *list)
{
	for (int i = 0; i < list->n; i++)
	{
		DbObject   *o = &list->items[i];

		free(o->schema);
		free(o->table);
		free(o->name);
		free(o->referred);
		for (int k = 0; k < o->ncolumns; k++)
			free(o->columns[k]);
		free(o->columns);
	}
	free(list->items);
	list->items = NULL;
	list->n = 0;
}

/* Is o in list (same schema, table, name and kind)? */
static bool
has_object(const ObjectList *list, const DbObject *o)
{
	for (int i = 0; i < list->n; i++)
	{
		const DbObject *p = &list->items[i];

		if (p->kind == o->kind && strcmp(p->name, o->name) == 0 &&
			strcmp(p->table, o->table) == 0 && strcmp(p->schema, o->schema) == 0)
			return true;
	}
	return false;
}

/* Is there a table named name in res (tables_sql's result)? */
static bool
has_table(const PGresult *res, const char *name)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 0), name) == 0)
			return true;
	return false;
}

/* A query with two text parameters whose answer is one boolean */
static bool
ask(PGconn *c, const char *sql, const char *a, const char *b, bool *answer)
{
	const char *params[2] = {a, b};
	PGresult   *res = scratch_query(c, sql, 2, params);

	if (res == NULL)
		return false;
	*answer = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return true;
}

/*
 * A body's tokens and statements: the core's splitter finds the
 * statements (as the executor splits a non-transactional body), the
 * scanner above their tokens.  False when the body cannot be split (an
 * unterminated quote or comment: the load has already refused that).
 */
static bool
parse_body(const char *body, Body *b)
{
	MgStmt	   *stmts;
	int			n;
	MgSplitError err;

	memset(b, 0, sizeof(*b));
	if (!mg_split_sql(body, strlen(body), NULL, NULL, &stmts, &n, &err))
		return false;
	b->stmt_line = pg_malloc(sizeof(int) * (n + 1));
	b->nstmts = n;
	for (int i = 0; i < n; i++)
	{
		b->stmt_line[i] = stmts[i].line;
		scan_tokens(b, body, (int) stmts[i].offset, (int) (stmts[i].offset + stmts[i].len),
					stmts[i].line, i);
	}
	free(stmts);
	return true;
}

static void
free_body(Body *b)
{
	for (int k = 0; k < b->ntokens; k++)
		free(b->tokens[k].text);
	free(b->tokens);
	free(b->stmt_line);
}

/* A statement that may be risky, found before the step runs */
typedef struct Candidate
{
	LintRule	rule;
	int			line;			/* in the body */
	const char *table;
	const char *column;
	bool		checked_before; /* set-not-null: a validated CHECK before */
} Candidate;

static Candidate *
add_candidate(Candidate *cands, int *n, LintRule rule, int line, const char *table,
			  const char *column)
{
	cands = pg_realloc(cands, sizeof(Candidate) * (*n + 1));
	cands[*n].rule = rule;
	cands[*n].line = line;
	cands[*n].table = table;
	cands[*n].column = column;
	cands[*n].checked_before = false;
	(*n)++;
	return cands;
}

/* Is token k a word (keyword or name)? */
static bool
is_word(const Body *b, int k)
{
	return k < b->ntokens && b->tokens[k].text != NULL;
}

/* The risky statements of a body: CREATE INDEX and ALTER TABLE actions */
static Candidate *
find_candidates(const Body *b, int *ncands)
{
	Candidate  *cands = NULL;

	*ncands = 0;
	for (int a = 0; a < b->ntokens;)
	{
		int			end = a;
		int			k;
		int			line = b->tokens[a].line;

		while (end < b->ntokens && b->tokens[end].stmt == b->tokens[a].stmt)
			end++;
		k = a + 1;
		if (is_kw(b, a, "create") && (is_kw(b, k, "index") ||
									  (is_kw(b, k, "unique") && is_kw(b, k + 1, "index"))))
		{
			bool		concurrently;

			k += is_kw(b, k, "unique") ? 2 : 1;
			concurrently = is_kw(b, k, "concurrently");
			while (k < end && !is_kw(b, k, "on"))
				k++;
			k++;
			if (is_kw(b, k, "only"))
				k++;
			if (!concurrently && k < end && is_word(b, k))
			{
				const char *table = relation_name(b, &k);

				cands = add_candidate(cands, ncands, R_INDEX, line, table, NULL);
			}
		}
		else if (is_kw(b, a, "alter") && is_kw(b, k, "table"))
		{
			const char *table;

			k++;
			if (is_kw(b, k, "if") && is_kw(b, k + 1, "exists"))
				k += 2;
			if (is_kw(b, k, "only"))
				k++;
			table = relation_name(b, &k);
			/* the actions, separated by commas outside parentheses */
			while (table && k < end)
			{
				int			action = k;
				int			depth = 0;
				int			aline = b->tokens[k].line;

				while (k < end && !(depth == 0 && is_punct(b, k, ',')))
				{
					if (is_punct(b, k, '('))
						depth++;
					else if (is_punct(b, k, ')'))
						depth--;
					k++;
				}
				if (is_kw(b, action, "alter"))
				{
					int			c = action + 1 + (is_kw(b, action + 1, "column") ? 1 : 0);

					if (is_word(b, c))
					{
						const char *col = b->tokens[c].text;

						if (is_kw(b, c + 1, "type") ||
							(is_kw(b, c + 1, "set") && is_kw(b, c + 2, "data") && is_kw(b, c + 3, "type")))
							cands = add_candidate(cands, ncands, R_ALTER_TYPE, aline, table, col);
						else if (is_kw(b, c + 1, "set") && is_kw(b, c + 2, "not") && is_kw(b, c + 3, "null"))
							cands = add_candidate(cands, ncands, R_SET_NOT_NULL, aline, table, col);
					}
				}
				else if (is_kw(b, action, "add") &&
						 !is_kw(b, action + 1, "constraint") && !is_kw(b, action + 1, "primary") &&
						 !is_kw(b, action + 1, "unique") && !is_kw(b, action + 1, "check") &&
						 !is_kw(b, action + 1, "foreign") && !is_kw(b, action + 1, "exclude"))
				{
					int			c = action + 1 + (is_kw(b, action + 1, "column") ? 1 : 0);

					if (is_kw(b, c, "if") && is_kw(b, c + 1, "not") && is_kw(b, c + 2, "exists"))
						c += 3;
					if (is_word(b, c))
						cands = add_candidate(cands, ncands, R_VOLATILE_DEFAULT, aline, table,
											  b->tokens[c].text);
				}
				k++;			/* past the comma */
			}
		}
		a = end;
	}
	return cands;
}

/* Line in the file of the first line of rf's upgrade body (text: the file) */
static int
upgrade_body_line(const MgRevFile *rf, const char *text)
{
	int			marker = rf->line[MG_KEY_UPGRADE];
	const char *p = text;
	const char *found;
	int			line = 1;

	if (text == NULL || marker <= 0)
		return marker + 1;
	while (*p && line <= marker)
		if (*p++ == '\n')
			line++;
	found = strstr(p, rf->upgrade);
	if (found == NULL)
		return marker + 1;
	for (; p < found; p++)
		if (*p == '\n')
			line++;
	return line;
}

/* The naming checks of one object the step created */
static void
check_object(PGconn *c, int file, const MgRevFile *rf, const Body *b, int line0, const DbObject *o)
{
	int			k = find_name(b, o->name);
	int			kind;
	char	   *expected;

	if (k < 0)
	{
		/*
		 * The line: that of its first column after the first mention of
		 * its table (the column's definition, or the constraint's clause),
		 * else that of the statement mentioning the table.
		 */
		int			t = find_name(b, o->table);
		int			line = rf->line[MG_KEY_UPGRADE];

		if (t >= 0)
		{
			char		cbuf[MAX_IDENT_BYTES + 1];

			line = line0 + b->stmt_line[b->tokens[t].stmt] - 1;
			for (int j = t + 1; o->ncolumns > 0 && o->columns[0] && j < b->ntokens &&
				 b->tokens[j].stmt == b->tokens[t].stmt; j++)
				if (b->tokens[j].text && strcmp(stored_name(b->tokens[j].text, cbuf), o->columns[0]) == 0)
				{
					line = line0 + b->tokens[j].line - 1;
					break;
				}
		}
		add_finding(file, line, R_UNNAMED,
					"%s \"%s\" on table \"%s\" has a name PostgreSQL chose; name it in the revision",
					object_word(o), o->name, o->table);
		return;
	}
	if ((kind = object_kind(o)) < 0 || convention[kind] == NULL)
		return;
	if ((expected = render(convention[kind], o)) == NULL)
		return;
	if (!matches(expected, o->name) && !sqlalchemy_cut(c, expected, o->name))
	{
		char		buf[MAX_IDENT_BYTES + 1];
		char	   *shown = pg_strdup(expected);

		for (char *w = strchr(shown, '\x01'); w; w = strchr(shown, '\x01'))
		{
			char	   *fixed = psprintf("%.*s<name>%s", (int) (w - shown), shown, w + 1);

			free(shown);
			shown = fixed;
		}
		/* a long convention name cut by PostgreSQL is truncated-name's finding */
		if (strlen(expected) <= MAX_IDENT_BYTES || strchr(expected, '\x01') ||
			strcmp(stored_name(expected, buf), o->name) != 0)
			add_finding(file, line0 + b->tokens[k].line - 1, R_NAMING,
						"%s \"%s\" on table \"%s\" does not follow the naming convention: expected \"%s\" (%s = %s)",
						object_word(o), o->name, o->table, shown, kind_names[kind], convention[kind]);
		free(shown);
	}
	free(expected);
}

/* The table's size in the live database, as " (about N rows, SIZE)" */
static char *
size_note(PGconn *live, const char *table)
{
	const char *params[1] = {table};
	PGresult   *res;
	char	   *note;

	if (live == NULL)
		return pg_strdup("");
	res = PQexecParams(live, size_sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		pg_log_warning("could not read the size of table \"%s\" in the --sizes-from database: %s",
					   esc(table), esc(PQresultErrorMessage(res)));
		note = pg_strdup("");
	}
	else if (PQntuples(res) != 1)
		note = pg_strdup(" (not in the live database)");
	else
		note = psprintf(" (in the live database: about %s rows, %s)",
						PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	return note;
}

/*
 * Lint one revision: its statements, then its step (upgrade to it from
 * its parents, which ran before), then the objects the step created.
 * before: the objects before the step; replaced by those after it.
 * Returns false after reporting a failure.
 */
static bool
lint_revision(PGconn *c, PGconn *live, const char *ext, const MgRevSet *set, int file,
			  ObjectList *before)
{
	const MgRevFile *rf = set->files[file];
	char	   *text = NULL;
	size_t		len;
	MgDiags		diags = {0};
	Body		b;
	Candidate  *cands;
	int			ncands;
	int			line0;
	PGresult   *tables;
	PGresult   *res;
	ObjectList	after = {0};
	char	   *sql;
	const char *params[1];
	char		buf[MAX_IDENT_BYTES + 1];
	bool		ok = false;

	if (!mg_read_file(rf->path, &text, &len, &diags))
		text = NULL;			/* lines then come from the parser's markers */
	mg_diags_free(&diags);
	line0 = upgrade_body_line(rf, text);
	if (!parse_body(rf->upgrade, &b))
	{
		free(text);
		return true;			/* nothing this command can read */
	}

	/* identifiers PostgreSQL cuts */
	for (int k = 0; k < b.ntokens; k++)
		if (b.tokens[k].text && strlen(b.tokens[k].text) > MAX_IDENT_BYTES)
			add_finding(file, line0 + b.tokens[k].line - 1, R_TRUNCATED,
						"identifier \"%s\" is %d bytes long; PostgreSQL truncates it to \"%s\"",
						b.tokens[k].text, (int) strlen(b.tokens[k].text),
						stored_name(b.tokens[k].text, buf));

	cands = find_candidates(&b, &ncands);
	if ((tables = scratch_query(c, tables_sql, 0, NULL)) == NULL)
		goto done;
	for (int i = 0; i < ncands; i++)
		if (cands[i].rule == R_SET_NOT_NULL &&
			!ask(c, not_null_check_sql, cands[i].table, cands[i].column, &cands[i].checked_before))
			goto done;

	sql = psprintf("SELECT pg_catalog.count(*) FROM %s.migrate_upgrade($1)", ext);
	params[0] = rf->revision;
	res = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		PGconn	   *save = conn;

		conn = c;
		report_result_error_at(res, rf->path, rf->line[MG_KEY_UPGRADE]);
		conn = save;
		pg_log_error_hint("Lint builds the schema by upgrading every revision in a scratch database; revision \"%s\" failed there.",
						  esc(rf->revision));
		PQclear(res);
		goto done;
	}
	PQclear(res);

	if (!query_objects(c, &after))
		goto done;
	for (int i = 0; i < after.n; i++)
		if (!has_object(before, &after.items[i]))
			check_object(c, file, rf, &b, line0, &after.items[i]);

	for (int i = 0; i < ncands; i++)
	{
		Candidate  *cd = &cands[i];
		int			line = line0 + cd->line - 1;
		bool		yes;
		char	   *note;

		/* a table this revision created is empty: nothing to lock for long */
		if (!has_table(tables, cd->table))
			continue;
		note = size_note(live, cd->table);
		switch (cd->rule)
		{
			case R_INDEX:
				add_finding(file, line, R_INDEX,
							"CREATE INDEX without CONCURRENTLY on table \"%s\" blocks writes to it while the index builds%s",
							cd->table, note);
				break;
			case R_ALTER_TYPE:
				add_finding(file, line, R_ALTER_TYPE,
							"ALTER COLUMN \"%s\" TYPE on table \"%s\" holds an ACCESS EXCLUSIVE lock and may rewrite the table%s",
							cd->column, cd->table, note);
				break;
			case R_VOLATILE_DEFAULT:
				if (!ask(c, volatile_default_sql, cd->table, cd->column, &yes))
				{
					free(note);
					goto done;
				}
				if (yes)
					add_finding(file, line, R_VOLATILE_DEFAULT,
								"ADD COLUMN \"%s\" with a volatile default rewrites table \"%s\" under an ACCESS EXCLUSIVE lock%s",
								cd->column, cd->table, note);
				break;
			case R_SET_NOT_NULL:
				if (!ask(c, not_null_check_sql, cd->table, cd->column, &yes))
				{
					free(note);
					goto done;
				}
				if (!yes && !cd->checked_before)
					add_finding(file, line, R_SET_NOT_NULL,
								"SET NOT NULL on column \"%s\" of table \"%s\" scans the table under an ACCESS EXCLUSIVE lock; add CHECK (%s IS NOT NULL) NOT VALID and validate it first%s",
								cd->column, cd->table, cd->column, note);
				break;
			default:
				break;
		}
		free(note);
	}
	free_objects(before);
	*before = after;
	after.items = NULL;
	after.n = 0;
	ok = true;

done:
	free_objects(&after);
	PQclear(tables);
	free(cands);
	free_body(&b);
	/* the file's text stays for the silencing comments */
	free(text);
	return ok;
}

/* findings in file order, then by line */
static int
finding_cmp(const void *a, const void *b)
{
	const Finding *x = a;
	const Finding *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return (int) x->rule - (int) y->rule;
}

/* --naming-convention KIND=TEMPLATE */
static void
set_convention(const char *arg)
{
	const char *eq = strchr(arg, '=');

	for (int k = 0; eq && k < NKINDS; k++)
		if ((size_t) (eq - arg) == strlen(kind_names[k]) &&
			strncmp(arg, kind_names[k], eq - arg) == 0)
		{
			convention[k] = eq[1] ? eq + 1 : NULL;
			return;
		}
	usage_error_detail("KIND is one of ix, uq, ck, fk and pk; an empty TEMPLATE turns that kind's check off.",
					   "invalid --naming-convention \"%s\": expected KIND=TEMPLATE", arg);
}

/* pg_migrate lint [options] DIR... */
int
cmd_lint(int argc, char **argv)
{
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		{"recursive", no_argument, NULL, 'r'},
		{"naming-convention", required_argument, NULL, 1},
		{"no-naming-convention", no_argument, NULL, 2},
		{"sizes-from", required_argument, NULL, 3},
		FOLLOW_LINKS_LONG_OPTION,
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	bool		recursive = false;
	const char *sizes_from = NULL;
	MgRevSet	set = {0};
	PGconn	   *c = NULL;
	PGconn	   *live = NULL;
	PGresult   *res;
	ObjectList	objects = {0};
	char	   *db;
	char	   *ext;
	char	   *sql;
	int			counts[3];
	int			shown = 0;
	int			silent = 0;
	int			opt;
	int			status = EXIT_FAILED;

	for (int k = 0; k < NKINDS; k++)
		convention[k] = default_convention[k];
	while ((opt = getopt_long(argc, argv, CONN_SHORT_OPTIONS "r", long_options, NULL)) != -1)
	{
		if (conn_option(opt))
			continue;
		switch (opt)
		{
			case 'r':
				recursive = true;
				break;
			case 1:
				set_convention(optarg);
				break;
			case 2:
				for (int k = 0; k < NKINDS; k++)
					convention[k] = NULL;
				break;
			case 3:
				sizes_from = optarg;
				break;
			case FOLLOW_LINKS_OPTION:
				follow_external_links = true;
				break;
			default:
				bad_option();
		}
	}
	if (optind >= argc)
		usage_error("lint needs at least one directory");
	if (!read_dirs(&set, argv + optind, argc - optind, recursive, true))
		return EXIT_FAILED;
	if (set.n == 0)
	{
		printf("no revisions to lint\n");
		return 0;
	}
	if (!check_row_sizes(&set))
		return EXIT_FAILED;

	if (sizes_from)
	{
		live = PQconnectdb(sizes_from);
		if (PQstatus(live) != CONNECTION_OK)
		{
			pg_log_error("could not connect to the --sizes-from database: %s", esc(PQerrorMessage(live)));
			PQfinish(live);
			return EXIT_FAILED;
		}
	}

	/* the revisions, loaded into a scratch database */
	if ((db = scratch_create()) == NULL || (c = scratch_connect(db)) == NULL)
		goto done;
	conn = c;					/* load_revisions works on conn */
	if (!load_revisions(&set, false, true, counts))
	{
		conn = scratch_server();
		pg_log_error_hint("The revisions could not be loaded into a scratch database.");
		goto done;
	}
	conn = scratch_server();
	if ((ext = ext_schema_in(c)) == NULL)
		goto done;

	/* the order an upgrade to heads runs them in, then each on its own */
	sql = psprintf("SELECT revision FROM %s.migrate_upgrade('heads')", ext);
	if ((res = scratch_query(c, "BEGIN", 0, NULL)) == NULL)
		goto done;
	PQclear(res);
	res = PQexec(c, sql);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		/*
		 * A step failed: the error's context names its revision
		 * ("upgrade of revision \"X\""), whose file the error is reported
		 * at.
		 */
		const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
		const char *p = ctx ? strstr(ctx, "of revision \"") : NULL;
		int			file = -1;

		if (p)
		{
			const char *id = p + strlen("of revision \"");
			const char *q = strchr(id, '"');
			char	   *rev = q ? mg_xstrndup(id, q - id) : NULL;

			file = rev ? mg_revset_find(&set, rev) : -1;
			free(rev);
		}
		conn = c;
		if (file >= 0)
			report_result_error_at(res, set.files[file]->path,
								   set.files[file]->line[MG_KEY_UPGRADE]);
		else
			report_result_error(res);
		conn = scratch_server();
		pg_log_error_hint("Lint builds the schema by upgrading every revision in a scratch database; the upgrade failed there.");
		PQclear(res);
		goto done;
	}
	PQclear(PQexec(c, "ROLLBACK"));
	if (!query_objects(c, &objects))
		goto done;
	pg_log_info("linting %d revisions in scratch database \"%s\"", set.n, esc(db));
	for (int i = 0; i < PQntuples(res); i++)
	{
		int			file = mg_revset_find(&set, PQgetvalue(res, i, 0));

		if (file < 0 || !lint_revision(c, live, ext, &set, file, &objects))
		{
			PQclear(res);
			goto done;
		}
	}
	PQclear(res);

	/* the findings, by file and line, without the silenced ones */
	qsort(findings, nfindings, sizeof(Finding), finding_cmp);
	for (int i = 0; i < nfindings; i++)
	{
		const Finding *f = &findings[i];
		const MgRevFile *rf = set.files[f->file];
		char	   *text = NULL;
		size_t		len;
		MgDiags		diags = {0};

		if (mg_read_file(rf->path, &text, &len, &diags) && silenced(text, f->line, f->rule))
			silent++;
		else
		{
			printf("%s:%d: revision %s: %s: %s\n", esc(rf->path), f->line, esc(rf->revision),
				   rule_names[f->rule], esc(f->message));
			shown++;
		}
		mg_diags_free(&diags);
		free(text);
	}
	fflush(stdout);
	if (shown > 0)
	{
		pg_log_error("%d finding%s in %d revision%s", shown, shown == 1 ? "" : "s",
					 set.n, set.n == 1 ? "" : "s");
		if (silent > 0)
			pg_log_error_detail("%d more silenced by lint-ignore comments.", silent);
		pg_log_error_hint("Fix them, or silence one with a comment \"-- lint-ignore: RULE\" on its line or the line before.");
	}
	else
	{
		printf("no findings in %d revision%s", set.n, set.n == 1 ? "" : "s");
		if (silent > 0)
			printf(" (%d silenced)", silent);
		printf("\n");
		status = 0;
	}

done:
	free_objects(&objects);
	if (c)
	{
		PQfinish(c);
		conn = scratch_server();
	}
	scratch_drop_all();
	PQfinish(live);
	return status;
}
