/*
 * test_split.c
 *	  Unit tests of the core's SQL statement splitter (src/mg_split.c):
 *	  boundaries around every kind of quote and comment, dollar-quote tag
 *	  rules, BEGIN ATOMIC bodies with CASE ... END, empty and comment-only
 *	  statements, start lines, and unterminated tokens reported with the
 *	  line where they open.
 */
#include "mg_split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_check.h"

/*
 * Split text and compare the statements with expect, a list of texts
 * ending in NULL; lines, when not NULL, the start line of each.
 */
static void
expect_split(const char *text, const char *const *expect, const int *lines,
			 int srcline)
{
	MgStmt	   *st;
	int			n,
				i,
				nexp = 0;
	MgSplitError err;

	while (expect[nexp])
		nexp++;
	if (!mg_split_sql(text, strlen(text), NULL, NULL, &st, &n, &err))
	{
		failed++;
		printf("FAIL %s:%d: error line %d: %s\n", __FILE__, srcline, err.line,
			   err.message);
		return;
	}
	if (n != nexp)
	{
		failed++;
		printf("FAIL %s:%d: %d statements, expected %d\n", __FILE__, srcline, n, nexp);
		for (i = 0; i < n; i++)
			printf("  [%d] line %d: %.*s\n", i, st[i].line, (int) st[i].len,
				   text + st[i].offset);
		free(st);
		return;
	}
	for (i = 0; i < n; i++)
	{
		if (strlen(expect[i]) != st[i].len ||
			memcmp(expect[i], text + st[i].offset, st[i].len) != 0 ||
			(lines && lines[i] != st[i].line))
		{
			failed++;
			printf("FAIL %s:%d: statement %d is line %d \"%.*s\", expected line %d \"%s\"\n",
				   __FILE__, srcline, i + 1, st[i].line, (int) st[i].len,
				   text + st[i].offset, lines ? lines[i] : 0, expect[i]);
			free(st);
			return;
		}
	}
	passed++;
	free(st);
}

#define SPLIT(text, ...) \
	do { \
		static const char *const e_[] = {__VA_ARGS__, NULL}; \
		expect_split(text, e_, NULL, __LINE__); \
	} while (0)

static void
expect_error(const char *text, int line, const char *needle, int srcline)
{
	MgStmt	   *st = (MgStmt *) 1;
	int			n = 7;
	MgSplitError err;

	if (mg_split_sql(text, strlen(text), NULL, NULL, &st, &n, &err))
	{
		failed++;
		printf("FAIL %s:%d: split, expected \"%s\"\n", __FILE__, srcline, needle);
		free(st);
		return;
	}
	CHECK(err.line == line && strstr(err.message, needle) != NULL &&
		  st == NULL && n == 0,
		  "line %d: expected line %d \"%s\", got line %d \"%s\"", srcline,
		  line, needle, err.line, err.message);
}

#define SPLIT_ERROR(text, line, needle) expect_error(text, line, needle, __LINE__)

/* A counting allocator: the result is one block from the caller's allocator */
static int	nallocs = 0;
static char arena[4096];

static void *
count_alloc(void *ctx, size_t size)
{
	(void) ctx;
	nallocs++;
	return size <= sizeof(arena) ? arena : NULL;
}

