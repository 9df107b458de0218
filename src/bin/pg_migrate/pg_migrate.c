/*-------------------------------------------------------------------------
 *
 * pg_migrate.c
 *	  Command-line client of the migrations extension.
 *
 * "load" and "check" read directories of revision files; "new" writes one;
 * the other commands call the extension's SQL functions and print their
 * results.  The graph core (mg_core.c) and the file parser (mg_revfile.c)
 * are the same code the extension and the tests use.
 *
 * Exit status: 0 on success, 1 on a reported failure, 2 on bad usage.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "common/logging.h"
#include "common/string.h"
#include "fe_utils/cancel.h"
#include "fe_utils/print.h"
#include "getopt_long.h"
#include "libpq-fe.h"
#include "mb/pg_wchar.h"
#include "pqexpbuffer.h"

#include "mg_core.h"
#include "mg_revfile.h"

#define PG_MIGRATE_VERSION	"0.1"

#define EXIT_FAILED		1
#define EXIT_USAGE		2

/* Connection options, from the command line (NULL: libpq's defaults) */
typedef struct ConnOpts
{
	const char *dbname;
	const char *host;
	const char *port;
	const char *username;
	bool		no_password;
	bool		force_password;
} ConnOpts;

static const char *progname;
static ConnOpts conn_opts;
static int	verbosity = 0;
static bool follow_external_links = false;	/* --follow-external-links */
static PGconn *conn;

/*
 * Text from files, from the server or from the command line, made safe for
 * the terminal with mg_escape (the parser's escaping of names in messages):
 * a newline in a file name cannot forge a line, an escape sequence in a
 * message does not reach the terminal.  Everything pg_migrate prints goes
 * through esc().  The results stay valid for the next 16 calls.
 */
static bool
output_is_utf8(void)
{
	int			enc = conn ? PQclientEncoding(conn) : PG_UTF8;

	return enc == PG_UTF8 || enc == PG_SQL_ASCII;
}

static const char *
esc(const char *s)
{
	static char *ring[16];
	static int	next = 0;
	char	   *e;

	if (s == NULL)
		return NULL;
	e = mg_escape(s, strlen(s), output_is_utf8());
	free(ring[next]);
	ring[next] = e;
	next = (next + 1) % 16;
	return e;
}

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

#define FOLLOW_LINKS_OPTION 501
#define FOLLOW_LINKS_LONG_OPTION \
	{"follow-external-links", no_argument, NULL, FOLLOW_LINKS_OPTION}

/* Options every database command accepts */
#define CONN_LONG_OPTIONS \
	{"dbname", required_argument, NULL, 'd'}, \
	{"host", required_argument, NULL, 'h'}, \
	{"port", required_argument, NULL, 'p'}, \
	{"username", required_argument, NULL, 'U'}, \
	{"no-password", no_argument, NULL, 'w'}, \
	{"password", no_argument, NULL, 'W'}, \
	{"verbose", no_argument, NULL, 'v'}
#define CONN_SHORT_OPTIONS "d:h:p:U:wWv"

/* --help after the command */
#define HELP_OPTION	500
#define HELP_LONG_OPTION {"help", no_argument, NULL, HELP_OPTION}

