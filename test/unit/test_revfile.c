/*
 * test_revfile.c
 *	  Unit tests of the revision file parser (src/bin/pg_migrate/mg_revfile.c)
 *	  and directory reader (mg_revdir.c): every error with its line, the
 *	  accepted variants (CRLF, byte order mark, comments among the headers),
 *	  body boundaries, the lexer that finds psql meta-commands outside
 *	  quotes and comments, bad names worded as the server words them
 *	  (mg_check_name), file types and links in directories, and escaping.
 *	  The end-to-end tests of the same errors through pg_migrate are in
 *	  test/t/.
 */
#include "mg_core.h"
#include "mg_revfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit_check.h"

/* Parse text (with explicit length, so NUL bytes can be tested) */
static MgRevFile *
parse_n(const char *text, size_t len, MgDiags *diags)
{
	return mg_revfile_parse("t.sql", "d/t.sql", text, len, diags);
}

static MgRevFile *
parse(const char *text, MgDiags *diags)
{
	return parse_n(text, strlen(text), diags);
}

/* The text must fail on line with a message containing needle */
static void
expect_error_n(const char *text, size_t len, int line, const char *needle,
			   int srcline)
{
	MgDiags		diags = {0};
	MgRevFile  *rf = parse_n(text, len, &diags);

	if (rf != NULL)
	{
		failed++;
		printf("FAIL %s:%d: parsed, expected error \"%s\"\n", __FILE__, srcline, needle);
		mg_revfile_free(rf);
		return;
	}
	if (diags.n != 1 || diags.items[0].line != line ||
		strstr(diags.items[0].message, needle) == NULL ||
		strcmp(diags.items[0].path, "t.sql") != 0)
	{
		failed++;
		printf("FAIL %s:%d: expected line %d \"%s\", got %d diags, line %d \"%s\"\n",
			   __FILE__, srcline, line, needle, diags.n,
			   diags.n ? diags.items[0].line : -1,
			   diags.n ? diags.items[0].message : "");
	}
	else
		passed++;
	mg_diags_free(&diags);
}

#define EXPECT_ERROR(text, line, needle) \
	expect_error_n(text, strlen(text), line, needle, __LINE__)

#define HDR "-- migrate:revision abc123\n-- migrate:down_revision none\n"

