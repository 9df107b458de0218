/*-------------------------------------------------------------------------
 *
 * mg_split.h
 *	  The SQL statement splitter of the core: where each statement of a
 *	  migration body starts and ends.
 *
 * Pure C with no server dependencies (one of the CORE_SRCS of
 * src/core.mk), so the backend (running a non-transactional body one
 * statement at a time) and the client (pointing an error at its statement)
 * split a body the same way.
 *
 * The scanner follows PostgreSQL's lexical rules as far as statement
 * boundaries need them: '...' with '' doubling (standard_conforming_strings
 * on), E'...' with backslash escapes, U&'...', "quoted identifiers" with ""
 * doubling, dollar quotes ($$ and $tag$, the tag an identifier without $,
 * not taken when the $ continues an identifier or starts a parameter $1),
 * -- comments to the end of the line, nested slash-star comments, and the
 * BEGIN ATOMIC ... END body of CREATE [OR REPLACE] FUNCTION/PROCEDURE,
 * inside which semicolons end nothing and CASE ... END nests (as psql
 * counts them).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_SPLIT_H
#define MG_SPLIT_H

#include "mg_core.h"

/*
 * One statement of a body: offset and len (bytes) delimit its text from its
 * first token to the end of its last token before the terminating
 * semicolon (or the end of the body); line is the 1-based line of its first
 * byte.  Comments and blanks before the first or after the last token are
 * not part of it; comments between tokens are.
 */
typedef struct MgStmt
{
	size_t		offset;
	size_t		len;
	int			line;
} MgStmt;

#define MG_SPLIT_MSG_LEN	128

/* Why a body could not be split: an unterminated quote or comment */
typedef struct MgSplitError
{
	int			line;			/* 1-based line where it opens */
	char		message[MG_SPLIT_MSG_LEN];	/* PostgreSQL style */
} MgSplitError;

/*
 * Split body (len bytes; NUL bytes are ordinary characters) into its
 * statements, skipping empty statements and statements made only of
 * comments.  On success *stmts is one block from alloc_fn(ctx, size) (NULL
 * functions mean malloc; the caller frees it with the matching free, or
 * lets its memory context go) holding *nstmts entries (NULL when there are
 * none), and true is returned.  On failure err says what and where,
 * nothing is allocated and false is returned.
 */
extern bool mg_split_sql(const char *body, size_t len,
						 MgAllocFn alloc_fn, void *ctx,
						 MgStmt **stmts, int *nstmts, MgSplitError *err);

#endif							/* MG_SPLIT_H */
