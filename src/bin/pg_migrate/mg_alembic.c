/*-------------------------------------------------------------------------
 *
 * mg_alembic.c
 *	  Reading the revision headers of Alembic revision files (Python) without
 *	  Python, for "pg_migrate check --alembic".
 *
 * Alembic imports each revision module and reads four module attributes
 * (revision, down_revision, branch_labels, depends_on) and the module's
 * docstring.  Revision files written by "alembic revision" assign them at
 * the top level as literals: a string, None, or a tuple or list of strings,
 * in either quoting style, and newer templates annotate the assignment
 * ("down_revision: Union[str, None] = 'abc'").  This file recognises exactly
 * those forms with a small scanner that knows Python's comments, string
 * literals, brackets and line continuations (so that text inside a string
 * or an indented block is never taken for an assignment), and refuses
 * everything else assigned to one of the four names with the file and line:
 * a value computed at import time cannot be known without running Python.
 *
 * The result is an MgRevFile per module, with an empty upgrade body, so
 * that check builds and prints the graph exactly as it does for revision
 * files.  Which files are revisions follows Alembic 1.8: every "*.py" entry
 * of a version directory except "__init__*" and ".#*", not recursing; the
 * files are taken in byte order of names (Alembic 1.8 takes os.listdir's
 * order, which no directory guarantees).
 *
 * This file must not judge names or the graph: names go through
 * mg_check_name, the graph through the core.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mg_core.h"
#include "mg_revfile.h"
#include "mg_alembic.h"

/* The module attributes Alembic reads */
typedef enum AlKey
{
	AL_REVISION,
	AL_DOWN_REVISION,
	AL_BRANCH_LABELS,
	AL_DEPENDS_ON,
	AL_NKEYS
} AlKey;

static const char *const al_key_names[AL_NKEYS] = {
	"revision", "down_revision", "branch_labels", "depends_on"
};

/* The revision file's key that each attribute fills */
static const MgKey al_mg_keys[AL_NKEYS] = {
	MG_KEY_REVISION, MG_KEY_DOWN_REVISION, MG_KEY_BRANCH_LABELS,
	MG_KEY_DEPENDS_ON
};

/* The scanner's position in one file */
typedef struct Scan
{
	const char *buf;
	const char *p;
	const char *end;
	const char *path;
	int			line;			/* line of p, 1-based */
	MgDiags    *diags;
} Scan;

/* A parsed value: None, or a list of strings */
typedef struct AlValue
{
	char	  **items;
	int			n;
	int			line;			/* line of the assignment, 0 when absent */
} AlValue;

static void
value_free(AlValue *v)
{
	for (int i = 0; i < v->n; i++)
		free(v->items[i]);
	free(v->items);
	v->items = NULL;
	v->n = 0;
}

static void
value_append(AlValue *v, char *s)
{
	v->items = mg_xrealloc(v->items, sizeof(char *) * (size_t) (v->n + 1));
	v->items[v->n++] = s;
}

/* Move one byte on, counting lines */
static inline void
advance(Scan *s)
{
	if (*s->p == '\n')
		s->line++;
	s->p++;
}

static inline bool
at_end(const Scan *s)
{
	return s->p >= s->end;
}

/* Does a string literal start at p (an optional prefix, then a quote)? */
static int
string_prefix_len(const char *p, const char *end)
{
	int			n = 0;

	while (n < 2 && p + n < end && strchr("rRuUbBfF", p[n]) != NULL && p[n] != '\0')
		n++;
	if (p + n < end && (p[n] == '\'' || p[n] == '"'))
		return n;
	return -1;
}

/*
 * scan_string
 *		Read the string literal at s->p (prefix included) and leave s->p
 *		after it.  With out, the literal's value is stored there (a new
 *		string; escapes of a non-raw literal decoded, the common ones only).
 *		Returns false after a diagnostic for an unterminated literal, or, with
 *		out, for a bytes or f-string literal, whose value is not a str.
 */
