/*-------------------------------------------------------------------------
 *
 * mg_revfile.c
 *	  The revision-file format: lexer and parser of one file held in
 *	  memory, and the small helpers the client shares (memory, diagnostics,
 *	  UTF-8 checks, escaping for the terminal).
 *
 * A revision file is UTF-8 text: header lines "-- migrate:<key> <value>",
 * then the bodies, each introduced by "-- migrate:upgrade",
 * "-- migrate:downgrade" or "-- migrate:verify" (checks run after the
 * upgrade, in its transaction) and running to the next marker or the end
 * of the file.  Blank lines and ordinary "--" comments may appear among the header
 * lines.  Line ends may be LF or CRLF; a UTF-8 byte order mark at the start
 * is skipped.  A body is stored without its leading and trailing blank
 * lines, its lines joined by LF.  doc/design.md describes the format.
 *
 * Bodies are scanned like psql scans its input (quotes, dollar quotes,
 * comments) so that a backslash outside them, which psql would take as a
 * meta-command and the server would reject, is reported on its line.
 *
 * This file owns the format: what a header line is, which keys exist,
 * how lists and booleans are written, where bodies start and end.  Names
 * (ids, labels, dependencies) are checked by the core's mg_check_name, so
 * that a bad name gets the same text here as in the server.  This file
 * must not touch the file system (mg_revdir.c reads files and walks
 * directories) and must not judge the graph (duplicate ids across files,
 * unknown parents and cycles are the core's, through mg_graph_finish).
 * It has no dependency on libpq or the server.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mg_core.h"
#include "mg_revfile.h"

const char *const mg_key_names[MG_KEY_COUNT] = {
	"revision", "down_revision", "branch_labels", "depends_on", "message",
	"transactional", "upgrade", "downgrade", "verify"
};

/*
 * Memory: failure to allocate ends the program, as in PostgreSQL's
 * front-end tools.
 */
void *
mg_xmalloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

/* realloc, or the end of the program */
void *
mg_xrealloc(void *ptr, size_t size)
{
	void	   *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	return p;
}

/* The first n bytes of s, NUL-terminated, in new memory */
char *
mg_xstrndup(const char *s, size_t n)
{
	char	   *p = mg_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* strdup, or the end of the program */
char *
mg_xstrdup(const char *s)
{
	return mg_xstrndup(s, strlen(s));
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* A new string formatted from fmt and ap */
static char *
vformat(const char *fmt, va_list ap)
{
	va_list		ap2;
	int			n;
	char	   *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		n = 0;
	p = mg_xmalloc((size_t) n + 1);
	vsnprintf(p, (size_t) n + 1, fmt, ap);
	return p;
}

/*
 * Diagnostics
 */
MgDiag *
mg_diag_add(MgDiags *diags, const char *path, int line, const char *fmt,...)
{
	MgDiag	   *d;
	va_list		ap;

	if (diags->n == diags->cap)
	{
		diags->cap = diags->cap ? diags->cap * 2 : 8;
		diags->items = mg_xrealloc(diags->items, sizeof(MgDiag) * diags->cap);
	}
	d = &diags->items[diags->n++];
	d->path = mg_xstrdup(path);
	d->line = line;
	va_start(ap, fmt);
	d->message = vformat(fmt, ap);
	va_end(ap);
	d->detail = NULL;
	d->hint = NULL;
	return d;
}

static void
set_text(char **field, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Replace the text in *field by a new formatted one */
static void
set_text(char **field, const char *fmt, va_list ap)
{
	free(*field);
	*field = vformat(fmt, ap);
}

/* Set the DETAIL of d (a complete sentence) */
void
mg_diag_detail(MgDiag *d, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	set_text(&d->detail, fmt, ap);
	va_end(ap);
}

/* Set the HINT of d (a complete sentence) */
void
mg_diag_hint(MgDiag *d, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	set_text(&d->hint, fmt, ap);
	va_end(ap);
}

/* Free every diagnostic and the array; diags is empty again */
void
mg_diags_free(MgDiags *diags)
{
	for (int i = 0; i < diags->n; i++)
	{
		free(diags->items[i].path);
		free(diags->items[i].message);
		free(diags->items[i].detail);
		free(diags->items[i].hint);
	}
	free(diags->items);
	diags->items = NULL;
	diags->n = diags->cap = 0;
}

/*
 * Length of the valid UTF-8 sequence at s (at most len bytes), or 0 if the
 * bytes there are not one: overlong forms, surrogates and code points above
 * U+10FFFF are invalid, as in PostgreSQL.
 */
static int
utf8_seq_len(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	int			n;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t) n > len)
		return 0;
	for (int i = 1; i < n; i++)
	{
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		(cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* mg_utf8_valid: see mg_revfile.h */
bool
mg_utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;)
	{
		int			k = utf8_seq_len((const unsigned char *) s + i, len - i);

		if (k == 0)
			return false;
		i += (size_t) k;
	}
	return true;
}

/*
 * Check the whole file for NUL bytes and invalid UTF-8 before anything
 * else looks at it.
 */
static bool
check_encoding(const char *path, const char *buf, size_t len, MgDiags *diags)
{
	const unsigned char *s = (const unsigned char *) buf;
	int			line = 1;
	size_t		column = 1;		/* in characters */

	for (size_t i = 0; i < len; column++)
	{
		int			n;

		if (s[i] == '\n')
		{
			line++;
			column = 0;
			i++;
			continue;
		}
		if (s[i] == '\0')
		{
			MgDiag	   *d = mg_diag_add(diags, path, line, "file contains a NUL byte");

			mg_diag_detail(d, "The NUL byte is at column %zu.", column);
			mg_diag_hint(d, "Revision files are UTF-8 text.");
			return false;
		}
		n = utf8_seq_len(s + i, len - i);
		if (n == 0)
		{
			MgDiag	   *d = mg_diag_add(diags, path, line,
										"invalid byte sequence for encoding \"UTF8\"");
			char		bytes[32];
			size_t		k = 0;

			for (size_t j = i; j < len && j < i + 4; j++)
				k += snprintf(bytes + k, sizeof(bytes) - k, "%s0x%02x",
							  j > i ? " " : "", s[j]);
			mg_diag_detail(d, "Bytes %s at column %zu are not valid UTF-8.",
						   bytes, column);
			mg_diag_hint(d, "Revision files are UTF-8 text; convert the file, for example with iconv.");
			return false;
		}
		i += n;
	}
	return true;
}

/* White space inside a line (line ends are split off before) */
static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* Only white space? */
static bool
is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_space(s[i]))
			return false;
	return true;
}

