/*-------------------------------------------------------------------------
 *
 * mg_split.c
 *	  The SQL statement splitter (see mg_split.h for the rules it knows).
 *
 * One scanner, run twice: the first pass counts the statements so that the
 * second can fill one block of the exact size from the caller's allocator
 * (the core never reallocates caller memory).  The scanner skips over
 * quotes, dollar quotes and comments as whole tokens, keeps the first words
 * of the statement to know whether it is a CREATE FUNCTION or PROCEDURE,
 * and counts BEGIN ATOMIC / CASE / END depth inside such a statement.
 *
 *-------------------------------------------------------------------------
 */
#include "mg_split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Scan
{
	const char *s;
	size_t		len;
	size_t		pos;
	int			line;
	MgSplitError *err;
} Scan;

/* Characters that may continue an identifier (PostgreSQL's ident_cont) */
static bool
ident_cont(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

/* Characters that may start an identifier or a dollar-quote tag */
static bool
ident_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		c == '_' || c >= 0x80;
}

static bool
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		c == '\v';
}

static void
set_error(Scan *sc, int line, const char *msg)
{
	sc->err->line = line;
	snprintf(sc->err->message, sizeof(sc->err->message), "%s", msg);
}

/* Advance one byte, counting lines */
static inline void
step(Scan *sc)
{
	if (sc->s[sc->pos] == '\n')
		sc->line++;
	sc->pos++;
}

/*
 * Skip a quoted token opening at sc->pos (the quote character q).
 * backslash: backslash escapes the next byte (E'...').  Doubled quotes are
 * one quote character in every form.
 */
static bool
skip_quoted(Scan *sc, char q, bool backslash, const char *what)
{
	int			line = sc->line;

	step(sc);					/* the opening quote */
	while (sc->pos < sc->len)
	{
		char		c = sc->s[sc->pos];

		if (backslash && c == '\\')
		{
			step(sc);
			if (sc->pos < sc->len)
				step(sc);
			continue;
		}
		step(sc);
		if (c == q)
		{
			if (sc->pos < sc->len && sc->s[sc->pos] == q)
			{
				step(sc);
				continue;
			}
			return true;
		}
	}
	set_error(sc, line, what);
	return false;
}

/*
 * The length of a dollar-quote delimiter ($$ or $tag$) at sc->pos, or 0
 * when the $ there opens none.
 */
static size_t
dollar_delim(const Scan *sc, size_t at)
{
	size_t		i = at + 1;

	if (i < sc->len && sc->s[i] == '$')
		return 2;
	if (i >= sc->len || !ident_start((unsigned char) sc->s[i]))
		return 0;
	while (i < sc->len && ident_cont((unsigned char) sc->s[i]) && sc->s[i] != '$')
		i++;
	if (i < sc->len && sc->s[i] == '$')
		return i - at + 1;
	return 0;
}

/* Skip a dollar-quoted string whose delimiter (dlen bytes) opens at pos */
static bool
skip_dollar(Scan *sc, size_t dlen)
{
	int			line = sc->line;
	const char *delim = sc->s + sc->pos;
	size_t		i;

	for (i = 0; i < dlen; i++)
		step(sc);
	while (sc->pos < sc->len)
	{
		if (sc->s[sc->pos] == '$' && sc->len - sc->pos >= dlen &&
			memcmp(sc->s + sc->pos, delim, dlen) == 0)
		{
			for (i = 0; i < dlen; i++)
				step(sc);
			return true;
		}
		step(sc);
	}
	set_error(sc, line, "unterminated dollar-quoted string");
	return false;
}

/* Skip a slash-star comment opening at pos; they nest */
static bool
skip_block_comment(Scan *sc)
{
	int			line = sc->line;
	int			depth = 0;

	while (sc->pos < sc->len)
	{
		if (sc->s[sc->pos] == '/' && sc->pos + 1 < sc->len &&
			sc->s[sc->pos + 1] == '*')
		{
			depth++;
			step(sc);
			step(sc);
		}
		else if (sc->s[sc->pos] == '*' && sc->pos + 1 < sc->len &&
				 sc->s[sc->pos + 1] == '/')
		{
			step(sc);
			step(sc);
			if (--depth == 0)
				return true;
		}
		else
			step(sc);
	}
	set_error(sc, line, "unterminated /* comment");
	return false;
}

static bool
word_is(const char *w, size_t wlen, const char *kw)
{
	size_t		i;

	if (strlen(kw) != wlen)
		return false;
	for (i = 0; i < wlen; i++)
	{
		char		c = w[i];

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		if (c != kw[i])
			return false;
	}
	return true;
}

/* The state of the statement being scanned */
typedef struct StmtState
{
	bool		started;		/* a token seen */
	size_t		start;
	size_t		last_end;		/* end of the last token */
	int			line;
	int			nwords;			/* words seen, counted up to 4 */
	bool		w0_create;		/* the first word is CREATE */
	bool		w1_or;			/* ... followed by OR */
	bool		w2_replace;		/* ... followed by REPLACE */
	bool		routine;		/* CREATE [OR REPLACE] FUNCTION/PROCEDURE */
	bool		after_begin;	/* the previous word was BEGIN */
	int			atomic_depth;	/* BEGIN ATOMIC / CASE nesting */
} StmtState;