static bool
scan_string(Scan *s, char **out)
{
	int			plen = string_prefix_len(s->p, s->end);
	bool		raw = false;
	bool		notstr = false;
	int			start_line = s->line;
	char		q;
	bool		triple;
	char	   *val = NULL;
	size_t		nval = 0;

	for (int i = 0; i < plen; i++)
	{
		raw |= (s->p[i] == 'r' || s->p[i] == 'R');
		notstr |= strchr("bBfF", s->p[i]) != NULL;
	}
	s->p += plen;
	q = *s->p;
	triple = s->end - s->p >= 3 && s->p[1] == q && s->p[2] == q;
	s->p += triple ? 3 : 1;
	if (out)
		val = mg_xmalloc((size_t) (s->end - s->p) + 1);
	for (;;)
	{
		char		c;

		if (at_end(s) || (!triple && *s->p == '\n'))
		{
			MgDiag	   *d = mg_diag_add(s->diags, s->path, start_line,
										"unterminated string literal");

			mg_diag_hint(d, "pg_migrate reads the revision headers of Alembic files that Python can import.");
			free(val);
			return false;
		}
		c = *s->p;
		if (c == q && (!triple || (s->end - s->p >= 3 && s->p[1] == q && s->p[2] == q)))
		{
			s->p += triple ? 3 : 1;
			break;
		}
		if (c == '\\' && s->p + 1 < s->end)
		{
			char		e = s->p[1];

			advance(s);
			if (raw)
			{
				if (val)
					val[nval++] = '\\';
			}
			else if (e == '\n')
			{
				advance(s);		/* a continued line */
				continue;
			}
			else if (val && strchr("nt\\'\"", e) != NULL)
			{
				val[nval++] = e == 'n' ? '\n' : e == 't' ? '\t' : e;
				advance(s);
				continue;
			}
			else if (val)
				val[nval++] = '\\';
			c = *s->p;
		}
		if (val)
			val[nval++] = c;
		advance(s);
	}
	if (out)
	{
		if (notstr)
		{
			MgDiag	   *d = mg_diag_add(s->diags, s->path, start_line,
										"bytes or f-string literal in a revision header");

			mg_diag_hint(d, "Write the value as a plain string literal.");
			free(val);
			return false;
		}
		val[nval] = '\0';
		*out = val;
	}
	return true;
}

/* Skip spaces and tabs (and, with newlines, line breaks and comments) */
static void
skip_blank(Scan *s, bool newlines)
{
	while (!at_end(s))
	{
		char		c = *s->p;

		if (c == ' ' || c == '\t' || c == '\f' || c == '\r')
			advance(s);
		else if (c == '\\' && s->p + 1 < s->end && s->p[1] == '\n')
		{
			advance(s);
			advance(s);
		}
		else if (newlines && c == '\n')
			advance(s);
		else if (newlines && c == '#')
		{
			while (!at_end(s) && *s->p != '\n')
				advance(s);
		}
		else
			break;
	}
}

/*
 * skip_until
 *		Skip Python text up to the first byte of stop found outside brackets
 *		and strings (stop NULL: up to the end of the logical line, the
 *		newline consumed).  Returns false after a diagnostic for an
 *		unterminated string.
 */
static bool
skip_until(Scan *s, const char *stop)
{
	int			depth = 0;

	while (!at_end(s))
	{
		char		c = *s->p;

		if (depth == 0 && stop && strchr(stop, c) != NULL)
			return true;
		if (c == '#')
		{
			while (!at_end(s) && *s->p != '\n')
				advance(s);
			continue;
		}
		if (string_prefix_len(s->p, s->end) >= 0 &&
			(s->p == s->buf || !(s->p[-1] == '_' || (s->p[-1] >= 'a' && s->p[-1] <= 'z') ||
								 (s->p[-1] >= 'A' && s->p[-1] <= 'Z') ||
								 (s->p[-1] >= '0' && s->p[-1] <= '9'))))
		{
			if (!scan_string(s, NULL))
				return false;
			continue;
		}
		if (c == '\\' && s->p + 1 < s->end && s->p[1] == '\n')
		{
			advance(s);
			advance(s);
			continue;
		}
		if (c == '(' || c == '[' || c == '{')
			depth++;
		else if ((c == ')' || c == ']' || c == '}') && depth > 0)
			depth--;
		else if (c == '\n' && depth == 0 && stop == NULL)
		{
			advance(s);
			return true;
		}
		advance(s);
	}
	return true;
}

/* Report a value pg_migrate cannot read as a literal */
static bool
not_literal(Scan *s, int line, const char *key)
{
	MgDiag	   *d = mg_diag_add(s->diags, s->path, line,
								"could not read the value of %s", key);

	mg_diag_detail(d, "pg_migrate reads a string literal, None, or a tuple or list of string literals, without running Python.");
	mg_diag_hint(d, "Write the value as a literal, as \"alembic revision\" does.");
	return false;
}