/* Only white space and line ends? */
static bool
is_blank_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_space(s[i]) && s[i] != '\n')
			return false;
	return true;
}

/* Trim spaces at both ends of s[0..*n) in place; returns the new start */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && is_space(s[0]))
		s++, (*n)--;
	while (*n > 0 && is_space(s[*n - 1]))
		(*n)--;
	return s;
}

/*
 * Is this line a directive, "--", optional blanks, "migrate:"?  Then set
 * the key's span and the value's (trimmed) span.
 */
static bool
match_directive(const char *s, size_t n, const char **key, size_t *keylen,
				const char **val, size_t *vallen)
{
	size_t		i = 0;

	if (n < 2 || s[0] != '-' || s[1] != '-')
		return false;
	i = 2;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (n - i < 8 || memcmp(s + i, "migrate:", 8) != 0)
		return false;
	i += 8;
	*key = s + i;
	while (i < n && !is_space(s[i]))
		i++;
	*keylen = (size_t) (s + i - *key);
	*val = s + i;
	*vallen = n - i;
	*val = trim(*val, vallen);
	return true;
}

/* The MgKey of a header key (exact, case-sensitive), or -1 */
static int
key_lookup(const char *key, size_t keylen)
{
	for (int k = 0; k < MG_KEY_COUNT; k++)
		if (strlen(mg_key_names[k]) == keylen &&
			memcmp(mg_key_names[k], key, keylen) == 0)
			return k;
	return -1;
}

/*
 * mg_escape
 *		s[0..n) made safe to print on a terminal.  What could move the
 *		cursor, forge a line or start an escape sequence is written as an
 *		escape: line ends and tabs as \n, \r, \t, other C0 controls and
 *		DEL as \xNN, and, in UTF-8, the C1 controls (U+0080 to U+009F; U+009B
 *		starts a sequence like ESC [) and the bidirectional overrides and
 *		isolates (which reorder what is shown) as \uNNNN, and every byte
 *		that is not part of valid UTF-8 as \xNN.  With utf8 false (text in
 *		another client encoding) only C0 controls and DEL are escaped: those
 *		bytes are never part of a multibyte character in any encoding
 *		PostgreSQL offers a client.  Everything pg_migrate prints that comes
 *		from files or from the server goes through this function.
 */
