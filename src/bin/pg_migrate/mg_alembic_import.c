/*-------------------------------------------------------------------------
 *
 * mg_alembic_import.c
 *	  pg_migrate import-alembic: write one revision file per revision of an
 *	  Alembic project (issue 13, items 1 to 3).
 *
 * The revision modules are Python and import the project's own code, so
 * they are run by a small Python program installed with pg_migrate
 * (alembic_import.py, in the share directory's pg_migrate/), with the
 * interpreter the user names (--python).  It renders each revision's
 * upgrade() and downgrade() with Alembic's offline mode for PostgreSQL, or
 * with --online runs them with real Alembic against a scratch database
 * this command creates (and always drops), and prints what it found as
 * records (alembic_import.py's docstring describes them).  This file runs
 * it, reads the records and writes the files, then parses every file it
 * wrote with the revision-file parser, so that what it writes is what
 * "check" and "load" read.
 *
 * A body that could not be rendered gets a "-- migrate:needs_sql" line,
 * which the parser refuses until a person writes the SQL; the command then
 * exits 1 and says how many revisions need it.  A revision whose online
 * run read data is written and flagged for review (a comment in its file,
 * a warning here).
 *
 * This file owns the command and the layout of the files it writes.  It
 * must not change any database but its scratch database, nor write
 * anywhere but OUT_DIR.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/logging.h"
#include "pqexpbuffer.h"

#include "pg_migrate.h"

/* The environment variable that names the Python program (development) */
#define IMPORTER_ENV	"PG_MIGRATE_ALEMBIC_IMPORTER"
#define IMPORTER_NAME	"alembic_import.py"

/* One revision as the Python program described it */
typedef struct ImportRev
{
	char	   *revision;
	char	   *dir;			/* output subdirectory, relative */
	char	   *file;			/* file name */
	char	   *source;			/* the Alembic .py file, for messages */
	char	  **lists[3];		/* down, label, dep */
	int			nlists[3];
	char	   *message;
	bool		transactional;
	char	   *body[2];		/* upgrade, downgrade; NULL: not rendered */
	char	   *problem[2];		/* why not */
	char	   *error[2];		/* the Python traceback */
	char	  **reviews;
	int			nreviews;
	char	   *path;			/* the file written */
	int			marker_line[2]; /* line of its needs_sql markers */
} ImportRev;

typedef struct ImportResult
{
	ImportRev  *revs;
	int			n;
	char	  **heads;
	int			nheads;
} ImportResult;

static const char *const phase_names[2] = {"upgrade", "downgrade"};

static void
append_str(char ***list, int *n, char *s)
{
	*list = pg_realloc(*list, sizeof(char *) * (*n + 1));
	(*list)[(*n)++] = s;
}

/*
 * Where the Python program is: $PG_MIGRATE_ALEMBIC_IMPORTER, else
 * SHAREDIR/pg_migrate/alembic_import.py relative to this program's own
 * location (as PostgreSQL's client programs find their share directory),
 * else next to the program (the build tree).  NULL after reporting.
 */
static char *
find_importer(const char *argv0)
{
	const char *env = getenv(IMPORTER_ENV);
	char		my_exec[MAXPGPATH];
	char		share[MAXPGPATH];
	char	   *path;
	char	   *dir;

	if (env && env[0])
	{
		if (access(env, R_OK) != 0)
		{
			pg_log_error("could not read \"%s\" (named by %s): %m", esc(env), IMPORTER_ENV);
			return NULL;
		}
		return pg_strdup(env);
	}
	if (find_my_exec(argv0, my_exec) < 0)
	{
		pg_log_error("could not find the pg_migrate program's own location");
		return NULL;
	}
	get_share_path(my_exec, share);
	path = psprintf("%s/pg_migrate/%s", share, IMPORTER_NAME);
	if (access(path, R_OK) == 0)
		return path;
	dir = pg_strdup(my_exec);
	get_parent_directory(dir);
	{
		char	   *local = psprintf("%s/%s", dir, IMPORTER_NAME);

		if (access(local, R_OK) == 0)
		{
			free(path);
			free(dir);
			return local;
		}
		free(local);
	}
	pg_log_error("could not find the Alembic importer \"%s\"", esc(path));
	pg_log_error_detail("It is installed with pg_migrate by \"make install\".");
	pg_log_error_hint("Set %s to the file's path to use another copy.", IMPORTER_ENV);
	free(dir);
	free(path);
	return NULL;
}