/*
 * parse_value
 *		Parse the literal after "key =" into v: None, a string, or a tuple
 *		or list of strings, followed by the end of the statement.  Returns
 *		false after a diagnostic.
 */
static bool
parse_value(Scan *s, const char *key, int line, AlValue *v)
{
	value_free(v);
	v->line = line;
	skip_blank(s, false);
	if (at_end(s))
		return not_literal(s, line, key);
	if (s->end - s->p >= 4 && strncmp(s->p, "None", 4) == 0 &&
		(s->end - s->p == 4 || strchr(" \t\r\n#;)", s->p[4]) != NULL))
		s->p += 4;
	else if (string_prefix_len(s->p, s->end) >= 0)
	{
		char	   *str;

		if (!scan_string(s, &str))
			return false;
		value_append(v, str);
	}
	else if (*s->p == '(' || *s->p == '[')
	{
		char		close = *s->p == '(' ? ')' : ']';

		advance(s);
		for (;;)
		{
			char	   *str;

			skip_blank(s, true);
			if (!at_end(s) && *s->p == close)
			{
				advance(s);
				break;
			}
			if (string_prefix_len(s->p, s->end) < 0)
				return not_literal(s, s->line, key);
			if (!scan_string(s, &str))
				return false;
			value_append(v, str);
			skip_blank(s, true);
			if (!at_end(s) && *s->p == ',')
				advance(s);
			else if (at_end(s) || *s->p != close)
				return not_literal(s, s->line, key);
		}
	}
	else
		return not_literal(s, line, key);

	/* then only a comment, a semicolon or the end of the line */
	skip_blank(s, false);
	if (!at_end(s) && *s->p == '#')
		while (!at_end(s) && *s->p != '\n')
			advance(s);
	if (!at_end(s) && *s->p != '\n' && *s->p != ';')
		return not_literal(s, line, key);
	return true;
}

/* Is the identifier at p..p+n one of the four keys?  Its index or -1 */
static int
match_key(const char *p, size_t n)
{
	for (int k = 0; k < AL_NKEYS; k++)
		if (strlen(al_key_names[k]) == n && strncmp(p, al_key_names[k], n) == 0)
			return k;
	return -1;
}

static inline bool
ident_char(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || (unsigned char) c >= 0x80;
}

/*
 * The docstring's first line: the module's first statement, when it is a
 * string literal, stripped as Alembic strips it; NULL when there is none.
 */
static char *
first_doc_line(char *doc)
{
	char	   *p = doc;
	char	   *e;

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	e = p + strcspn(p, "\n");
	while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	if (e == p)
		return NULL;
	return mg_xstrndup(p, (size_t) (e - p));
}

/* Check each name of a value with the one rule for names */
static bool
check_names(Scan *s, AlKey key, const AlValue *v, const char *owner)
{
	static const MgNameKind kinds[AL_NKEYS] = {
		MG_NAME_REVISION, MG_NAME_DOWN_REVISION, MG_NAME_BRANCH_LABEL,
		MG_NAME_DEPENDENCY
	};

	for (int i = 0; i < v->n; i++)
	{
		MgNameProblem np;

		if (!mg_check_name(kinds[key], v->items[i], strlen(v->items[i]),
						   key == AL_REVISION ? NULL : owner, &np))
		{
			MgDiag	   *d = mg_diag_add(s->diags, s->path, v->line, "%s", np.message);

			mg_diag_detail(d, "%s", np.detail);
			return false;
		}
		for (int j = 0; j < i; j++)
			if (strcmp(v->items[i], v->items[j]) == 0)
			{
				mg_diag_add(s->diags, s->path, v->line,
							"\"%s\" appears twice in %s", v->items[i],
							al_key_names[key]);
				return false;
			}
	}
	return true;
}

/* Does name (a file name) look like Alembic's legacy "<hex>.py"? */
static char *
legacy_revision(const char *name)
{
	size_t		n = strspn(name, "0123456789abcdef");

	if (n > 0 && strcmp(name + n, ".py") == 0)
		return mg_xstrndup(name, n);
	return NULL;
}