char *
mg_escape(const char *s, size_t n, bool utf8)
{
	char	   *p = mg_xmalloc(n * 6 + 1);
	char	   *o = p;
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\n')
			o += sprintf(o, "\\n");
		else if (c == '\r')
			o += sprintf(o, "\\r");
		else if (c == '\t')
			o += sprintf(o, "\\t");
		else if (c < 0x20 || c == 0x7f)
			o += sprintf(o, "\\x%02x", c);
		else if (c < 0x80 || !utf8)
			*o++ = (char) c;
		else
		{
			int			k = utf8_seq_len((const unsigned char *) s + i, n - i);
			unsigned int cp = 0;

			if (k == 0)
			{
				o += sprintf(o, "\\x%02x", c);
				i++;
				continue;
			}
			if (k == 2)
				cp = ((c & 0x1fu) << 6) | ((unsigned char) s[i + 1] & 0x3fu);
			else if (k == 3)
				cp = ((c & 0x0fu) << 12) | (((unsigned char) s[i + 1] & 0x3fu) << 6) |
					((unsigned char) s[i + 2] & 0x3fu);
			if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
				(cp >= 0x2066 && cp <= 0x2069))
				o += sprintf(o, "\\u%04x", cp);
			else
			{
				memcpy(o, s + i, (size_t) k);
				o += k;
			}
			i += (size_t) k;
			continue;
		}
		i++;
	}
	*o = '\0';
	return p;
}

/*
 * A value shown in a message: at most MG_SHOWN_MAX bytes, cut on a
 * character boundary by the core's mg_clip, "..." when cut.  Returns a new
 * string; what is printed is escaped later (report_diags), like every
 * message.
 */
static char *
shown(const char *s, size_t n)
{
	int			cut = mg_clip(s, n, MG_SHOWN_MAX);
	char	   *p = mg_xmalloc((size_t) cut + 4);

	memcpy(p, s, (size_t) cut);
	strcpy(p + cut, (size_t) cut < n ? "..." : "");
	return p;
}

/* A name that mg_check_name refused, as a diagnostic on line */
static void
name_problem(MgDiags *diags, const char *path, int line, const MgNameProblem *np)
{
	MgDiag	   *d = mg_diag_add(diags, path, line, "%s", np->message);

	mg_diag_detail(d, "%s", np->detail);
}

/*
 * parse_list
 *		Parse the comma-separated value of header key (val, vallen bytes,
 *		already trimmed) into a new array of new strings.  Every item must
 *		be a legal name of the given kind (mg_check_name: the same rule and
 *		text as the server's; owner, the revision id when its line came
 *		first, or NULL, is named as the server names it), must not be empty, must appear once, and in
 *		down_revision must not be "none".  An empty value is an empty list.
 *		Returns false after adding one diagnostic on line; *items is then
 *		NULL.  Duplicates: pairwise for up to 32 items, by sorting above
 *		(wide merges), so the cost is O(n log n).
 */