/* Percent-encoding of a URL component */
static void
append_url_part(PQExpBuffer buf, const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || strchr("-._~", *p))
			appendPQExpBufferChar(buf, (char) *p);
		else
			appendPQExpBuffer(buf, "%%%02X", *p);
	}
}

/*
 * The SQLAlchemy URL of scratch database dbname, with the host, port and
 * user of the server connection (a socket directory is a "host" query
 * parameter, which psycopg2 hands to libpq).  The password, if any, goes
 * to the child through PGPASSWORD, never on its command line.
 */
static char *
scratch_url(const char *dbname)
{
	PGconn	   *c = scratch_server();
	PQExpBufferData buf;
	const char *pass = PQpass(c);

	initPQExpBuffer(&buf);
	appendPQExpBufferStr(&buf, "postgresql+psycopg2:///");
	append_url_part(&buf, dbname);
	appendPQExpBufferStr(&buf, "?host=");
	append_url_part(&buf, PQhost(c));
	appendPQExpBufferStr(&buf, "&port=");
	append_url_part(&buf, PQport(c));
	appendPQExpBufferStr(&buf, "&user=");
	append_url_part(&buf, PQuser(c));
	if (pass && pass[0])
		setenv("PGPASSWORD", pass, 1);
	return buf.data;
}

/*
 * Run the Python program with args (NULL-terminated) and collect its
 * standard output; its standard error is the user's.  Returns false
 * after reporting when it could not be run or failed.
 */