static void
usage(void)
{
	printf("%s manages schema migrations with the migrations extension.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... COMMAND [ARG]...\n\n", progname);
	printf("Commands:\n");
	printf("  load [-r] [-n] [--no-create-extension] [--follow-external-links] DIR...\n"
		   "                       register the revision files of the directories\n");
	printf("  check [-r] [--single-head] DIR...\n"
		   "                       validate revision files without a database\n");
	printf("  new -m MESSAGE [-p PARENT]... [-d DEP]... [-b LABEL] [--empty] DIR\n"
		   "                       write a new revision file\n");
	printf("  upgrade [TARGET]     run upgrade steps up to TARGET (default: heads)\n");
	printf("  downgrade TARGET     run downgrade steps down to TARGET\n");
	printf("  stamp [--purge] TARGET...\n"
		   "                       set the version table without running steps\n");
	printf("  heads                show the heads of the revision graph\n");
	printf("  current              show the database's current revisions\n");
	printf("  history [RANGE]      show revisions, newest first\n");
	printf("\nOptions:\n");
	printf("  -v, --verbose        say more (twice: show the SQL)\n");
	printf("  -V, --version        output version information, then exit\n");
	printf("  -?, --help           show this help, then exit\n");
	printf("\nConnection options (libpq's PG* environment variables apply):\n");
	printf("  -d, --dbname=DBNAME  database name or connection string\n");
	printf("  -h, --host=HOSTNAME  database server host or socket directory\n");
	printf("  -p, --port=PORT      database server port\n");
	printf("  -U, --username=NAME  database user name\n");
	printf("  -w, --no-password    never prompt for password\n");
	printf("  -W, --password       force password prompt\n");
	printf("\nOptions of load and check:\n");
	printf("  -r, --recursive      read subdirectories too\n");
	printf("  -n, --dry-run        (load) report what would change, commit nothing\n");
	printf("  --no-create-extension\n"
		   "                       (load) fail if the extension is not installed\n");
	printf("  --single-head        (check) several heads are an error\n");
	printf("  --follow-external-links\n"
		   "                       (also new) read files that symbolic links lead to\n"
		   "                       outside the directories (default: an error)\n");
	printf("\nOptions of new:\n");
	printf("  -m, --message=TEXT   the revision's message (required)\n");
	printf("  -p, --parent=REV     a parent (repeat for a merge; default: DIR's head)\n");
	printf("  -d, --depends-on=REV a revision or branch label that must come first\n");
	printf("  -b, --branch-label=LABEL\n"
		   "                       a branch label for the new revision\n");
	printf("  --rev-id=ID          use ID instead of a random one\n");
	printf("  --empty              leave both bodies empty\n");
	printf("\nExit status: 0 on success, 1 on failure, 2 on bad usage.\n");
}

static void
usage_error(const char *fmt,...)
{
	va_list		ap;
	char		buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pg_log_error("%s", esc(buf));
	pg_log_error_hint("Try \"%s --help\" for more information.", progname);
	exit(EXIT_USAGE);
}

static void
more_verbose(void)
{
	verbosity++;
	pg_logging_increase_verbosity();
}

/* Handle an option every database command shares; false if not one */
static bool
conn_option(int c)
{
	switch (c)
	{
		case 'd':
			conn_opts.dbname = pg_strdup(optarg);
			return true;
		case 'h':
			conn_opts.host = pg_strdup(optarg);
			return true;
		case 'p':
			conn_opts.port = pg_strdup(optarg);
			return true;
		case 'U':
			conn_opts.username = pg_strdup(optarg);
			return true;
		case 'w':
			conn_opts.no_password = true;
			return true;
		case 'W':
			conn_opts.force_password = true;
			return true;
		case 'v':
			more_verbose();
			return true;
		case HELP_OPTION:
			usage();
			exit(0);
	}
	return false;
}

/*
 * Diagnostics of the file parser, as "file:line: message" errors
 */
static void
report_diags(const MgDiags *diags)
{
	for (int i = 0; i < diags->n; i++)
	{
		const MgDiag *d = &diags->items[i];

		if (d->line > 0)
			pg_log_error("%s:%d: %s", esc(d->path), d->line, esc(d->message));
		else
			pg_log_error("%s: %s", esc(d->path), esc(d->message));
		if (d->detail)
			pg_log_error_detail("%s", esc(d->detail));
		if (d->hint)
			pg_log_error_hint("%s", esc(d->hint));
	}
}

/* Errors of the graph core */
static void
report_mg_error(const MgError *err)
{
	pg_log_error("%s", esc(err->message));
	if (err->detail)
		pg_log_error_detail("%s", esc(err->detail));
	if (err->hint)
		pg_log_error_hint("%s", esc(err->hint));
}

/*
 * Read the revision files of the directories.  Returns false after
 * reporting every problem; with need_files, finding no file is one.
 */
static bool
read_dirs(MgRevSet *set, char **dirs, int ndirs, bool recursive, bool need_files)
{
	MgDiags		diags = {0};
	bool		ok = true;

	set->follow_external_links = follow_external_links;
	for (int i = 0; i < ndirs; i++)
	{
		int			before = set->n;

		if (!mg_revset_add_dir(set, dirs[i], recursive, &diags))
			ok = false;
		pg_log_info("%s: %d revision files", esc(dirs[i]), set->n - before);
	}
	if (ok && !mg_revset_check_duplicates(set, &diags))
		ok = false;
	report_diags(&diags);
	mg_diags_free(&diags);
	if (ok && need_files && set->n == 0)
	{
		pg_log_error("no revision files found");
		pg_log_error_hint("Revision files are the .sql files of the directories given.");
		return false;
	}
	return ok;
}