int
main(void)
{
	/* plain statements, blanks, last one without semicolon */
	SPLIT("select 1; select 2", "select 1", "select 2");
	SPLIT("  select 1 ;\n\n  select 2 ;  \n", "select 1", "select 2");
	/* empty statements and comment-only ones are skipped */
	{
		MgStmt	   *st;
		int			n = 5;
		MgSplitError err;

		CHECK(mg_split_sql(";; -- nothing\n /* at all */ ;\n", 29, NULL, NULL, &st, &n, &err) &&
			  n == 0 && st == NULL, "empty body: %d statements", n);
		CHECK(mg_split_sql("", 0, NULL, NULL, &st, &n, &err) && n == 0 && st == NULL,
			  "zero-length body");
	}
	/* comments before a statement are not part of it; inside they stay */
	SPLIT("-- lead; not a statement\ncreate table t (a int /* ; */);\n",
		  "create table t (a int /* ; */)");
	SPLIT("/* outer /* nested ; */ still ; comment */ select 1;", "select 1");
	/* a statement ends at its last token: a trailing comment is not part of it */
	SPLIT("select 1 -- trailing ; comment\n; select 2", "select 1", "select 2");
	SPLIT("select /* mid */ 1 /* end */; select 2", "select /* mid */ 1", "select 2");
	/* quotes */
	SPLIT("select 'a;b''c;'; select 2", "select 'a;b''c;'", "select 2");
	SPLIT("select E'a\\';b'; select 2", "select E'a\\';b'", "select 2");
	SPLIT("select e'\\\\'; select 2", "select e'\\\\'", "select 2");
	/* in a standard string a backslash is an ordinary character */
	SPLIT("select 'a\\'; select 2", "select 'a\\'", "select 2");
	SPLIT("select U&'d\\0061t;a'; select 2", "select U&'d\\0061t;a'", "select 2");
	SPLIT("select U&\"a;b\" from t; select 2", "select U&\"a;b\" from t", "select 2");
	SPLIT("select 1 as \"x;\"\"y\"; select 2", "select 1 as \"x;\"\"y\"", "select 2");
	SPLIT("select B'101', X'1f;'; select 2", "select B'101', X'1f;'", "select 2");
	/* a word ending in e is not an E'' prefix: the quote is standard */
	SPLIT("select name'a\\'; select 2", "select name'a\\'", "select 2");
	/* dollar quotes */
	SPLIT("do $$ begin; end $$; select 2", "do $$ begin; end $$", "select 2");
	SPLIT("do $body$ x; $$ y; $body$; select 2", "do $body$ x; $$ y; $body$", "select 2");
	SPLIT("select $a$;$b$;$a$; select 2", "select $a$;$b$;$a$", "select 2");
	/* $1 is a parameter, a$b$ an identifier: neither opens a quote */
	SPLIT("prepare p as select $1; select 2", "prepare p as select $1", "select 2");
	SPLIT("select a$b$; select 2", "select a$b$", "select 2");
	SPLIT("select $1$; select 2", "select $1$", "select 2");
	/* a tag may not start with a digit: $1x$ is not a delimiter */
	SPLIT("select $_x1$ ; $_x1$; select 2", "select $_x1$ ; $_x1$", "select 2");
	/* BEGIN ATOMIC bodies */
	SPLIT("create function f() returns int language sql begin atomic select 1; select 2; end;\nselect 3",
		  "create function f() returns int language sql begin atomic select 1; select 2; end",
		  "select 3");
	SPLIT("CREATE OR REPLACE PROCEDURE p(a int) LANGUAGE sql BEGIN ATOMIC\n"
		  "  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; INSERT INTO t VALUES (a);\nEND;\n"
		  "select 3;",
		  "CREATE OR REPLACE PROCEDURE p(a int) LANGUAGE sql BEGIN ATOMIC\n"
		  "  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END; INSERT INTO t VALUES (a);\nEND",
		  "select 3");
	SPLIT("create function f() returns int language sql begin atomic select case when true then case 1 when 1 then 2 end end; end; select 3",
		  "create function f() returns int language sql begin atomic select case when true then case 1 when 1 then 2 end end; end",
		  "select 3");
	/* BEGIN; outside a routine is a statement, as is BEGIN ATOMIC-less text */
	SPLIT("begin; select 1; commit;", "begin", "select 1", "commit");
	SPLIT("create table atomic (begin int); select 2", "create table atomic (begin int)", "select 2");
	/* a $$ body of CREATE FUNCTION holds its semicolons */
	SPLIT("create function f() returns int language plpgsql as $$ begin return 1; end $$; select 2",
		  "create function f() returns int language plpgsql as $$ begin return 1; end $$",
		  "select 2");
	/* NUL bytes are ordinary characters */
	{
		static const char text[] = "select 'a\0b'; select 2";
		MgStmt	   *st;
		int			n;
		MgSplitError err;

		CHECK(mg_split_sql(text, sizeof(text) - 1, NULL, NULL, &st, &n, &err) &&
			  n == 2 && st[0].len == 12 && st[1].offset == 14,
			  "NUL inside a quote");
		free(st);
	}
	/* start lines */
	{
		static const char *const e[] = {"select 1", "select\n2", "select 3", NULL};
		static const int l[] = {2, 4, 8};

		expect_split("\nselect 1;\n-- c\nselect\n2; /* a\nb\n*/\nselect 3", e, l, __LINE__);
	}
	/* unterminated tokens: the line where they open */
	SPLIT_ERROR("select 1;\nselect 'abc", 2, "unterminated quoted string");
	SPLIT_ERROR("select 1;\n\nselect E'abc\\'", 3, "unterminated quoted string");
	SPLIT_ERROR("select \"abc", 1, "unterminated quoted identifier");
	SPLIT_ERROR("select 1;\ndo $x$ begin end $y$;\n", 2, "unterminated dollar-quoted string");
	SPLIT_ERROR("select 1; /* a /* b */\n", 1, "unterminated /* comment");
	SPLIT_ERROR("select U&'abc", 1, "unterminated quoted string");
	/* the caller's allocator: one block, none for an empty body */
	{
		MgStmt	   *st;
		int			n;
		MgSplitError err;

		nallocs = 0;
		CHECK(mg_split_sql("a; b; c", 7, count_alloc, NULL, &st, &n, &err) &&
			  n == 3 && st == (MgStmt *) arena && nallocs == 1, "one block");
		nallocs = 0;
		CHECK(mg_split_sql("  ;  ", 5, count_alloc, NULL, &st, &n, &err) &&
			  n == 0 && nallocs == 0, "no block for no statements");
	}

	printf("test_split: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