static bool
run_importer(char **args, char **out, size_t *outlen)
{
	int			fds[2];
	pid_t		pid;
	PQExpBufferData buf;
	char		chunk[65536];
	ssize_t		r;
	int			status;

	fflush(stdout);
	fflush(stderr);
	if (pipe(fds) != 0)
	{
		pg_log_error("could not create a pipe: %m");
		return false;
	}
	pid = fork();
	if (pid < 0)
	{
		pg_log_error("could not fork: %m");
		return false;
	}
	if (pid == 0)
	{
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		close(fds[1]);
		execvp(args[0], args);
		fprintf(stderr, "%s: error: could not run \"%s\": %s\n", progname, args[0], strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	initPQExpBuffer(&buf);
	while ((r = read(fds[0], chunk, sizeof(chunk))) != 0)
	{
		if (r < 0)
		{
			if (errno == EINTR)
				continue;
			pg_log_error("could not read the output of \"%s\": %m", esc(args[0]));
			break;
		}
		appendBinaryPQExpBuffer(&buf, chunk, (size_t) r);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
	{
		if (errno != EINTR)
		{
			pg_log_error("could not wait for \"%s\": %m", esc(args[0]));
			return false;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
	{
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			pg_log_error("could not run the Alembic importer with \"%s\"", esc(args[0]));
		else if (WIFEXITED(status))
			pg_log_error("the Alembic importer failed (exit status %d)", WEXITSTATUS(status));
		else
			pg_log_error("the Alembic importer was terminated by signal %d", WTERMSIG(status));
		pg_log_error_detail("Its messages, if any, are above.");
		pg_log_error_hint("Name the project's Python with --python; it must import alembic and sqlalchemy.");
		termPQExpBuffer(&buf);
		return false;
	}
	*out = buf.data;
	*outlen = buf.len;
	return true;
}

/* One record of the output: "KEY LEN\n" LEN bytes "\n" */
static bool
next_record(const char **p, const char *end, char *key, size_t keysize,
			char **value)
{
	const char *nl = memchr(*p, '\n', (size_t) (end - *p));
	const char *sp;
	char	   *endnum;
	unsigned long len;

	if (nl == NULL)
		return false;
	sp = memchr(*p, ' ', (size_t) (nl - *p));
	if (sp == NULL || (size_t) (sp - *p) >= keysize)
		return false;
	memcpy(key, *p, (size_t) (sp - *p));
	key[sp - *p] = '\0';
	errno = 0;
	len = strtoul(sp + 1, &endnum, 10);
	if (errno != 0 || endnum != nl || (size_t) (end - nl - 1) < len + 1 ||
		nl[1 + len] != '\n')
		return false;
	*value = pnstrdup(nl + 1, len);
	*p = nl + 1 + len + 1;
	return true;
}

static bool
parse_records(const char *buf, size_t len, ImportResult *res)
{
	const char *p = buf;
	const char *end = buf + len;
	ImportRev  *cur = NULL;
	char		key[32];
	char	   *val;

	memset(res, 0, sizeof(*res));
	while (p < end)
	{
		if (!next_record(&p, end, key, sizeof(key), &val))
		{
			pg_log_error("unexpected output from the Alembic importer at byte %d",
						 (int) (p - buf));
			return false;
		}
		if (strcmp(key, "rev") == 0)
		{
			res->revs = pg_realloc(res->revs, sizeof(ImportRev) * (res->n + 1));
			cur = &res->revs[res->n++];
			memset(cur, 0, sizeof(*cur));
			cur->revision = val;
			cur->transactional = true;
			continue;
		}
		if (strcmp(key, "head") == 0)
		{
			append_str(&res->heads, &res->nheads, val);
			continue;
		}
		if (cur == NULL)
		{
			pg_log_error("unexpected record \"%s\" from the Alembic importer", esc(key));
			free(val);
			return false;
		}
		if (strcmp(key, "dir") == 0)
			cur->dir = val;
		else if (strcmp(key, "file") == 0)
			cur->file = val;
		else if (strcmp(key, "source") == 0)
			cur->source = val;
		else if (strcmp(key, "down") == 0)
			append_str(&cur->lists[0], &cur->nlists[0], val);
		else if (strcmp(key, "label") == 0)
			append_str(&cur->lists[1], &cur->nlists[1], val);
		else if (strcmp(key, "dep") == 0)
			append_str(&cur->lists[2], &cur->nlists[2], val);
		else if (strcmp(key, "message") == 0)
			cur->message = val;
		else if (strcmp(key, "transactional") == 0)
		{
			cur->transactional = strcmp(val, "0") != 0;
			free(val);
		}
		else if (strcmp(key, "upgrade") == 0)
			cur->body[0] = val;
		else if (strcmp(key, "downgrade") == 0)
			cur->body[1] = val;
		else if (strcmp(key, "upgrade_problem") == 0)
			cur->problem[0] = val;
		else if (strcmp(key, "downgrade_problem") == 0)
			cur->problem[1] = val;
		else if (strcmp(key, "upgrade_error") == 0)
			cur->error[0] = val;
		else if (strcmp(key, "downgrade_error") == 0)
			cur->error[1] = val;
		else if (strcmp(key, "review") == 0)
			append_str(&cur->reviews, &cur->nreviews, val);
		else if (strcmp(key, "end") == 0)
		{
			cur = NULL;
			free(val);
		}
		else
		{
			pg_log_error("unexpected record \"%s\" from the Alembic importer", esc(key));
			free(val);
			return false;
		}
	}
	return true;
}

/* A relative path without ".." components, so that files stay in OUT_DIR */
static bool
safe_relative(const char *s, bool allow_slash)
{
	const char *p = s;

	if (s == NULL || s[0] == '\0' || s[0] == '/')
		return false;
	if (!allow_slash && strchr(s, '/'))
		return false;
	while (*p)
	{
		const char *e = strchr(p, '/');
		size_t		n = e ? (size_t) (e - p) : strlen(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

/* Text on one line: line ends and other control characters become spaces */
static void
append_one_line(PQExpBuffer buf, const char *s)
{
	for (; *s; s++)
		appendPQExpBufferChar(buf, ((unsigned char) *s < 0x20 || *s == 0x7f) ? ' ' : *s);
}

static void
append_list(PQExpBuffer buf, const char *key, char **items, int n)
{
	if (n == 0)
		return;
	appendPQExpBuffer(buf, "-- migrate:%s ", key);
	for (int i = 0; i < n; i++)
		appendPQExpBuffer(buf, "%s%s", i ? ", " : "", items[i]);
	appendPQExpBufferChar(buf, '\n');
}

/* Count the lines of buf so far: the next line's number */
static int
next_line(PQExpBuffer buf)
{
	int			n = 1;

	for (size_t i = 0; i < buf->len; i++)
		if (buf->data[i] == '\n')
			n++;
	return n;
}

/*
 * The text of rev's file: a comment naming the Alembic file, the header,
 * review comments, then the bodies; a body that could not be rendered is
 * a needs_sql line, the reason and the Python error as comments.
 */
static char *
file_text(ImportRev *rev, bool online)
{
	PQExpBufferData buf;

	initPQExpBuffer(&buf);
	appendPQExpBufferStr(&buf, "-- Imported by pg_migrate import-alembic from ");
	append_one_line(&buf, rev->source ? rev->source : rev->file);
	appendPQExpBuffer(&buf, "%s.\n", online ? " (run online)" : "");
	appendPQExpBuffer(&buf, "-- migrate:revision %s\n", rev->revision);
	if (rev->nlists[0] == 0)
		appendPQExpBufferStr(&buf, "-- migrate:down_revision none\n");
	else
		append_list(&buf, "down_revision", rev->lists[0], rev->nlists[0]);
	append_list(&buf, "branch_labels", rev->lists[1], rev->nlists[1]);
	append_list(&buf, "depends_on", rev->lists[2], rev->nlists[2]);
	if (rev->message && rev->message[0])
	{
		appendPQExpBufferStr(&buf, "-- migrate:message ");
		append_one_line(&buf, rev->message);
		appendPQExpBufferChar(&buf, '\n');
	}
	if (!rev->transactional)
	{
		appendPQExpBufferStr(&buf, "-- Alembic runs statements of this revision in autocommit_block(): it\n"
							 "-- runs outside a transaction.\n");
		appendPQExpBufferStr(&buf, "-- migrate:transactional false\n");
	}
	for (int i = 0; i < rev->nreviews; i++)
	{
		appendPQExpBufferStr(&buf, "-- NEEDS REVIEW: its ");
		append_one_line(&buf, rev->reviews[i]);
		appendPQExpBufferStr(&buf, "\n-- when the import ran it in a scratch database.  The SQL below is\n"
							 "-- what that run sent (its reads left out), and may depend on the rows found.\n");
	}
	for (int b = 0; b < 2; b++)
	{
		appendPQExpBuffer(&buf, "-- migrate:%s\n", phase_names[b]);
		if (rev->body[b])
		{
			if (rev->body[b][0])
				appendPQExpBuffer(&buf, "%s\n", rev->body[b]);
			continue;
		}
		rev->marker_line[b] = next_line(&buf);
		appendPQExpBuffer(&buf, "-- migrate:needs_sql The %s of Alembic revision %s could not be rendered: ",
						  phase_names[b], rev->revision);
		append_one_line(&buf, rev->problem[b] ? rev->problem[b] : "no SQL was captured");
		appendPQExpBufferStr(&buf, ".\n");
		if (rev->error[b])
		{
			const char *s = rev->error[b];

			appendPQExpBufferStr(&buf, "-- The Python error:\n");
			while (*s)
			{
				const char *e = strchr(s, '\n');
				size_t		n = e ? (size_t) (e - s) : strlen(s);
				char	   *line = pnstrdup(s, n);

				appendPQExpBufferStr(&buf, "--   ");
				append_one_line(&buf, line);
				appendPQExpBufferChar(&buf, '\n');
				free(line);
				s += n;
				if (*s)
					s++;
			}
		}
	}
	return buf.data;
}

static bool
write_whole_file(const char *path, const char *text)
{
	FILE	   *f = fopen(path, "wx");

	if (f == NULL)
	{
		pg_log_error("could not create file \"%s\": %m", esc(path));
		return false;
	}
	if (fputs(text, f) == EOF || fclose(f) != 0)
	{
		pg_log_error("could not write file \"%s\": %m", esc(path));
		return false;
	}
	return true;
}

/* pg_mkdir_p on a copy (it writes into its argument); true on success */
static bool
make_dirs(const char *dir)
{
	char	   *copy = pg_strdup(dir);
	bool		ok = pg_mkdir_p(copy, 0777) == 0 || errno == EEXIST;

	free(copy);
	if (!ok)
		pg_log_error("could not create directory \"%s\": %m", esc(dir));
	return ok;
}

static void
free_result(ImportResult *res)
{
	for (int i = 0; i < res->n; i++)
	{
		ImportRev  *r = &res->revs[i];

		free(r->revision);
		free(r->dir);
		free(r->file);
		free(r->source);
		for (int l = 0; l < 3; l++)
		{
			for (int j = 0; j < r->nlists[l]; j++)
				free(r->lists[l][j]);
			free(r->lists[l]);
		}
		free(r->message);
		for (int b = 0; b < 2; b++)
		{
			free(r->body[b]);
			free(r->problem[b]);
			free(r->error[b]);
		}
		for (int j = 0; j < r->nreviews; j++)
			free(r->reviews[j]);
		free(r->reviews);
		free(r->path);
	}
	free(res->revs);
	for (int i = 0; i < res->nheads; i++)
		free(res->heads[i]);
	free(res->heads);
	memset(res, 0, sizeof(*res));
}

/* OUT_DIR must be new or empty: the import never overwrites files */
static bool
prepare_out_dir(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
	{
		if (errno != ENOENT)
		{
			pg_log_error("could not open directory \"%s\": %m", esc(dir));
			return false;
		}
		return make_dirs(dir);
	}
	while ((de = readdir(d)) != NULL)
	{
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		closedir(d);
		pg_log_error("output directory \"%s\" is not empty", esc(dir));
		pg_log_error_detail("The import writes every file anew and overwrites nothing.");
		pg_log_error_hint("Name a new directory, or empty this one.");
		return false;
	}
	closedir(d);
	return true;
}

/*
 * Write rev's file in out_dir, report what it needs (a person, a review:
 * the counters are bumped) and parse the file as check would.  False
 * after reporting a failure to write.
 */
static bool
write_revision(ImportRev *rev, const char *out_dir, bool online,
			   int *need_person, int *need_review)
{
	char	   *dir;
	char	   *text;
	MgDiags		diags = {0};
	MgRevFile  *rf;
	bool		marked = false;

	if (!safe_relative(rev->dir, true) || !safe_relative(rev->file, false))
	{
		pg_log_error("unexpected file name from the Alembic importer for revision \"%s\"",
					 esc(rev->revision));
		return false;
	}
	dir = psprintf("%s/%s", out_dir, rev->dir);
	if (!make_dirs(dir))
	{
		free(dir);
		return false;
	}
	rev->path = psprintf("%s/%s", dir, rev->file);
	free(dir);
	text = file_text(rev, online);
	if (!write_whole_file(rev->path, text))
	{
		free(text);
		return false;
	}

	for (int b = 0; b < 2; b++)
	{
		if (rev->body[b])
			continue;
		marked = true;
		pg_log_error("%s:%d: the %s of revision \"%s\" could not be rendered",
					 esc(rev->path), rev->marker_line[b], phase_names[b],
					 esc(rev->revision));
		pg_log_error_detail("%s (%s).", esc(rev->problem[b] ? rev->problem[b] : "no SQL was captured"),
							esc(rev->source ? rev->source : rev->file));
		if (verbosity > 0 && rev->error[b])
			pg_log_error_detail("%s", esc(rev->error[b]));
	}
	if (marked)
	{
		pg_log_error_hint("Write the SQL in place of the \"-- migrate:needs_sql\" line%s, or import with --online.",
						  rev->body[0] == NULL && rev->body[1] == NULL ? "s" : "");
		(*need_person)++;
	}
	for (int r = 0; r < rev->nreviews; r++)
	{
		pg_log_warning("%s: revision \"%s\" needs review: its %s",
					   esc(rev->path), esc(rev->revision), esc(rev->reviews[r]));
		pg_log_warning_detail("The scratch database held only what the revisions before it created: SQL that depends on the rows read may differ on a real database.");
	}
	if (rev->nreviews > 0)
		(*need_review)++;

	/* what was written must be what check and load read */
	rf = mg_revfile_parse(rev->path, NULL, text, strlen(text), &diags);
	if (rf == NULL && !marked)
	{
		pg_log_error("the file written for revision \"%s\" is not a valid revision file",
					 esc(rev->revision));
		report_diags(&diags);
		pg_log_error_hint("Edit the file; the SQL Alembic rendered may need rewriting.");
		(*need_person)++;
	}
	if (rf)
		mg_revfile_free(rf);
	mg_diags_free(&diags);
	free(text);
	return true;
}

static void
import_usage(void)
{
	printf("Usage:\n  %s import-alembic [OPTION]... OUT_DIR\n\n", progname);
	printf("Write one revision file per revision of an Alembic project.\n\n");
	printf("Options:\n");
	printf("  -c, --config=FILE          Alembic's configuration file (default: alembic.ini)\n");
	printf("      --script-location=DIR  the script directory (default: from the configuration)\n");
	printf("      --version-location=DIR a version location (repeat; default: from the configuration)\n");
	printf("      --python=PYTHON        the project's Python interpreter (default: python3)\n");
	printf("      --online               run the revisions with Alembic in a scratch database\n");
	printf("                             (the connection options name the server)\n");
	printf("\nExit status: 0 on success, 1 when a revision needs SQL written by a person\n"
		   "or on failure, 2 on bad usage.\n");
}

/*
 * pg_migrate import-alembic [-c INI] [--script-location DIR]
 *		[--version-location DIR]... [--python PY] [--online] OUT_DIR
 */
int
cmd_import_alembic(int argc, char **argv)
{
	enum
	{
		OPT_SCRIPT = 700, OPT_VERSION, OPT_PYTHON, OPT_ONLINE
	};
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		{"config", required_argument, NULL, 'c'},
		{"script-location", required_argument, NULL, OPT_SCRIPT},
		{"version-location", required_argument, NULL, OPT_VERSION},
		{"python", required_argument, NULL, OPT_PYTHON},
		{"online", no_argument, NULL, OPT_ONLINE},
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	const char *config = NULL;
	const char *script_location = NULL;
	char	  **versions = NULL;
	int			nversions = 0;
	const char *python = "python3";
	bool		online = false;
	const char *out_dir;
	char	   *importer;
	char	  **args = NULL;
	int			nargs = 0;
	char	   *output = NULL;
	size_t		outlen = 0;
	char	   *url = NULL;
	bool		ok;
	ImportResult res;
	int			c;
	int			need_person = 0;
	int			need_review = 0;
	int			ndirs = 0;
	char	  **dirs = NULL;
	bool		failed = false;

	while ((c = getopt_long(argc, argv, "c:" CONN_SHORT_OPTIONS, long_options, NULL)) != -1)
	{
		if (c == HELP_OPTION)
		{
			import_usage();
			exit(0);
		}
		if (conn_option(c))
			continue;
		switch (c)
		{
			case 'c':
				config = optarg;
				break;
			case OPT_SCRIPT:
				script_location = optarg;
				break;
			case OPT_VERSION:
				append_str(&versions, &nversions, optarg);
				break;
			case OPT_PYTHON:
				python = optarg;
				break;
			case OPT_ONLINE:
				online = true;
				break;
			default:
				bad_option();
		}
	}
	if (argc - optind != 1)
		usage_error("import-alembic needs one output directory");
	out_dir = argv[optind];
	if (config == NULL)
		config = "alembic.ini";
	if (script_location == NULL && access(config, F_OK) != 0)
	{
		pg_log_error("could not find Alembic's configuration file \"%s\": %m", esc(config));
		pg_log_error_hint("Name it with -c, or give --script-location.");
		return EXIT_FAILED;
	}

	memset(&res, 0, sizeof(res));
	if ((importer = find_importer(argv[0])) == NULL)
		return EXIT_FAILED;
	if (!prepare_out_dir(out_dir))
	{
		free(importer);
		return EXIT_FAILED;
	}

	args = pg_malloc(sizeof(char *) * (10 + 2 * nversions));
	args[nargs++] = (char *) python;
	args[nargs++] = importer;
	args[nargs++] = "--config";
	args[nargs++] = (char *) config;
	if (script_location)
	{
		args[nargs++] = "--script-location";
		args[nargs++] = (char *) script_location;
	}
	for (int i = 0; i < nversions; i++)
	{
		args[nargs++] = "--version-location";
		args[nargs++] = versions[i];
	}
	if (online)
	{
		char	   *db = scratch_create();

		if (db == NULL)
		{
			failed = true;
			goto done;
		}
		args[nargs++] = "--online";
		args[nargs++] = url = scratch_url(db);
		free(db);
	}
	args[nargs] = NULL;

	ok = run_importer(args, &output, &outlen);
	/* the scratch database has served once the program has ended */
	if (online)
		scratch_drop_all();
	if (!ok || !parse_records(output, outlen, &res))
	{
		failed = true;
		goto done;
	}

	for (int i = 0; i < res.n && !failed; i++)
	{
		if (!write_revision(&res.revs[i], out_dir, online, &need_person, &need_review))
			failed = true;
		else
		{
			bool		seen = false;

			for (int j = 0; j < ndirs; j++)
				seen = seen || strcmp(dirs[j], res.revs[i].dir) == 0;
			if (!seen)
				append_str(&dirs, &ndirs, res.revs[i].dir);
		}
	}
	if (failed)
		goto done;

	if (res.n == 0)
	{
		pg_log_error("the Alembic project has no revisions");
		failed = true;
	}
	else
	{
		printf("imported %d revision%s into %d director%s of \"%s\"\n",
			   res.n, res.n == 1 ? "" : "s", ndirs, ndirs == 1 ? "y" : "ies", esc(out_dir));
		printf("heads:");
		for (int i = 0; i < res.nheads; i++)
			printf(" %s", esc(res.heads[i]));
		printf("\n");

		/*
		 * Registration order breaks ties in the step order as Alembic's map
		 * order does: the directories in the order of Alembic's version
		 * locations (the files in each are numbered by it).
		 */
		printf("load in this order: %s load", progname);
		for (int i = 0; i < ndirs; i++)
			printf(" %s/%s", esc(out_dir), esc(dirs[i]));
		printf("\n");
	}
	if (need_review > 0)
		pg_log_warning("%d revision%s need%s review (see above)",
					   need_review, need_review == 1 ? "" : "s", need_review == 1 ? "s" : "");
	if (need_person > 0)
	{
		pg_log_error("%d revision%s need%s SQL written by a person",
					 need_person, need_person == 1 ? "" : "s", need_person == 1 ? "s" : "");
		pg_log_error_hint("\"%s check\" names each file and line to complete.", progname);
		failed = true;
	}

done:
	free_result(&res);
	free(output);
	free(url);
	free(args);
	free(importer);
	free(versions);
	free(dirs);					/* its strings belong to res */
	return failed ? EXIT_FAILED : 0;
}