static void
test_valid(void)
{
	MgDiags		diags = {0};
	MgRevFile  *rf;

	rf = parse("-- migrate:revision 1975ea83b712\n"
			   "-- migrate:down_revision ae1027a6acf2, 55af2cb1c267\n"
			   "-- migrate:branch_labels invenio_foo,other\n"
			   "-- migrate:depends_on 55af2cb1c267\n"
			   "-- migrate:message Create foo tables.\n"
			   "-- migrate:transactional false\n"
			   "-- migrate:upgrade\n"
			   "\n"
			   "CREATE TABLE foo (id int PRIMARY KEY);\n"
			   "\n"
			   "CREATE INDEX ON foo (id);\n"
			   "\n\n"
			   "-- migrate:downgrade\n"
			   "DROP TABLE foo;\n", &diags);
	CHECK(rf != NULL, "valid file parses (%s)", diags.n ? diags.items[0].message : "");
	if (rf == NULL)
		return;
	CHECK(strcmp(rf->revision, "1975ea83b712") == 0, "revision");
	CHECK(rf->ndown == 2 && strcmp(rf->down[0], "ae1027a6acf2") == 0 &&
		  strcmp(rf->down[1], "55af2cb1c267") == 0, "down_revision list trimmed");
	CHECK(rf->nlabels == 2 && strcmp(rf->labels[1], "other") == 0, "labels");
	CHECK(rf->ndeps == 1, "depends_on");
	CHECK(strcmp(rf->message, "Create foo tables.") == 0, "message");
	CHECK(!rf->transactional, "transactional false");
	CHECK(strcmp(rf->upgrade, "CREATE TABLE foo (id int PRIMARY KEY);\n\nCREATE INDEX ON foo (id);") == 0,
		  "upgrade body without outer blank lines, inner kept: [%s]", rf->upgrade);
	CHECK(strcmp(rf->downgrade, "DROP TABLE foo;") == 0, "downgrade body [%s]", rf->downgrade);
	CHECK(rf->line[MG_KEY_UPGRADE] == 7 && rf->line[MG_KEY_DOWNGRADE] == 14, "marker lines");
	CHECK(strcmp(rf->source, "d/t.sql") == 0, "source kept");
	mg_revfile_free(rf);

	/* base, no downgrade section, empty upgrade body */
	rf = parse(HDR "-- migrate:upgrade\n", &diags);
	CHECK(rf && rf->ndown == 0 && rf->downgrade == NULL && strcmp(rf->upgrade, "") == 0 &&
		  rf->message == NULL && rf->transactional, "minimal base revision");
	mg_revfile_free(rf);

	/* empty downgrade section: a downgrade that does nothing */
	rf = parse(HDR "-- migrate:upgrade\n-- migrate:downgrade\n", &diags);
	CHECK(rf && rf->downgrade != NULL && rf->downgrade[0] == '\0', "empty downgrade body");
	mg_revfile_free(rf);

	/* CRLF, byte order mark, comments and blank lines among the headers */
	rf = parse("\xef\xbb\xbf-- Copyright notice\r\n\r\n"
			   "-- migrate:revision abc123\r\n"
			   "--migrate:down_revision None\r\n"
			   "-- migrate:message  Spaces  around  \r\n"
			   "-- migrate:upgrade\r\n"
			   "SELECT 1;\r\n"
			   "SELECT 2;\r\n", &diags);
	CHECK(rf && strcmp(rf->revision, "abc123") == 0 && rf->ndown == 0 &&
		  strcmp(rf->upgrade, "SELECT 1;\nSELECT 2;") == 0 &&
		  strcmp(rf->message, "Spaces  around") == 0,
		  "CRLF, BOM, comments, None: [%s]", rf ? rf->upgrade : "");
	mg_revfile_free(rf);

	/* downgrade before upgrade is allowed */
	rf = parse(HDR "-- migrate:downgrade\nDROP TABLE t;\n-- migrate:upgrade\nCREATE TABLE t ();\n", &diags);
	CHECK(rf && strcmp(rf->upgrade, "CREATE TABLE t ();") == 0 &&
		  strcmp(rf->downgrade, "DROP TABLE t;") == 0, "bodies in either order");
	mg_revfile_free(rf);

	/* no final newline */
	rf = parse(HDR "-- migrate:upgrade\nSELECT 1;", &diags);
	CHECK(rf && strcmp(rf->upgrade, "SELECT 1;") == 0, "no final newline");
	mg_revfile_free(rf);

	/* transactional spellings */
	rf = parse(HDR "-- migrate:transactional ON\n-- migrate:upgrade\n", &diags);
	CHECK(rf && rf->transactional, "transactional ON");
	mg_revfile_free(rf);
	rf = parse(HDR "-- migrate:transactional no\n-- migrate:upgrade\n", &diags);
	CHECK(rf && !rf->transactional, "transactional no");
	mg_revfile_free(rf);

	/* white space inside a body is kept; only blank lines at its ends go */
	rf = parse(HDR "-- migrate:upgrade\n  \n\nSELECT $$a\n   \n\n\tb$$;\n  \n\n", &diags);
	CHECK(rf && strcmp(rf->upgrade, "SELECT $$a\n   \n\n\tb$$;") == 0,
		  "inner blank lines kept as they are: [%s]", rf ? rf->upgrade : "");
	mg_revfile_free(rf);

	/* UTF-8 text is fine */
	rf = parse(HDR "-- migrate:message Créer la table « foo ».\n-- migrate:upgrade\n"
			   "COMMENT ON TABLE t IS 'naïve ☃';\n", &diags);
	CHECK(rf && strcmp(rf->message, "Créer la table « foo ».") == 0, "UTF-8 message");
	mg_revfile_free(rf);
	CHECK(diags.n == 0, "no diagnostics for valid files (%d)", diags.n);
	mg_diags_free(&diags);
}