static bool
parse_list(const char *path, int line, const char *key, const char *val,
		   size_t vallen, MgNameKind kind, const char *owner, char ***items,
		   int *nitems, MgDiags *diags)
{
	const char *p = val;
	const char *end = val + vallen;
	int			cap = 0;

	*items = NULL;
	*nitems = 0;
	if (vallen == 0)
		return true;
	for (;;)
	{
		const char *comma = memchr(p, ',', (size_t) (end - p));
		size_t		n = comma ? (size_t) (comma - p) : (size_t) (end - p);
		const char *item = trim(p, &n);
		MgNameProblem np;
		char	   *s;

		if (n == 0)
		{
			MgDiag	   *d = mg_diag_add(diags, path, line, "empty item in %s list", key);

			mg_diag_hint(d, "Separate items with single commas.");
			goto fail;
		}
		/* mg_check_name compares whole strings: give it a terminated copy */
		s = mg_xstrndup(item, n);
		if (!mg_check_name(kind, s, n, owner, &np))
		{
			name_problem(diags, path, line, &np);
			free(s);
			goto fail;
		}
		if (kind == MG_NAME_DOWN_REVISION && strcasecmp(s, "none") == 0)
		{
			MgDiag	   *d = mg_diag_add(diags, path, line, "\"%s\" in a %s list", s, key);

			mg_diag_hint(d, "A base revision has \"-- migrate:down_revision none\" and no other parent.");
			free(s);
			goto fail;
		}
		/* short lists pairwise; long ones (wide merges) sorted below */
		for (int i = 0; i < *nitems && *nitems < 32; i++)
			if (strcmp((*items)[i], s) == 0)
			{
				mg_diag_add(diags, path, line, "%s lists \"%s\" twice", key, s);
				free(s);
				goto fail;
			}
		if (*nitems == cap)
		{
			cap = cap ? cap * 2 : 4;
			*items = mg_xrealloc(*items, sizeof(char *) * cap);
		}
		(*items)[(*nitems)++] = s;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (*nitems > 32)
	{
		char	  **sorted = mg_xmalloc(sizeof(char *) * (size_t) *nitems);
		bool		ok = true;

		memcpy(sorted, *items, sizeof(char *) * (size_t) *nitems);
		qsort(sorted, (size_t) *nitems, sizeof(char *), mg_strcmp_ptr);
		for (int i = 1; i < *nitems && ok; i++)
			if (strcmp(sorted[i], sorted[i - 1]) == 0)
			{
				mg_diag_add(diags, path, line, "%s lists \"%s\" twice", key, sorted[i]);
				ok = false;
			}
		free(sorted);
		if (!ok)
			goto fail;
	}
	return true;

fail:
	for (int i = 0; i < *nitems; i++)
		free((*items)[i]);
	free(*items);
	*items = NULL;
	*nitems = 0;
	return false;
}

/*
 * Body text being collected: leading blank lines are dropped, and blank
 * lines (kept as they are, white space included) are held back until a
 * non-blank line follows them, so that trailing ones are dropped too.
 */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Buf;

typedef struct Body
{
	Buf			text;
	Buf			held;			/* blank lines not yet written, each after a LF */
} Body;

/* Append n bytes to b, keeping it NUL-terminated */
static void
buf_append(Buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 256;
		b->data = mg_xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* Add one line (without its line end) to a body being collected */
static void
body_line(Body *b, const char *s, size_t n)
{
	if (is_blank(s, n))
	{
		if (b->text.len > 0)
		{
			buf_append(&b->held, "\n", 1);
			buf_append(&b->held, s, n);
		}
		return;
	}
	if (b->text.len > 0)
	{
		if (b->held.len > 0)
			buf_append(&b->text, b->held.data, b->held.len);
		buf_append(&b->text, "\n", 1);
	}
	b->held.len = 0;
	buf_append(&b->text, s, n);
}

/* The collected body as a new string ("" for none); b keeps no text */
static char *
body_finish(Body *b)
{
	char	   *s = b->text.data ? b->text.data : mg_xstrdup("");

	b->text.data = NULL;
	return s;
}

/* Free what body_finish did not hand over */
static void
body_free(Body *b)
{
	free(b->text.data);
	free(b->held.data);
}

/*
 * The lexical state of a body, carried from line to line: where a
 * backslash is data and where it starts a psql meta-command, and whether a
 * "-- migrate:" line is a marker or text inside a quote or comment.  The
 * rules are psql's (psqlscan.l) for the tokens that matter here.
 */
typedef enum LexState
{
	LEX_SQL,
	LEX_STRING,					/* '...' */
	LEX_ESTRING,				/* E'...', backslash escapes */
	LEX_IDENT,					/* "..." */
	LEX_DOLLAR,					/* $tag$...$tag$ */
	LEX_COMMENT					/* slash-star comment, nests */
} LexState;

typedef struct Lexer
{
	LexState	state;
	int			depth;			/* comment nesting */
	const char *tag;			/* dollar quote tag, with both '$' */
	size_t		taglen;
	int			start_line;		/* where the quote or comment began */
} Lexer;

/*
 * The texts of an unterminated quote or comment, whole: the primary by
 * state and body (0 upgrade, 1 downgrade, 2 verify), and the DETAIL by
 * state.
 */
static const char *const lex_unterminated[][3] = {
	[LEX_STRING] = {"unterminated quoted string in the upgrade body",
	"unterminated quoted string in the downgrade body",
	"unterminated quoted string in the verify body"},
	[LEX_ESTRING] = {"unterminated quoted string in the upgrade body",
	"unterminated quoted string in the downgrade body",
	"unterminated quoted string in the verify body"},
	[LEX_IDENT] = {"unterminated quoted identifier in the upgrade body",
	"unterminated quoted identifier in the downgrade body",
	"unterminated quoted identifier in the verify body"},
	[LEX_DOLLAR] = {"unterminated dollar-quoted string in the upgrade body",
	"unterminated dollar-quoted string in the downgrade body",
	"unterminated dollar-quoted string in the verify body"},
	[LEX_COMMENT] = {"unterminated comment in the upgrade body",
	"unterminated comment in the downgrade body",
	"unterminated comment in the verify body"},
};
static const char *const lex_unterminated_detail[] = {
	[LEX_STRING] = "The quoted string starting on line %d runs to the end of the file.",
	[LEX_ESTRING] = "The quoted string starting on line %d runs to the end of the file.",
	[LEX_IDENT] = "The quoted identifier starting on line %d runs to the end of the file.",
	[LEX_DOLLAR] = "The dollar-quoted string starting on line %d runs to the end of the file.",
	[LEX_COMMENT] = "The comment starting on line %d runs to the end of the file.",
};

/* Can c start an identifier or keyword (psql's rule, bytes >= 0x80 included)? */
static bool
ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* An ASCII digit? */
static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/*
 * lex_line
 *		Scan one body line (s, n bytes, without its line end) from the
 *		state lx carries over from the line before, and leave in lx the
 *		state at its end; line is the line's number, kept in lx where a
 *		quote or comment begins.  Returns the offset of a backslash that
 *		psql would read as a meta-command (one outside quotes and
 *		comments), or -1.  Never fails; O(n).
 */
static long
lex_line(Lexer *lx, const char *s, size_t n, int line)
{
	size_t		i = 0;

	while (i < n)
	{
		unsigned char c = (unsigned char) s[i];
		unsigned char next = i + 1 < n ? (unsigned char) s[i + 1] : '\0';

		switch (lx->state)
		{
			case LEX_SQL:
				if (c == '-' && next == '-')
					return -1;	/* comment to the end of the line */
				if (c == '/' && next == '*')
				{
					lx->state = LEX_COMMENT;
					lx->depth = 1;
					lx->start_line = line;
					i += 2;
					continue;
				}
				if (ident_start(c))
				{
					/* a keyword or identifier, digits and '$' included */
					size_t		j = i + 1;

					if ((c == 'E' || c == 'e') && next == '\'')
					{
						lx->state = LEX_ESTRING;
						lx->start_line = line;
						i += 2;
						continue;
					}
					while (j < n && (ident_start((unsigned char) s[j]) ||
									 is_digit((unsigned char) s[j]) || s[j] == '$'))
						j++;
					i = j;
					continue;
				}
				if (is_digit(c) || (c == '.' && is_digit(next)))
				{
					/* a number, with an exponent and its sign ("1E-" too) */
					size_t		j = i;

					while (j < n && (is_digit((unsigned char) s[j]) || s[j] == '.'))
						j++;
					if (j < n && (s[j] == 'e' || s[j] == 'E'))
					{
						j++;
						if (j < n && (s[j] == '+' || s[j] == '-'))
							j++;
						while (j < n && is_digit((unsigned char) s[j]))
							j++;
					}
					i = j;
					continue;
				}
				if (c == '\'')
				{
					lx->state = LEX_STRING;
					lx->start_line = line;
				}
				else if (c == '"')
				{
					lx->state = LEX_IDENT;
					lx->start_line = line;
				}
				else if (c == '$')
				{
					/* a dollar quote, or a parameter such as $1 */
					size_t		j = i + 1;

					if (j < n && ident_start((unsigned char) s[j]))
						while (j < n && (ident_start((unsigned char) s[j]) ||
										 is_digit((unsigned char) s[j])))
							j++;
					if (j < n && s[j] == '$')
					{
						lx->state = LEX_DOLLAR;
						lx->tag = s + i;
						lx->taglen = j - i + 1;
						lx->start_line = line;
						i = j + 1;
						continue;
					}
				}
				else if (c == '\\')
					return (long) i;
				i++;
				break;
			case LEX_STRING:
			case LEX_ESTRING:
				if (c == '\\' && lx->state == LEX_ESTRING)
					i += 2;
				else if (c == '\'')
				{
					if (next == '\'')
						i += 2;
					else
					{
						lx->state = LEX_SQL;
						i++;
					}
				}
				else
					i++;
				break;
			case LEX_IDENT:
				if (c == '"')
				{
					if (next == '"')
						i += 2;
					else
					{
						lx->state = LEX_SQL;
						i++;
					}
				}
				else
					i++;
				break;
			case LEX_DOLLAR:
				if (c == '$' && n - i >= lx->taglen &&
					memcmp(s + i, lx->tag, lx->taglen) == 0)
				{
					lx->state = LEX_SQL;
					i += lx->taglen;
				}
				else
					i++;
				break;
			case LEX_COMMENT:
				if (c == '/' && next == '*')
				{
					lx->depth++;
					i += 2;
				}
				else if (c == '*' && next == '/')
				{
					if (--lx->depth == 0)
						lx->state = LEX_SQL;
					i += 2;
				}
				else
					i++;
				break;
		}
	}
	return -1;
}

/* A boolean as PostgreSQL spells it (true/on/yes/1, false/off/no/0) */
static bool
parse_bool(const char *s, size_t n, bool *out)
{
	static const char *const yes[] = {"true", "on", "yes", "1"};
	static const char *const no[] = {"false", "off", "no", "0"};

	for (int i = 0; i < 4; i++)
	{
		if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0)
			return *out = true, true;
		if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0)
			return *out = false, true;
	}
	return false;
}