/*
 * Build the graph of the parsed files with the core.  Returns NULL after
 * reporting the problems.
 */
static MgGraph *
build_graph(const MgRevSet *set)
{
	MgGraph    *g = mg_graph_new();
	MgError		err;

	for (int i = 0; i < set->n; i++)
	{
		const MgRevFile *rf = set->files[i];
		MgRevInput	in;

		in.id = rf->revision;
		in.down = (const char *const *) rf->down;
		in.ndown = rf->ndown;
		in.deps = (const char *const *) rf->deps;
		in.ndeps = rf->ndeps;
		in.labels = (const char *const *) rf->labels;
		in.nlabels = rf->nlabels;
		in.message = rf->message;
		in.tag = i;
		mg_graph_add(g, &in);
	}
	if (!mg_graph_finish(g, &err))
	{
		report_mg_error(&err);
		mg_graph_free(g);
		return NULL;
	}
	return g;
}

/* "id (label, label) (head)", as alembic heads prints a head */
static void
print_head(MgGraph *g, const MgRevSet *set, int rev)
{
	const char **labels;
	int			nlabels = mg_rev_labels(g, rev, &labels);
	const MgRevFile *rf = set->files[mg_rev_tag(g, rev)];

	printf("%s", esc(mg_rev_id(g, rev)));
	if (nlabels > 0)
	{
		printf(" (");
		for (int i = 0; i < nlabels; i++)
			printf("%s%s", i ? ", " : "", esc(labels[i]));
		printf(")");
	}
	printf(mg_rev_is_real_head(g, rev) ? " (head)" : " (effective head)");
	if (verbosity > 0)
		printf(" %s", esc(rf->path));
	printf("\n");
}

/*
 * pg_migrate check DIR...
 */