/*
 * mg_alembic_parse: see mg_alembic.h.  One pass over the module's logical
 * lines: a statement at column 0 that assigns one of the four names is
 * parsed, every other statement skipped (strings and brackets included);
 * the last assignment of a name wins, as in Python.
 */
MgRevFile *
mg_alembic_parse(const char *path, const char *name, const char *source,
				 const char *buf, size_t len, MgDiags *diags)
{
	Scan		s = {buf, buf, buf + len, path, 1, diags};
	AlValue		vals[AL_NKEYS] = {{0}};
	char	   *doc = NULL;
	int			doc_line = 0;
	bool		first = true;
	MgRevFile  *rf = NULL;

	if (memchr(buf, '\0', len) != NULL || !mg_utf8_valid(buf, len))
	{
		MgDiag	   *d = mg_diag_add(diags, path, 0,
									"file is not valid UTF-8 text");

		mg_diag_hint(d, "Alembic revision files are Python source in UTF-8.");
		return NULL;
	}
	/* a UTF-8 byte order mark is allowed before the first statement */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		s.p += 3;

	while (!at_end(&s))
	{
		const char *stmt = s.p;
		int			line = s.line;
		size_t		n = 0;
		int			key;

		skip_blank(&s, false);
		if (at_end(&s))
			break;
		if (*s.p == '\n' || *s.p == '#')
		{
			if (!skip_until(&s, NULL))
				goto fail;
			continue;
		}
		if (s.p != stmt)
		{
			/* an indented line: inside a block, not a module attribute */
			first = false;
			if (!skip_until(&s, NULL))
				goto fail;
			continue;
		}
		/* a bytes or f-string literal is no docstring (__doc__ stays None) */
		if (first && string_prefix_len(s.p, s.end) >= 0 &&
			strchr("bBfF", s.p[0]) == NULL &&
			(string_prefix_len(s.p, s.end) < 2 || strchr("bBfF", s.p[1]) == NULL))
		{
			doc_line = s.line;
			if (!scan_string(&s, &doc))
				goto fail;
			first = false;
			if (!skip_until(&s, NULL))
				goto fail;
			continue;
		}
		first = false;
		while (s.p + n < s.end && ident_char(s.p[n]))
			n++;
		key = n > 0 ? match_key(s.p, n) : -1;
		if (key >= 0)
		{
			s.p += n;
			skip_blank(&s, false);
			if (!at_end(&s) && *s.p == ':')
			{
				/* an annotation: up to the "=" of the assignment */
				advance(&s);
				if (!skip_until(&s, "=\n"))
					goto fail;
			}
			if (!at_end(&s) && *s.p == '=' && (s.p + 1 >= s.end || s.p[1] != '='))
			{
				advance(&s);
				if (!parse_value(&s, al_key_names[key], line, &vals[key]))
					goto fail;
			}
		}
		if (!skip_until(&s, NULL))
			goto fail;
	}

	rf = mg_xmalloc(sizeof(MgRevFile));
	memset(rf, 0, sizeof(MgRevFile));
	rf->path = mg_xstrdup(path);
	rf->source = source ? mg_xstrdup(source) : NULL;
	rf->transactional = true;
	rf->upgrade = mg_xstrdup("");

	if (vals[AL_REVISION].line == 0)
	{
		/* Alembic's fallback for files of its 0.1 days */
		rf->revision = legacy_revision(name);
		if (rf->revision == NULL)
		{
			MgDiag	   *d = mg_diag_add(diags, path, 0, "file assigns no revision");

			mg_diag_detail(d, "Every Python file of an Alembic version directory is a revision; Alembic would refuse this one too.");
			mg_diag_hint(d, "Add a line such as revision = \"1975ea83b712\" at the top level.");
			goto fail;
		}
		else
		{
			MgNameProblem np;

			if (!mg_check_name(MG_NAME_REVISION, rf->revision, strlen(rf->revision), NULL, &np))
			{
				MgDiag	   *d = mg_diag_add(diags, path, 0, "%s", np.message);

				mg_diag_detail(d, "%s", np.detail);
				goto fail;
			}
		}
	}
	else if (vals[AL_REVISION].n != 1)
	{
		mg_diag_add(diags, path, vals[AL_REVISION].line,
					"revision must be one string");
		goto fail;
	}
	else
	{
		if (!check_names(&s, AL_REVISION, &vals[AL_REVISION], NULL))
			goto fail;
		rf->revision = vals[AL_REVISION].items[0];
		vals[AL_REVISION].items[0] = NULL;
		vals[AL_REVISION].n = 0;
	}
	if (vals[AL_DOWN_REVISION].line == 0)
	{
		MgDiag	   *d = mg_diag_add(diags, path, 0, "file assigns no down_revision");

		mg_diag_hint(d, "A base revision has down_revision = None.");
		goto fail;
	}
	for (int k = AL_DOWN_REVISION; k < AL_NKEYS; k++)
		if (!check_names(&s, (AlKey) k, &vals[k], rf->revision))
			goto fail;

	rf->down = vals[AL_DOWN_REVISION].items;
	rf->ndown = vals[AL_DOWN_REVISION].n;
	rf->labels = vals[AL_BRANCH_LABELS].items;
	rf->nlabels = vals[AL_BRANCH_LABELS].n;
	rf->deps = vals[AL_DEPENDS_ON].items;
	rf->ndeps = vals[AL_DEPENDS_ON].n;
	for (int k = 0; k < AL_NKEYS; k++)
	{
		rf->line[al_mg_keys[k]] = vals[k].line;
		if (k > AL_REVISION)
			vals[k].items = NULL, vals[k].n = 0;
	}
	if (doc)
	{
		rf->message = first_doc_line(doc);
		rf->line[MG_KEY_MESSAGE] = doc_line;
	}
	free(doc);
	value_free(&vals[AL_REVISION]);
	return rf;

fail:
	for (int k = 0; k < AL_NKEYS; k++)
		value_free(&vals[k]);
	free(doc);
	if (rf)
		mg_revfile_free(rf);
	return NULL;
}