/* A word (identifier or keyword) w of wlen bytes of the statement */
static void
saw_word(StmtState *st, const char *w, size_t wlen)
{
	switch (st->nwords)
	{
		case 0:
			st->w0_create = word_is(w, wlen, "create");
			break;
		case 1:
			st->w1_or = st->w0_create && word_is(w, wlen, "or");
			if (st->w0_create && (word_is(w, wlen, "function") ||
								  word_is(w, wlen, "procedure")))
				st->routine = true;
			break;
		case 2:
			st->w2_replace = st->w1_or && word_is(w, wlen, "replace");
			break;
		case 3:
			if (st->w2_replace && (word_is(w, wlen, "function") ||
								   word_is(w, wlen, "procedure")))
				st->routine = true;
			break;
		default:
			break;
	}
	if (st->nwords < 4)
		st->nwords++;
	if (st->routine)
	{
		if (st->atomic_depth == 0)
		{
			if (st->after_begin && word_is(w, wlen, "atomic"))
				st->atomic_depth = 1;
		}
		else if (word_is(w, wlen, "case"))
			st->atomic_depth++;
		else if (word_is(w, wlen, "end"))
			st->atomic_depth--;
	}
	st->after_begin = word_is(w, wlen, "begin");
}

/*
 * The scanner.  out is NULL on the counting pass.  Returns the number of
 * statements, or -1 on error.
 */
static int
scan(const char *body, size_t len, MgStmt *out, MgSplitError *err)
{
	Scan		sc = {body, len, 0, 1, err};
	StmtState	st;
	int			n = 0;

	memset(&st, 0, sizeof(st));
	for (;;)
	{
		unsigned char c;
		size_t		tok_start;
		int			tok_line;

		if (sc.pos >= len || (body[sc.pos] == ';' && st.atomic_depth <= 0))
		{
			if (st.started)
			{
				if (out)
				{
					out[n].offset = st.start;
					out[n].len = st.last_end - st.start;
					out[n].line = st.line;
				}
				n++;
			}
			if (sc.pos >= len)
				return n;
			step(&sc);
			memset(&st, 0, sizeof(st));
			continue;
		}

		c = (unsigned char) body[sc.pos];
		if (is_blank(c))
		{
			step(&sc);
			continue;
		}
		if (c == '-' && sc.pos + 1 < len && body[sc.pos + 1] == '-')
		{
			while (sc.pos < len && body[sc.pos] != '\n')
				step(&sc);
			continue;
		}
		if (c == '/' && sc.pos + 1 < len && body[sc.pos + 1] == '*')
		{
			if (!skip_block_comment(&sc))
				return -1;
			continue;
		}

		/* a token */
		tok_start = sc.pos;
		tok_line = sc.line;
		if (c == '\'')
		{
			if (!skip_quoted(&sc, '\'', false, "unterminated quoted string"))
				return -1;
		}
		else if (c == '"')
		{
			if (!skip_quoted(&sc, '"', false, "unterminated quoted identifier"))
				return -1;
		}
		else if (c == '$' && dollar_delim(&sc, sc.pos) > 0)
		{
			if (!skip_dollar(&sc, dollar_delim(&sc, sc.pos)))
				return -1;
		}
		else if ((c == 'e' || c == 'E') && sc.pos + 1 < len &&
				 body[sc.pos + 1] == '\'')
		{
			step(&sc);
			if (!skip_quoted(&sc, '\'', true, "unterminated quoted string"))
				return -1;
		}
		else if ((c == 'u' || c == 'U') && sc.pos + 2 < len &&
				 body[sc.pos + 1] == '&' &&
				 (body[sc.pos + 2] == '\'' || body[sc.pos + 2] == '"'))
		{
			char		q = body[sc.pos + 2];

			step(&sc);
			step(&sc);
			if (!skip_quoted(&sc, q, false, q == '\'' ?
							 "unterminated quoted string" :
							 "unterminated quoted identifier"))
				return -1;
		}
		else if (ident_start(c))
		{
			while (sc.pos < len && ident_cont((unsigned char) body[sc.pos]))
				step(&sc);
			saw_word(&st, body + tok_start, sc.pos - tok_start);
			/* a quoted string glued to the word (B'..' X'..' N'..') */
			if (sc.pos < len && body[sc.pos] == '\'')
			{
				if (!skip_quoted(&sc, '\'', false, "unterminated quoted string"))
					return -1;
			}
		}
		else
		{
			/* any other byte, including $ of $1 or of an identifier */
			step(&sc);
			st.after_begin = false;
		}
		if (!st.started)
		{
			st.started = true;
			st.start = tok_start;
			st.line = tok_line;
		}
		st.last_end = sc.pos;
	}
}

/* See mg_split.h */
bool
mg_split_sql(const char *body, size_t len, MgAllocFn alloc_fn, void *ctx,
			 MgStmt **stmts, int *nstmts, MgSplitError *err)
{
	int			n;
	MgStmt	   *out = NULL;

	*stmts = NULL;
	*nstmts = 0;
	n = scan(body, len, NULL, err);
	if (n < 0)
		return false;
	if (n > 0)
	{
		size_t		size = sizeof(MgStmt) * (size_t) n;

		out = alloc_fn ? alloc_fn(ctx, size) : malloc(size);
		if (out == NULL)
		{
			err->line = 0;
			snprintf(err->message, sizeof(err->message), "out of memory");
			return false;
		}
		(void) scan(body, len, out, err);
	}
	*stmts = out;
	*nstmts = n;
	return true;
}