static int
cmd_check(int argc, char **argv)
{
	static struct option long_options[] = {
		{"recursive", no_argument, NULL, 'r'},
		{"single-head", no_argument, NULL, 1},
		{"verbose", no_argument, NULL, 'v'},
		FOLLOW_LINKS_LONG_OPTION,
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	bool		recursive = false;
	bool		single_head = false;
	int			c;
	MgRevSet	set = {0};
	MgGraph    *g;
	MgList		heads;

	while ((c = getopt_long(argc, argv, "rv", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'r':
				recursive = true;
				break;
			case 1:
				single_head = true;
				break;
			case FOLLOW_LINKS_OPTION:
				follow_external_links = true;
				break;
			case 'v':
				more_verbose();
				break;
			case HELP_OPTION:
				usage();
				exit(0);
			default:
				usage_error("invalid option for check");
		}
	}
	if (optind >= argc)
		usage_error("check needs at least one directory");

	set.headers_only = true;	/* check needs no bodies in memory */
	if (!read_dirs(&set, argv + optind, argc - optind, recursive, true))
		return EXIT_FAILED;
	g = build_graph(&set);
	if (g == NULL)
		return EXIT_FAILED;

	heads = mg_heads(g);
	for (int i = 0; i < heads.n; i++)
		print_head(g, &set, heads.items[i]);
	pg_log_info("%d revisions, %d heads", set.n, heads.n);

	if (mg_real_heads(g).n > 1)
	{
		MgList		real = mg_real_heads(g);
		PQExpBufferData list;

		initPQExpBuffer(&list);
		for (int i = 0; i < real.n; i++)
			appendPQExpBuffer(&list, "%s%s", i ? ", " : "", mg_rev_id(g, real.items[i]));
		if (single_head)
		{
			pg_log_error("the revision graph has %d heads: %s", real.n, esc(list.data));
			pg_log_error_hint("Merge them with \"pg_migrate new -m MESSAGE -p HEAD -p HEAD ... DIR\".");
			return EXIT_FAILED;
		}
		pg_log_warning("the revision graph has %d heads: %s", real.n, esc(list.data));
		termPQExpBuffer(&list);
	}
	mg_graph_free(g);
	mg_revset_free(&set);
	return 0;
}

/*
 * pg_migrate new
 */
static bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Alembic's slug: the message's words, lower case, joined by "_" */
static char *
make_slug(const char *message)
{
	size_t		n = strlen(message);
	char	   *slug = pg_malloc(n + 1);
	size_t		len = 0;
	size_t		lastcut = 0;
	bool		gap = false;

	for (size_t i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) message[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
			(ch >= 'A' && ch <= 'Z') || ch == '_')
		{
			if (gap && len > 0)
			{
				if (len + 1 > 40)
					break;
				lastcut = len;
				slug[len++] = '_';
			}
			gap = false;
			if (len + 1 > 40)
			{
				/* cut at the last word boundary, as Alembic does */
				len = lastcut > 0 ? lastcut : len;
				break;
			}
			slug[len++] = (char) (ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
		}
		else
			gap = true;
	}
	slug[len] = '\0';
	return slug;
}

static char *
random_rev_id(void)
{
	uint8		bytes[6];
	char	   *id = pg_malloc(13);
	int			fd = open("/dev/urandom", O_RDONLY);

	if (fd < 0 || read(fd, bytes, sizeof(bytes)) != (ssize_t) sizeof(bytes))
		pg_fatal("could not generate a random revision id: %m");
	close(fd);
	for (int i = 0; i < 6; i++)
		snprintf(id + 2 * i, 3, "%02x", bytes[i]);
	return id;
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

static void
check_unique(const char *what, char **items, int n)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(items[i], items[j]) == 0)
				usage_error("%s \"%s\" is given twice", what, items[i]);
}

static int
cmd_new(int argc, char **argv)
{
	static struct option long_options[] = {
		{"message", required_argument, NULL, 'm'},
		{"parent", required_argument, NULL, 'p'},
		{"depends-on", required_argument, NULL, 'd'},
		{"branch-label", required_argument, NULL, 'b'},
		{"rev-id", required_argument, NULL, 1},
		{"empty", no_argument, NULL, 2},
		{"recursive", no_argument, NULL, 'r'},
		{"verbose", no_argument, NULL, 'v'},
		FOLLOW_LINKS_LONG_OPTION,
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	const char *message = NULL;
	char	  **parents = pg_malloc(sizeof(char *) * argc);
	int			nparents = 0;
	char	  **deps = pg_malloc(sizeof(char *) * argc);
	int			ndeps = 0;
	char	  **labels = pg_malloc(sizeof(char *) * argc);
	int			nlabels = 0;
	char	   *rev_id = NULL;
	bool		empty = false;
	bool		recursive = false;
	bool		explicit_base = false;
	const char *dir;
	int			c;
	MgRevSet	set = {0};
	char	   *slug;
	char	   *path;
	PQExpBufferData text;
	int			fd;

	while ((c = getopt_long(argc, argv, "m:p:d:b:rv", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'm':
				message = optarg;
				break;
			case 'p':
				parents[nparents++] = pg_strdup(optarg);
				break;
			case 'd':
				deps[ndeps++] = pg_strdup(optarg);
				break;
			case 'b':
				labels[nlabels++] = pg_strdup(optarg);
				break;
			case 1:
				rev_id = pg_strdup(optarg);
				break;
			case 2:
				empty = true;
				break;
			case FOLLOW_LINKS_OPTION:
				follow_external_links = true;
				break;
			case 'r':
				recursive = true;
				break;
			case 'v':
				more_verbose();
				break;
			case HELP_OPTION:
				usage();
				exit(0);
			default:
				usage_error("invalid option for new");
		}
	}
	if (optind != argc - 1)
		usage_error(optind >= argc ? "new needs a directory" : "new takes one directory");
	dir = argv[optind];
	if (message == NULL)
		usage_error("new needs a message (-m)");
	if (message[0] == '\0' || strchr(message, '\n') || strchr(message, '\r'))
		usage_error("the message must be one non-empty line");
	if (pg_encoding_verifymbstr(PG_UTF8, message, (int) strlen(message)) != (int) strlen(message))
		usage_error("the message must be UTF-8");

	/* names given on the command line */
	check_unique("parent", parents, nparents);
	check_unique("dependency", deps, ndeps);
	check_unique("branch label", labels, nlabels);
	for (int i = 0; i < nparents; i++)
	{
		if (strcmp(parents[i], "base") == 0 || strcasecmp(parents[i], "none") == 0)
		{
			if (nparents > 1)
				usage_error("-p %s cannot be combined with other parents", parents[i]);
			nparents = 0;
			explicit_base = true;
			break;
		}
		if (!mg_valid_id(parents[i]))
			usage_error("invalid parent revision id \"%s\"", parents[i]);
	}
	for (int i = 0; i < ndeps; i++)
		if (!mg_valid_label(deps[i]))
			usage_error("invalid dependency \"%s\"", deps[i]);
	for (int i = 0; i < nlabels; i++)
		if (!mg_valid_label(labels[i]))
			usage_error("invalid branch label \"%s\"", labels[i]);
	if (rev_id && (!mg_valid_id(rev_id) || strcasecmp(rev_id, "none") == 0))
		usage_error("invalid revision id \"%s\"", rev_id);

	/* the directory: created when missing, otherwise read */
	if (!file_exists(dir))
	{
		if (mkdir(dir, 0777) != 0)
			pg_fatal("could not create directory \"%s\": %m", esc(dir));
		pg_log_info("created directory \"%s\"", esc(dir));
	}
	else
	{
		char	   *dirs[1] = {(char *) dir};

		if (!read_dirs(&set, dirs, 1, recursive, false))
			return EXIT_FAILED;
	}

	/* default parent: the directory's single head */
	if (nparents == 0 && !explicit_base)
	{
		bool	   *is_parent = pg_malloc0(sizeof(bool) * (set.n ? set.n : 1));
		int			nheads = 0;
		int			head = -1;
		PQExpBufferData list;

		for (int i = 0; i < set.n; i++)
			for (int j = 0; j < set.files[i]->ndown; j++)
			{
				int			k = mg_revset_find(&set, set.files[i]->down[j]);

				if (k >= 0)
					is_parent[k] = true;
			}
		initPQExpBuffer(&list);
		for (int i = 0; i < set.n; i++)
			if (!is_parent[i])
			{
				appendPQExpBuffer(&list, "%s%s", nheads ? ", " : "", set.files[i]->revision);
				nheads++;
				head = i;
			}
		if (nheads > 1)
		{
			pg_log_error("directory \"%s\" has %d heads: %s", esc(dir), nheads, esc(list.data));
			pg_log_error_hint("Choose the parent with -p, or give -p for each head to write a merge revision.");
			return EXIT_FAILED;
		}
		if (nheads == 1)
			parents[nparents++] = pg_strdup(set.files[head]->revision);
		termPQExpBuffer(&list);
		free(is_parent);
	}
	for (int i = 0; i < nlabels; i++)
		for (int j = 0; j < set.n; j++)
			for (int k = 0; k < set.files[j]->nlabels; k++)
				if (strcmp(set.files[j]->labels[k], labels[i]) == 0)
				{
					pg_log_error("branch label \"%s\" is already used by revision \"%s\"",
								 esc(labels[i]), esc(set.files[j]->revision));
					pg_log_error_detail("See %s.", esc(set.files[j]->path));
					return EXIT_FAILED;
				}
	for (int i = 0; i < nparents; i++)
		if (mg_revset_find(&set, parents[i]) < 0)
			pg_log_info("parent \"%s\" is not in directory \"%s\"", esc(parents[i]), esc(dir));

	if (rev_id == NULL)
	{
		do
			rev_id = random_rev_id();
		while (mg_revset_find(&set, rev_id) >= 0);
	}
	else if (mg_revset_find(&set, rev_id) >= 0)
	{
		pg_log_error("revision \"%s\" already exists", esc(rev_id));
		pg_log_error_detail("See %s.", esc(set.files[mg_revset_find(&set, rev_id)]->path));
		return EXIT_FAILED;
	}

	initPQExpBuffer(&text);
	appendPQExpBuffer(&text, "-- migrate:revision %s\n", rev_id);
	if (nparents == 0)
		appendPQExpBufferStr(&text, "-- migrate:down_revision none\n");
	else
		append_list(&text, "down_revision", parents, nparents);
	append_list(&text, "branch_labels", labels, nlabels);
	append_list(&text, "depends_on", deps, ndeps);
	appendPQExpBuffer(&text, "-- migrate:message %s\n", message);
	if (empty)
		appendPQExpBufferStr(&text, "-- migrate:upgrade\n-- migrate:downgrade\n");
	else
		appendPQExpBufferStr(&text,
							 "-- migrate:upgrade\n"
							 "-- The SQL that applies this revision.\n"
							 "\n"
							 "-- migrate:downgrade\n"
							 "-- The SQL that reverts it (remove the section if it cannot be reverted).\n");

	slug = make_slug(message);
	path = psprintf("%s%s%s%s%s.sql", dir,
					dir[strlen(dir) - 1] == '/' ? "" : "/",
					rev_id, slug[0] ? "_" : "", slug);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
	if (fd < 0)
		pg_fatal("could not create file \"%s\": %m", esc(path));
	if (write(fd, text.data, text.len) != (ssize_t) text.len || close(fd) != 0)
		pg_fatal("could not write file \"%s\": %m", esc(path));
	printf("%s\n", esc(path));
	mg_revset_free(&set);
	return 0;
}

/*
 * Database commands
 */
static char *ext_schema;		/* quoted schema of the extension */

/* Report a failed query's error with its server fields */
static void
report_result_error(const PGresult *res)
{
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);

	if (primary == NULL)
	{
		/* a client-side failure, such as a lost connection */
		pg_log_error("%s", esc_conn_error());
		return;
	}
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
static PGresult *
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
		PQclear(res);
		return NULL;
	}
	return res;
}

static bool
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
static bool
begin_transaction(void)
{
	return run_command("BEGIN ISOLATION LEVEL READ COMMITTED");
}

/*
 * Disconnect after a failure.  A transaction still open is rolled back
 * first: the server would roll it back when the connection closes, but a
 * pooler would rather get its server connection back idle than drop it.
 */
static void
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
static void
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

static void
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
 * Print a result as psql's aligned table, every header and cell escaped
 * (esc) first: the table shows what the server sent, not what a control
 * character in a message or id would make of the terminal.
 */
static void
print_result(const PGresult *res)
{
	printTableOpt topt;
	printTableContent cont;
	int			ncols = PQnfields(res);
	int			nrows = PQntuples(res);
	bool		utf8 = output_is_utf8();
	char	  **cells = pg_malloc(sizeof(char *) * ((size_t) ncols * nrows + ncols + 1));
	int			ncells = 0;

	memset(&topt, 0, sizeof(topt));
	topt.format = PRINT_ALIGNED;
	topt.border = 1;
	topt.start_table = true;
	topt.stop_table = true;
	topt.default_footer = true;
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
			cells[ncells] = mg_escape(PQgetvalue(res, r, c),
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

/* Parse the options of a database command; returns the first argument */
static int
parse_db_options(int argc, char **argv, const char *cmd, bool *purge)
{
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		{"purge", no_argument, NULL, 1},
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	int			c;

	while ((c = getopt_long(argc, argv, CONN_SHORT_OPTIONS, long_options, NULL)) != -1)
	{
		if (conn_option(c))
			continue;
		if (c == 1 && purge != NULL)
		{
			*purge = true;
			continue;
		}
		usage_error("invalid option for %s", cmd);
	}
	return optind;
}

/*
 * upgrade, downgrade, stamp, heads, current, history: one query each.
 */
/* An operand of a command: relative targets come marked (see main) */
#define TARGET_MARK '\x01'

static const char *
operand(const char *arg)
{
	return arg[0] == TARGET_MARK ? arg + 1 : arg;
}

static int
cmd_query(const char *cmd, int argc, char **argv)
{
	bool		purge = false;
	bool		is_stamp = strcmp(cmd, "stamp") == 0;
	int			first = parse_db_options(argc, argv, cmd, is_stamp ? &purge : NULL);
	int			nargs = argc - first;
	const char *params[2];
	int			nparams = 0;
	char	   *sql;
	PGresult   *res;

	if (strcmp(cmd, "upgrade") == 0)
	{
		if (nargs > 1)
			usage_error("upgrade takes at most one target");
		params[nparams++] = nargs ? operand(argv[first]) : "heads";
	}
	else if (strcmp(cmd, "downgrade") == 0)
	{
		if (nargs != 1)
			usage_error("downgrade needs one target");
		params[nparams++] = operand(argv[first]);
	}
	else if (is_stamp)
	{
		PQExpBufferData targets;

		if (nargs < 1)
			usage_error("stamp needs a target");
		initPQExpBuffer(&targets);
		for (int i = first; i < argc; i++)
			appendPQExpBuffer(&targets, "%s%s", i > first ? " " : "", operand(argv[i]));
		params[nparams++] = targets.data;
		params[nparams++] = purge ? "true" : "false";
	}
	else if (strcmp(cmd, "history") == 0)
	{
		if (nargs > 1)
			usage_error("history takes at most one range");
		params[nparams++] = nargs ? operand(argv[first]) : NULL;
	}
	else if (nargs > 0)
		usage_error("%s takes no arguments", cmd);

	connect_db(false);
	require_extension();

	if (strcmp(cmd, "upgrade") == 0 || strcmp(cmd, "downgrade") == 0)
		sql = psprintf("SELECT revision, direction, message, duration"
					   " FROM %s.migrate_%s($1)", ext_schema, cmd);
	else if (is_stamp)
		sql = psprintf("SELECT revision FROM %s.migrate_stamp($1, $2::pg_catalog.bool)",
					   ext_schema);
	else if (strcmp(cmd, "heads") == 0)
		sql = psprintf("SELECT revision,"
					   " pg_catalog.array_to_string(branch_labels, ', ') AS branch_labels,"
					   " CASE WHEN is_effective_head THEN 'effective head' ELSE 'head' END AS kind,"
					   " message"
					   " FROM %s.migrate_heads()", ext_schema);
	else if (strcmp(cmd, "current") == 0)
		sql = psprintf("SELECT revision,"
					   " pg_catalog.array_to_string(branch_labels, ', ') AS branch_labels,"
					   " CASE WHEN is_effective_head THEN 'effective head'"
					   " WHEN is_head THEN 'head' ELSE '' END AS kind,"
					   " message"
					   " FROM %s.migrate_current()", ext_schema);
	else
		sql = psprintf("SELECT revision,"
					   " pg_catalog.array_to_string(down_revisions, ', ') AS down_revisions,"
					   " pg_catalog.array_to_string(branch_labels, ', ') AS branch_labels,"
					   " pg_catalog.array_to_string(depends_on, ', ') AS depends_on,"
					   " pg_catalog.concat_ws(', ',"
					   "  CASE WHEN is_head THEN 'head' WHEN is_effective_head THEN 'effective head' END,"
					   "  CASE WHEN is_branch_point THEN 'branchpoint' END,"
					   "  CASE WHEN is_merge_point THEN 'mergepoint' END) AS kind,"
					   " CASE WHEN is_applied THEN 'yes' ELSE '' END AS applied,"
					   " message"
					   " FROM %s.migrate_history($1)", ext_schema);

	if (!begin_transaction())
	{
		close_db();
		return EXIT_FAILED;
	}
	res = run_query(sql, nparams, params);
	if (res == NULL || !run_command("COMMIT"))
	{
		PQclear(res);
		close_db();
		return EXIT_FAILED;
	}
	print_result(res);
	PQclear(res);
	PQfinish(conn);
	return 0;
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
	copy_field(buf, rf->source, true);
}

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
	return size;
}

/*
 * Refuse the files whose COPY rows would be too long for the server,
 * naming each, before connecting.
 */
static bool
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
		pg_log_error_detail("Sent to the server, its bodies, message and names take %zu bytes; the limit is %zu bytes.",
							size, MAX_COPY_ROW);
		pg_log_error_hint("Backslashes, tabs and line ends count twice. Split the work into several revisions.");
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

/*
 * Refuse files that change an applied revision, naming every one of them
 * with its file, before anything is registered.  The server refuses the
 * same changes (migrate_register); checking here reports them all at once.
 */
/* IS NOT DISTINCT FROM, without an operator looked up on search_path */
#define SAME_DOWNGRADE \
	"((r.downgrade IS NULL AND s.downgrade IS NULL) OR" \
	" COALESCE(r.downgrade OPERATOR(pg_catalog.=) s.downgrade, false))"

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
	res = run_query(sql, 0, NULL);
	if (res == NULL)
		return false;
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

static int
cmd_load(int argc, char **argv)
{
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		{"recursive", no_argument, NULL, 'r'},
		{"dry-run", no_argument, NULL, 'n'},
		{"no-create-extension", no_argument, NULL, 1},
		FOLLOW_LINKS_LONG_OPTION,
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	bool		recursive = false;
	bool		dry_run = false;
	bool		create_ext = true;
	int			c;
	MgRevSet	set = {0};
	PGresult   *res;
	char	   *sql;
	int			counts[3] = {0, 0, 0};
	static const char *const kinds[3] = {"added", "updated", "unchanged"};
	char		lockkey[32];
	const char *params[1];

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
			case FOLLOW_LINKS_OPTION:
				follow_external_links = true;
				break;
			default:
				usage_error("invalid option for load");
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
		pg_log_error_detail("The server is in recovery: migration state can only change on the primary. Connect to the primary server and run load there.");
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
					 " source pg_catalog.text) ON COMMIT DROP"))
		goto fail;
	if (!copy_revisions(&set))
		goto fail;
	if (!check_applied_changes())
		goto fail;

	/* register in file order: the order breaks ties in Alembic's step order */
	sql = psprintf("SELECT s.path, s.revision,"
				   " %s.migrate_register(s.revision, s.down_revisions, s.upgrade,"
				   "  s.downgrade, s.message, s.branch_labels, s.depends_on,"
				   "  s.transactional, s.source)"
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

	sql = psprintf("SELECT %s.migrate_check()", ext_schema);
	if (!run_command(sql))
		goto fail;
	if (!run_command(dry_run ? "ROLLBACK" : "COMMIT"))
		goto fail;

	printf("added %d, updated %d, unchanged %d%s\n", counts[0], counts[1], counts[2],
		   dry_run ? " (dry run, nothing was committed)" : "");
	PQfinish(conn);
	mg_revset_free(&set);
	return 0;

fail:
	pg_log_error_hint("Nothing was loaded.");
	close_db();
	return EXIT_FAILED;
}

int
main(int argc, char **argv)
{
	static struct option long_options[] = {
		CONN_LONG_OPTIONS,
		{"help", no_argument, NULL, 1},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	int			c;
	const char *cmd;
	bool		takes_target;
	int			cmdargc;
	char	  **cmdargv;

	pg_logging_init(argv[0]);
	pg_logging_set_level(PG_LOG_WARNING);
	progname = get_progname(argv[0]);

	if (argc > 1)
	{
		if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0 ||
			strcmp(argv[1], "help") == 0)
		{
			usage();
			exit(0);
		}
		if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		{
			printf("pg_migrate (migrations) " PG_MIGRATE_VERSION "\n");
			exit(0);
		}
	}

	/* options before the command: connection options and -v */
	while ((c = getopt_long(argc, argv, "+" CONN_SHORT_OPTIONS "V", long_options, NULL)) != -1)
	{
		if (conn_option(c))
			continue;
		if (c == 'V')
		{
			printf("pg_migrate (migrations) " PG_MIGRATE_VERSION "\n");
			exit(0);
		}
		if (c == 1)
		{
			usage();
			exit(0);
		}
		usage_error("invalid option");
	}
	if (optind >= argc)
		usage_error("no command given");

	cmd = argv[optind];
	takes_target = strcmp(cmd, "upgrade") == 0 || strcmp(cmd, "downgrade") == 0 ||
		strcmp(cmd, "stamp") == 0 || strcmp(cmd, "history") == 0;

	/*
	 * The command's arguments, behind the program's name (getopt names it in
	 * its messages).  Options may follow operands.  A relative target such
	 * as -1 is an operand: it is marked so that getopt passes it by.
	 */
	cmdargc = argc - optind;
	cmdargv = pg_malloc(sizeof(char *) * (cmdargc + 1));
	cmdargv[0] = argv[0];
	for (int i = 1; i < cmdargc; i++)
	{
		char	   *arg = argv[optind + i];

		if (takes_target && arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9')
			arg = psprintf("%c%s", TARGET_MARK, arg);
		cmdargv[i] = arg;
	}
	cmdargv[cmdargc] = NULL;
#ifdef __GLIBC__
	optind = 0;					/* start afresh, without the "+" of the scan above */
#else
	optind = 1;
#endif

	if (strcmp(cmd, "load") == 0)
		return cmd_load(cmdargc, cmdargv);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(cmdargc, cmdargv);
	if (strcmp(cmd, "new") == 0)
		return cmd_new(cmdargc, cmdargv);
	if (takes_target || strcmp(cmd, "heads") == 0 || strcmp(cmd, "current") == 0)
		return cmd_query(cmd, cmdargc, cmdargv);
	usage_error("unknown command \"%s\"", cmd);
	return EXIT_USAGE;
}