/* Free a parsed file and everything it holds; NULL is allowed */
void
mg_revfile_free(MgRevFile *rf)
{
	if (rf == NULL)
		return;
	free(rf->path);
	free(rf->source);
	free(rf->revision);
	for (int i = 0; i < rf->ndown; i++)
		free(rf->down[i]);
	free(rf->down);
	for (int i = 0; i < rf->nlabels; i++)
		free(rf->labels[i]);
	free(rf->labels);
	for (int i = 0; i < rf->ndeps; i++)
		free(rf->deps[i]);
	free(rf->deps);
	free(rf->message);
	free(rf->upgrade);
	free(rf->downgrade);
	free(rf->verify);
	free(rf);
}

static const char header_hint[] =
"A revision file starts with header lines such as \"-- migrate:revision <id>\" and \"-- migrate:down_revision <id>|none\", then \"-- migrate:upgrade\" and the upgrade SQL.";

/*
 * mg_revfile_parse
 *		Parse the revision file held in buf (len bytes, NUL bytes
 *		included); path names it in diagnostics, source (may be NULL) is
 *		stored in the result.  The whole text is checked first (UTF-8, no
 *		NUL), then read line by line: header lines until the first body
 *		marker (every key once; names checked by mg_check_name, the
 *		revision named in messages once its line was read), then the
 *		bodies, scanned with lex_line so that a marker inside a quote or
 *		comment is text and a psql meta-command is refused.  At the end:
 *		no quote or comment left open, the required lines present, each
 *		body within MG_MAX_BODY_SIZE.
 *
 *		Returns a new MgRevFile (free with mg_revfile_free), or NULL after
 *		adding one diagnostic (the first problem found) to diags.  The
 *		file's graph (unknown parents, cycles, duplicate ids) is not
 *		judged here.  Cost: O(len), one copy of each body.
 */