static void
test_errors(void)
{
	EXPECT_ERROR("", 1, "revision file is empty");
	EXPECT_ERROR("\n  \n\t\n", 1, "revision file is empty");
	EXPECT_ERROR("\xef\xbb\xbf", 1, "revision file is empty");
	EXPECT_ERROR("-- migrate:down_revision none\n-- migrate:upgrade\nSELECT 1;\n",
				 2, "missing \"-- migrate:revision\" line");
	EXPECT_ERROR("-- migrate:revision abc123\n-- migrate:upgrade\n",
				 2, "missing \"-- migrate:down_revision\" line");
	EXPECT_ERROR(HDR "-- migrate:message m\n", 3, "missing \"-- migrate:upgrade\" line");
	EXPECT_ERROR(HDR "-- only comments\n\n", 4, "missing \"-- migrate:upgrade\" line");
	EXPECT_ERROR("-- just a comment\n", 1, "missing \"-- migrate:revision\" line");
	EXPECT_ERROR(HDR "-- migrate:author me\n-- migrate:upgrade\n", 3, "unrecognized header key \"author\"");
	/* the marker import-alembic writes where a person must write SQL */
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1;\n-- migrate:needs_sql The upgrade reads rows.\n",
				 5, "revision \"abc123\" still needs its SQL written");
	EXPECT_ERROR(HDR "-- migrate:upgrade\n-- migrate:downgrade\n--migrate:needs_sql\n",
				 5, "still needs its SQL written");
	EXPECT_ERROR("-- migrate:needs_sql x\n" HDR "-- migrate:upgrade\n", 1,
				 "revision still needs its SQL written");
	{
		/* inside a quoted string it is body text */
		MgDiags		d = {0};
		MgRevFile  *q = parse(HDR "-- migrate:upgrade\nSELECT '\n-- migrate:needs_sql\n';\n", &d);

		CHECK(q && d.n == 0, "needs_sql inside a string is text");
		mg_revfile_free(q);
		mg_diags_free(&d);
	}
	EXPECT_ERROR(HDR "-- migrate:Revision x\n-- migrate:upgrade\n", 3, "unrecognized header key \"Revision\"");
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1;\n-- migrate:up\n", 5, "unrecognized header key \"up\"");
	EXPECT_ERROR(HDR "-- migrate:revision abc124\n-- migrate:upgrade\n", 3, "duplicate header key \"revision\"");
	EXPECT_ERROR(HDR "-- migrate:message a\n-- migrate:message b\n-- migrate:upgrade\n",
				 4, "duplicate header key \"message\"");
	EXPECT_ERROR("-- migrate:revision abc-123\n-- migrate:down_revision none\n-- migrate:upgrade\n",
				 1, "invalid revision id \"abc-123\"");
	EXPECT_ERROR("-- migrate:revision abc 123\n-- migrate:down_revision none\n-- migrate:upgrade\n",
				 1, "invalid revision id \"abc 123\"");
	EXPECT_ERROR("-- migrate:revision 0123456789abcdef0123456789abcdef0\n-- migrate:down_revision none\n-- migrate:upgrade\n",
				 1, "invalid revision id");
	EXPECT_ERROR("-- migrate:revision\n-- migrate:down_revision none\n-- migrate:upgrade\n",
				 1, "empty revision id");
	EXPECT_ERROR("-- migrate:revision heads\n-- migrate:down_revision none\n-- migrate:upgrade\n",
				 1, "revision id \"heads\" is a reserved word");
	EXPECT_ERROR("-- migrate:revision x'; DROP TABLE t; --\n-- migrate:down_revision none\n-- migrate:upgrade\n",
				 1, "invalid revision id");
	EXPECT_ERROR("-- migrate:revision abc123\n-- migrate:down_revision\n-- migrate:upgrade\n",
				 2, "empty down_revision");
	EXPECT_ERROR("-- migrate:revision abc123\n-- migrate:down_revision a1,,b2\n-- migrate:upgrade\n",
				 2, "empty item in down_revision list");
	EXPECT_ERROR("-- migrate:revision abc123\n-- migrate:down_revision a1, a1\n-- migrate:upgrade\n",
				 2, "down_revision lists \"a1\" twice");
	EXPECT_ERROR("-- migrate:revision abc123\n-- migrate:down_revision a.1\n-- migrate:upgrade\n",
				 2, "invalid down_revision \"a.1\"");
	EXPECT_ERROR(HDR "-- migrate:branch_labels ok, not ok\n-- migrate:upgrade\n",
				 3, "invalid branch label \"not ok\" in revision \"abc123\"");
	EXPECT_ERROR(HDR "-- migrate:depends_on head\n-- migrate:upgrade\n",
				 3, "dependency \"head\" in revision \"abc123\" is a reserved word");
	EXPECT_ERROR(HDR "-- migrate:transactional maybe\n-- migrate:upgrade\n",
				 3, "invalid value \"maybe\" for \"transactional\"");
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1;\n-- migrate:upgrade\nSELECT 2;\n",
				 5, "body marker \"-- migrate:upgrade\" appears twice");
	EXPECT_ERROR(HDR "-- migrate:upgrade\n-- migrate:downgrade\n\n-- migrate:downgrade\n",
				 6, "body marker \"-- migrate:downgrade\" appears twice");
	EXPECT_ERROR(HDR "-- migrate:upgrade now\n", 3, "unexpected text after \"-- migrate:upgrade\"");
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1;\n-- migrate:message late\n",
				 5, "header key \"message\" after the start of a body");
	EXPECT_ERROR(HDR "CREATE TABLE t ();\n-- migrate:upgrade\n", 3, "SQL text before");
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1;\n\\i other.sql\n", 5, "psql meta-command \"\\i\" in the upgrade body");
	EXPECT_ERROR(HDR "-- migrate:upgrade\n  \\set x 1\n", 4, "psql meta-command \"\\set\"");
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1 \\gset\n", 4, "psql meta-command \"\\gset\"");
	/* a long meta-command is cut to 20 bytes, on a character boundary (mg_clip) */
	EXPECT_ERROR(HDR "-- migrate:upgrade\n\\\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\n", 4,
				 "psql meta-command \"\\\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\" in the upgrade body");
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\n\\connect other\n",
				 6, "in the downgrade body");
	/* after a string, a comment and a dollar quote closed on earlier lines */
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 'a\nb';\n/* x\n*/ \\q\n", 7, "psql meta-command \"\\q\"");
	EXPECT_ERROR(HDR "-- migrate:upgrade\nDO $f$ BEGIN\nEND $f$;\n\\echo hi\n", 6, "\"\\echo\"");
	expect_error_n(HDR "-- migrate:upgrade\nSELECT '\0';\n", sizeof(HDR "-- migrate:upgrade\nSELECT '\0';\n") - 1,
				   4, "file contains a NUL byte", __LINE__);
	expect_error_n("\0", 1, 1, "file contains a NUL byte", __LINE__);
	EXPECT_ERROR(HDR "-- migrate:message caf\xe9\n-- migrate:upgrade\n", 3,
				 "invalid byte sequence for encoding \"UTF8\"");
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1;\n\nSELECT '\xc0\xaf';\n", 6, "invalid byte sequence");	/* overlong */
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT '\xed\xa0\x80';\n", 4, "invalid byte sequence");	/* surrogate */
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT '\xe2\x98';\n", 4, "invalid byte sequence");	/* truncated */
	expect_error_n("\xff\xfe-\0-\0", 6, 1, "invalid byte sequence", __LINE__);	/* UTF-16 */
	EXPECT_ERROR("-- migrate:revision none\n-- migrate:down_revision none\n-- migrate:upgrade\n",
				 1, "revision id \"none\" cannot be used in revision files");
	EXPECT_ERROR("-- migrate:revision NONE\n-- migrate:down_revision none\n-- migrate:upgrade\n",
				 1, "revision id \"NONE\" cannot be used");
	EXPECT_ERROR("-- migrate:revision abc\n-- migrate:down_revision a1, none\n-- migrate:upgrade\n",
				 2, "\"none\" in a down_revision list");
	/* a marker inside a quote is text: the quote then runs to the end */
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1;\nDO $$ BEGIN\n-- migrate:downgrade\nEND $;\n",
				 5, "unterminated dollar-quoted string in the upgrade body");
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1;\n-- migrate:downgrade\nSELECT 'abc\n\n-- migrate:message m\n",
				 6, "unterminated quoted string in the downgrade body");
	EXPECT_ERROR(HDR "-- migrate:upgrade\n/* a /* nested */ comment\n", 4, "unterminated comment in the upgrade body");
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT \"col\n", 4, "unterminated quoted identifier");
	/* psql reads 1E- as one token: the "--" after it is no comment */
	EXPECT_ERROR(HDR "-- migrate:upgrade\nSELECT 1E--\\Z\n", 4, "psql meta-command \"\\Z\"");
	{
		/* columns count characters, not bytes */
		MgDiags		diags = {0};
		const char	text[] = HDR "-- migrate:upgrade\nSELECT '\xc3\xa9\xc3\xa9\0';\n";

		CHECK(parse_n(text, sizeof(text) - 1, &diags) == NULL && diags.n == 1 &&
			  strcmp(diags.items[0].detail, "The NUL byte is at column 11.") == 0,
			  "NUL column in characters: %s", diags.n ? diags.items[0].detail : "");
		mg_diags_free(&diags);
	}
}