/* qsort order of file names: bytes */
static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Is name a revision module of a version directory, as Alembic 1.8 says? */
static bool
is_revision_module(const char *name)
{
	size_t		n = strlen(name);

	return n > 3 && strcmp(name + n - 3, ".py") == 0 &&
		strncmp(name, "__init__", 8) != 0 && strncmp(name, ".#", 2) != 0;
}

/*
 * mg_alembic_add_dir: see mg_alembic.h.  Lists the directory, sorts the
 * revision modules by name, then reads and parses each one.
 */
bool
mg_alembic_add_dir(MgRevSet *set, const char *dir, MgDiags *diags)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;
	char	  **names = NULL;
	int			nnames = 0;
	bool		ok = true;
	const char *base = strrchr(dir, '/');

	if (d == NULL)
	{
		mg_diag_add(diags, dir, 0, "could not open directory: %s", strerror(errno));
		return false;
	}
	while ((de = readdir(d)) != NULL)
	{
		if (!is_revision_module(de->d_name))
			continue;
		names = mg_xrealloc(names, sizeof(char *) * (size_t) (nnames + 1));
		names[nnames++] = mg_xstrdup(de->d_name);
	}
	closedir(d);
	if (nnames > 1)
		qsort(names, nnames, sizeof(char *), cmp_names);

	/* the directory's last component names the files' sources */
	while (base && base[1] == '\0' && base > dir)
	{
		const char *q = base - 1;

		while (q > dir && *q != '/')
			q--;
		base = q;
	}
	base = base ? base + 1 : dir;

	for (int i = 0; i < nnames; i++)
	{
		size_t		plen = strlen(dir) + strlen(names[i]) + 2;
		char	   *path = mg_xmalloc(plen);
		char	   *source = mg_xmalloc(strlen(base) + strlen(names[i]) + 2);
		char	   *buf;
		size_t		len;
		MgRevFile  *rf;
		size_t		blen = strcspn(base, "/");

		snprintf(path, plen, "%s/%s", dir, names[i]);
		snprintf(source, strlen(base) + strlen(names[i]) + 2, "%.*s/%s",
				 (int) blen, base, names[i]);
		if (!mg_read_file(path, &buf, &len, diags))
			ok = false;
		else
		{
			rf = mg_alembic_parse(path, names[i], source, buf, len, diags);
			free(buf);
			if (rf == NULL)
				ok = false;
			else
			{
				if (set->n == set->cap)
				{
					set->cap = set->cap ? set->cap * 2 : 64;
					set->files = mg_xrealloc(set->files, sizeof(MgRevFile *) * set->cap);
				}
				set->files[set->n++] = rf;
			}
		}
		free(path);
		free(source);
		free(names[i]);
	}
	free(names);
	return ok;
}