MgRevFile *
mg_revfile_parse(const char *path, const char *source, const char *buf,
				 size_t len, MgDiags *diags)
{
	MgRevFile  *rf = mg_xmalloc(sizeof(MgRevFile));
	Body		bodies[3];
	int			cur = -1;		/* body being read: 0 upgrade, 1 downgrade,
								 * 2 verify */
	static const char *const body_names[3] = {"upgrade", "downgrade", "verify"};
	Lexer		lx;
	const char *p = buf;
	const char *end = buf + len;
	int			line = 0;
	MgDiag	   *d;

	memset(rf, 0, sizeof(MgRevFile));
	memset(bodies, 0, sizeof(bodies));
	memset(&lx, 0, sizeof(lx));
	rf->path = mg_xstrdup(path);
	rf->source = source ? mg_xstrdup(source) : NULL;
	rf->transactional = true;

	if (!check_encoding(path, buf, len, diags))
		goto fail;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	if (is_blank_text(p, (size_t) (end - p)))
	{
		d = mg_diag_add(diags, path, 1, "revision file is empty");
		mg_diag_hint(d, "%s", header_hint);
		goto fail;
	}

	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));
		const char *s = p;
		size_t		n = nl ? (size_t) (nl - p) : (size_t) (end - p);
		const char *key,
				   *val;
		size_t		keylen,
					vallen;
		int			k;

		p = nl ? nl + 1 : end;
		line++;
		if (n > 0 && s[n - 1] == '\r')
			n--;

		/* inside a quote or comment of a body, no line is a directive */
		if ((cur >= 0 && lx.state != LEX_SQL) ||
			!match_directive(s, n, &key, &keylen, &val, &vallen))
		{
			long		bs;

			if (cur >= 0)
			{
				bs = lex_line(&lx, s, n, line);
				if (bs >= 0)
				{
					size_t		m = 1;
					char	   *cmd;

					/* the meta-command's word, at most 20 bytes (mg_clip) */
					while ((size_t) bs + m < n && !is_space(s[bs + m]))
						m++;
					cmd = mg_xstrndup(s + bs, (size_t) mg_clip(s + bs, m, 20));
					d = mg_diag_add(diags, path, line,
									"psql meta-command \"%s\" in the %s body",
									cmd, body_names[cur]);
					mg_diag_detail(d, "Bodies are sent to the server as SQL; psql's backslash commands are not run.");
					mg_diag_hint(d, "Write the SQL the meta-command stands for, or split the revision.");
					free(cmd);
					goto fail;
				}
				body_line(&bodies[cur], s, n);
				continue;
			}
			if (is_blank(s, n) || (n >= 2 && s[0] == '-' && s[1] == '-'))
				continue;		/* blank line or comment among the headers */
			d = mg_diag_add(diags, path, line,
							"SQL text before the \"-- migrate:upgrade\" line");
			mg_diag_hint(d, "%s", header_hint);
			goto fail;
		}

		/*
		 * "-- migrate:needs_sql REASON" (written by import-alembic where
		 * it could not render a body) stands for SQL a person must still
		 * write: the file is refused, wherever the line is, until it is
		 * replaced.
		 */
		if (keylen == 9 && memcmp(key, "needs_sql", 9) == 0)
		{
			char	   *sh = mg_xstrndup(val, vallen);

			if (rf->revision)
				d = mg_diag_add(diags, path, line,
								"revision \"%s\" still needs its SQL written", rf->revision);
			else
				d = mg_diag_add(diags, path, line, "revision still needs its SQL written");
			if (vallen > 0)
				mg_diag_detail(d, "%s", sh);
			mg_diag_hint(d, "Write the SQL in place of the \"-- migrate:needs_sql\" line and remove the line.");
			free(sh);
			goto fail;
		}
		k = key_lookup(key, keylen);
		if (k < 0)
		{
			char	   *sh = shown(key, keylen);

			d = mg_diag_add(diags, path, line, "unrecognized header key \"%s\"", sh);
			mg_diag_hint(d, "The keys are revision, down_revision, branch_labels, depends_on, message, transactional, upgrade, downgrade and verify.");
			free(sh);
			goto fail;
		}
		if (rf->line[k] != 0)
		{
			d = mg_diag_add(diags, path, line,
							k >= MG_KEY_UPGRADE ? "body marker \"-- migrate:%s\" appears twice" :
							"duplicate header key \"%s\"", mg_key_names[k]);
			mg_diag_detail(d, "It first appears on line %d.", rf->line[k]);
			goto fail;
		}
		if (k >= MG_KEY_UPGRADE)
		{
			if (vallen > 0)
			{
				d = mg_diag_add(diags, path, line,
								"unexpected text after \"-- migrate:%s\"", mg_key_names[k]);
				mg_diag_hint(d, "The body starts on the next line.");
				goto fail;
			}
			rf->line[k] = line;
			cur = k - MG_KEY_UPGRADE;
			memset(&lx, 0, sizeof(lx));
			continue;
		}
		if (cur >= 0)
		{
			d = mg_diag_add(diags, path, line,
							"header key \"%s\" after the start of a body", mg_key_names[k]);
			mg_diag_hint(d, "Header lines come before \"-- migrate:upgrade\".");
			goto fail;
		}
		rf->line[k] = line;
		switch ((MgKey) k)
		{
			case MG_KEY_REVISION:
				{
					MgNameProblem np;

					if (vallen == 0)
					{
						d = mg_diag_add(diags, path, line, "empty revision id");
						mg_diag_hint(d, "Write \"-- migrate:revision <id>\".");
						goto fail;
					}
					/* a terminated copy: mg_check_name compares whole strings */
					rf->revision = mg_xstrndup(val, vallen);
					if (!mg_check_name(MG_NAME_REVISION, rf->revision, vallen, NULL, &np))
					{
						name_problem(diags, path, line, &np);
						goto fail;
					}
					if (strcasecmp(rf->revision, "none") == 0)
					{
						d = mg_diag_add(diags, path, line,
										"revision id \"%s\" cannot be used in revision files",
										rf->revision);
						mg_diag_detail(d, "\"-- migrate:down_revision none\" marks a base revision.");
						goto fail;
					}
				}
				break;
			case MG_KEY_DOWN_REVISION:
				if (vallen == 0)
				{
					d = mg_diag_add(diags, path, line, "empty down_revision");
					mg_diag_hint(d, "Write \"none\" for a base revision, or the parent ids separated by commas.");
					goto fail;
				}
				if (vallen == 4 && strncasecmp(val, "none", 4) == 0)
					break;
				if (!parse_list(path, line, "down_revision", val, vallen, MG_NAME_DOWN_REVISION,
								rf->revision, &rf->down, &rf->ndown, diags))
					goto fail;
				break;
			case MG_KEY_BRANCH_LABELS:
				if (!parse_list(path, line, "branch_labels", val, vallen, MG_NAME_BRANCH_LABEL,
								rf->revision, &rf->labels, &rf->nlabels, diags))
					goto fail;
				break;
			case MG_KEY_DEPENDS_ON:
				if (!parse_list(path, line, "depends_on", val, vallen, MG_NAME_DEPENDENCY,
								rf->revision, &rf->deps, &rf->ndeps, diags))
					goto fail;
				break;
			case MG_KEY_MESSAGE:
				rf->message = vallen ? mg_xstrndup(val, vallen) : NULL;
				break;
			case MG_KEY_TRANSACTIONAL:
				if (!parse_bool(val, vallen, &rf->transactional))
				{
					char	   *sh = shown(val, vallen);

					d = mg_diag_add(diags, path, line,
									"invalid value \"%s\" for \"transactional\"", sh);
					mg_diag_hint(d, "Use true or false.");
					free(sh);
					goto fail;
				}
				break;
			default:
				break;
		}
	}

	if (cur >= 0 && lx.state != LEX_SQL)
	{
		d = mg_diag_add(diags, path, lx.start_line, "%s",
						lex_unterminated[lx.state][cur]);
		mg_diag_detail(d, lex_unterminated_detail[lx.state], lx.start_line);
		mg_diag_hint(d, "Close it; a \"-- migrate:\" line inside it is part of it, not a marker.");
		goto fail;
	}
	{
		static const MgKey required[] = {MG_KEY_REVISION, MG_KEY_DOWN_REVISION, MG_KEY_UPGRADE};

		for (int i = 0; i < 3; i++)
		{
			if (rf->line[required[i]] != 0)
				continue;
			/* a missing header is reported where the header ends */
			d = mg_diag_add(diags, path,
							rf->line[MG_KEY_UPGRADE] ? rf->line[MG_KEY_UPGRADE] :
							rf->line[MG_KEY_DOWNGRADE] ? rf->line[MG_KEY_DOWNGRADE] : line,
							"missing \"-- migrate:%s\" line", mg_key_names[required[i]]);
			mg_diag_hint(d, "%s", header_hint);
			goto fail;
		}
	}
	/* a body over the limit would be stored but could never run */
	for (int b = 0; b < 3; b++)
	{
		if (bodies[b].text.len <= MG_MAX_BODY_SIZE)
			continue;
		d = mg_diag_add(diags, path, rf->line[MG_KEY_UPGRADE + b],
						"%s body is too large", body_names[b]);
		mg_diag_detail(d, "The body has %zu bytes; the limit is %zu bytes (256 MB).",
					   bodies[b].text.len, MG_MAX_BODY_SIZE);
		mg_diag_hint(d, "Split the work into several revisions, or have the body read its data with COPY FROM a file.");
		goto fail;
	}
	rf->upgrade = body_finish(&bodies[0]);
	if (rf->line[MG_KEY_DOWNGRADE])
		rf->downgrade = body_finish(&bodies[1]);
	/* an empty verify section checks nothing: the same as none */
	if (rf->line[MG_KEY_VERIFY] && bodies[2].text.len > 0)
		rf->verify = body_finish(&bodies[2]);
	for (int b = 0; b < 3; b++)
		body_free(&bodies[b]);
	return rf;

fail:
	for (int b = 0; b < 3; b++)
		body_free(&bodies[b]);
	mg_revfile_free(rf);
	return NULL;
}