/* Backslashes psql would not read as meta-commands are data */
static void
test_lexer(void)
{
	static const char *const bodies[] = {
		"SELECT E'a\\'b\\\\c';",	/* escapes in an E string */
		"SELECT e'\\n';",
		"SELECT 'C:\\path';",		/* backslash in a standard string */
		"SELECT 'it''s \\';",
		"SELECT \"we\\ird\";",
		"SELECT $$ \\i file $$;",
		"CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$\nSELECT '\\x'\n$body$;",
		"DO $$\nBEGIN\n  RAISE NOTICE '%', E'\\t';\nEND\n$$;",
		"-- comment \\i file\nSELECT 1;",
		"/* comment \\i /* nested */ still \\q */ SELECT 1;",
		"SELECT $1;",				/* not a dollar quote */
		"SELECT a$b$c;",			/* $ inside an identifier */
		"SELECT 'multi\nline \\ string';",
		"SELECT $q$ $notq$ \\ $q$;",
		"SELECT 1$b$\\$b$;",		/* a dollar quote right after a number */
		"SELECT ''$1$$\\Z $$;",	/* a parameter, then a dollar quote */
		"SELECT x1$y$z;",			/* '$' inside an identifier */
		"SELECT U&'d\\0061t\\+000061';",
		"DO $$\n-- migrate:downgrade\n$$;",	/* marker text inside a quote */
		"SELECT 'a\n-- migrate:message m\n';",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
	{
		MgDiags		diags = {0};
		char		text[1024];
		MgRevFile  *rf;

		snprintf(text, sizeof(text), HDR "-- migrate:upgrade\n%s\n", bodies[i]);
		rf = parse(text, &diags);
		CHECK(rf != NULL && strcmp(rf->upgrade, bodies[i]) == 0,
			  "body %zu is data: %s", i, diags.n ? diags.items[0].message : bodies[i]);
		mg_revfile_free(rf);
		mg_diags_free(&diags);
	}
}

/* The diagnostic about path, or NULL */
static const MgDiag *
diag_for(const MgDiags *diags, const char *path)
{
	for (int i = 0; i < diags->n; i++)
		if (strcmp(diags->items[i].path, path) == 0)
			return &diags->items[i];
	return NULL;
}

#define CHECK_DIAG(diags, path, msg, det, hnt) \
	do { \
		const MgDiag *d_ = diag_for(diags, path); \
		CHECK(d_ && strcmp(d_->message, msg) == 0 && \
			  strcmp(d_->detail ? d_->detail : "", det) == 0 && \
			  strcmp(d_->hint ? d_->hint : "", hnt) == 0, \
			  "%s: got \"%s\" / \"%s\" / \"%s\"", path, d_ ? d_->message : "(none)", \
			  d_ && d_->detail ? d_->detail : "", d_ && d_->hint ? d_->hint : ""); \
	} while (0)

static void
timed_out(int sig)
{
	(void) sig;
	printf("FAIL %s: reading the directory blocked (a FIFO opened for reading?)\n", __FILE__);
	_exit(1);
}

static void
write_text(const char *path, const char *text)
{
	FILE	   *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
	{
		perror(path);
		exit(1);
	}
}

/*
 * Only regular files are revision files: a FIFO (which would block a
 * reader forever), a symbolic link to /dev/zero (read to the size limit),
 * a directory named x.sql are errors naming them, and so is a symbolic link
 * leading out of the directory unless the set follows such links.  A link
 * inside the tree is followed.
 */
static void
test_file_types(void)
{
	char		top[] = "/tmp/test_revfile_XXXXXX";
	char		real[4096];
	char		p[8192],
				d[4096],
				out[4096],
				exp[16384];
	MgDiags		diags = {0};
	MgRevSet	set = {0};
	bool		ok;

	if (mkdtemp(top) == NULL || realpath(top, real) == NULL)
	{
		perror("mkdtemp");
		exit(1);
	}
	snprintf(d, sizeof(d), "%s/d", real);
	snprintf(out, sizeof(out), "%s/out", real);
	if (mkdir(d, 0700) != 0 || mkdir(out, 0700) != 0)
	{
		perror("mkdir");
		exit(1);
	}
	snprintf(p, sizeof(p), "%s/a1.sql", d);
	write_text(p, HDR "-- migrate:upgrade\nSELECT 1;\n");
	snprintf(p, sizeof(p), "%s/x1.sql", out);
	write_text(p, "-- migrate:revision x1\n-- migrate:down_revision none\n-- migrate:upgrade\nSELECT 1;\n");
	snprintf(p, sizeof(p), "%s/fifo.sql", d);
	if (mkfifo(p, 0600) != 0)
		perror("mkfifo");
	snprintf(p, sizeof(p), "%s/zero.sql", d);
	if (symlink("/dev/zero", p) != 0)
		perror("symlink");
	snprintf(p, sizeof(p), "%s/out.sql", d);
	if (symlink("../out/x1.sql", p) != 0)
		perror("symlink");
	snprintf(p, sizeof(p), "%s/x.sql", d);
	if (mkdir(p, 0700) != 0)
		perror("mkdir");
	snprintf(p, sizeof(p), "%s/ok_link.txt", d);
	write_text(p, "not read\n");

	signal(SIGALRM, timed_out);
	alarm(20);
	ok = mg_revset_add_dir(&set, d, false, &diags);
	alarm(0);
	CHECK(!ok && diags.n == 4 && set.n == 1, "4 bad entries, 1 file read: %d, %d", diags.n, set.n);
	snprintf(p, sizeof(p), "%s/fifo.sql", d);
	CHECK_DIAG(&diags, p, "not a regular file", "It is a FIFO.", "Revision files are regular files.");
	snprintf(p, sizeof(p), "%s/zero.sql", d);
	CHECK_DIAG(&diags, p, "not a regular file",
			   "It is a symbolic link to \"/dev/zero\", which is a character device.",
			   "Revision files are regular files.");
	snprintf(p, sizeof(p), "%s/x.sql", d);
	CHECK_DIAG(&diags, p, "not a regular file", "It is a directory.",
			   "Revision files are regular files: rename the directory, or give -r to read it as a subdirectory.");
	snprintf(p, sizeof(p), "%s/out.sql", d);
	snprintf(exp, sizeof(exp), "symbolic link leads outside directory \"%s\"", d);
	{
		char		det[16384];

		snprintf(det, sizeof(det), "Its target is \"%s/x1.sql\", which is not under \"%s\".", out, d);
		CHECK_DIAG(&diags, p, exp, det,
				   "Copy the file into the directory, or give --follow-external-links to read files that links lead to wherever they are.");
	}
	mg_diags_free(&diags);
	mg_revset_free(&set);

	/* following links out of the tree: the file is read */
	set.follow_external_links = true;
	ok = mg_revset_add_dir(&set, d, false, &diags);
	CHECK(!ok && diags.n == 3 && set.n == 2 && mg_revset_find(&set, "x1") >= 0,
		  "followed the link out: %d diags, %d files", diags.n, set.n);
	mg_diags_free(&diags);
	mg_revset_free(&set);

	/* with -r, x.sql is a subdirectory; a FIFO given as a file is refused */
	snprintf(p, sizeof(p), "%s/fifo.sql", d);
	alarm(20);
	ok = mg_revset_add_file(&set, p, NULL, &diags);
	alarm(0);
	CHECK(!ok && diags.n == 1 && strcmp(diags.items[0].message, "not a regular file") == 0,
		  "a FIFO given as a file: %s", diags.n ? diags.items[0].message : "");
	mg_diags_free(&diags);
	mg_revset_free(&set);
	snprintf(p, sizeof(p), "%s/fifo.sql", d);
	unlink(p);
	snprintf(p, sizeof(p), "%s/zero.sql", d);
	unlink(p);
	snprintf(p, sizeof(p), "%s/out.sql", d);
	unlink(p);
	/* a link inside the tree is read */
	snprintf(p, sizeof(p), "%s/x.sql/inside.sql", d);
	if (symlink("../../out/../d/a1.sql", p) != 0)
		perror("symlink");
	ok = mg_revset_add_dir(&set, d, true, &diags);
	CHECK(ok && diags.n == 0 && set.n == 2, "-r: x.sql read as a subdirectory, inner link followed: %d diags, %d files",
		  diags.n, set.n);
	mg_diags_free(&diags);
	mg_revset_free(&set);

	snprintf(p, sizeof(p), "rm -rf '%s'", real);
	if (system(p) != 0)
		printf("could not remove %s\n", real);
}

/* mg_escape: what reaches the terminal */
static void
test_escape(void)
{
	static const struct
	{
		const char *in;
		bool		utf8;
		const char *out;
	}			cases[] = {
		{"plain text, caf\xc3\xa9", true, "plain text, caf\xc3\xa9"},
		{"a\nb\rc\td", true, "a\\nb\\rc\\td"},
		{"x\npg_migrate: hint: forged", true, "x\\npg_migrate: hint: forged"},
		{"\x1b[2J\x1b]0;title\x07", true, "\\x1b[2J\\x1b]0;title\\x07"},
		{"del\x7f", true, "del\\x7f"},
		{"c1 \xc2\x9b" "31m", true, "c1 \\u009b31m"},
		{"bidi \xe2\x80\xae end \xe2\x81\xa6", true, "bidi \\u202e end \\u2066"},
		{"bad \xff\xc3 utf8", true, "bad \\xff\\xc3 utf8"},
		{"overlong \xc0\xaf", true, "overlong \\xc0\\xaf"},
		{"back\\slash", true, "back\\slash"},
		/* another client encoding: only C0 and DEL */
		{"latin1 \xe9 \x85 \x1b", false, "latin1 \xe9 \x85 \\x1b"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char	   *e = mg_escape(cases[i].in, strlen(cases[i].in), cases[i].utf8);

		CHECK(strcmp(e, cases[i].out) == 0, "escape %zu: got \"%s\", want \"%s\"", i, e, cases[i].out);
		free(e);
	}
	{
		/* a NUL inside the given length */
		char	   *e = mg_escape("a\0b", 3, true);

		CHECK(strcmp(e, "a\\x00b") == 0, "escape NUL: %s", e);
		free(e);
	}
}

/*
 * Names: the parser's message and DETAIL for a bad name are the core's
 * mg_check_name texts, which the server sends for the same name (the
 * revision is named when its line came first, as migrate_register names
 * it).  Fails if the parser words a name problem its own way.
 */
static void
test_names_like_server(void)
{
	static const struct
	{
		const char *text;
		MgNameKind	kind;
		const char *name;
		const char *owner;
		int			line;
	}			cases[] = {
		{"-- migrate:revision head\n-- migrate:down_revision none\n-- migrate:upgrade\n",
		MG_NAME_REVISION, "head", NULL, 1},
		{"-- migrate:revision a-b\n-- migrate:down_revision none\n-- migrate:upgrade\n",
		MG_NAME_REVISION, "a-b", NULL, 1},
		{HDR "-- migrate:branch_labels heads\n-- migrate:upgrade\n",
		MG_NAME_BRANCH_LABEL, "heads", "abc123", 3},
		{HDR "-- migrate:branch_labels l\xc3\xa9\n-- migrate:upgrade\n",
		MG_NAME_BRANCH_LABEL, "l\xc3\xa9", "abc123", 3},
		{HDR "-- migrate:depends_on x.y\n-- migrate:upgrade\n",
		MG_NAME_DEPENDENCY, "x.y", "abc123", 3},
		{"-- migrate:revision abc123\n-- migrate:down_revision base\n-- migrate:upgrade\n",
		MG_NAME_DOWN_REVISION, "base", "abc123", 2},
		/* the list before the revision line: no revision to name */
		{"-- migrate:down_revision a;b\n-- migrate:revision abc123\n-- migrate:upgrade\n",
		MG_NAME_DOWN_REVISION, "a;b", NULL, 1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		MgDiags		diags = {0};
		MgRevFile  *rf = parse(cases[i].text, &diags);
		MgNameProblem np;
		bool		legal = mg_check_name(cases[i].kind, cases[i].name,
										  strlen(cases[i].name), cases[i].owner, &np);

		CHECK(!legal && rf == NULL && diags.n == 1 &&
			  diags.items[0].line == cases[i].line &&
			  strcmp(diags.items[0].message, np.message) == 0 &&
			  diags.items[0].detail && strcmp(diags.items[0].detail, np.detail) == 0,
			  "name case %zu: got \"%s\" / \"%s\", the server's text is \"%s\" / \"%s\"", i,
			  diags.n ? diags.items[0].message : "(none)",
			  diags.n && diags.items[0].detail ? diags.items[0].detail : "(none)",
			  np.message, np.detail);
		mg_revfile_free(rf);
		mg_diags_free(&diags);
	}
}

int
main(void)
{
	test_valid();
	test_errors();
	test_names_like_server();
	test_lexer();
	test_file_types();
	test_escape();
	printf("test_revfile: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
