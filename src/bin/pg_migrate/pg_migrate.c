/*-------------------------------------------------------------------------
 *
 * pg_migrate.c
 *	  Command-line client of the migrations extension: main, the global
 *	  options and the command table.
 *
 * "check" and "new" work on revision files (mg_filecmds.c); with
 * --schema, --from or --autogenerate they hand over to the schema commands
 * (mg_schemacmds.c), which build scratch databases.  "load" and the query
 * commands talk to a database (mg_dbcmds.c); "roundtrip" is in
 * mg_roundtrip_cmd.c.  A command may have two rows in the table below (its
 * file form and its database form): dispatch takes the first, --help lists
 * each under its heading.  The graph core
 * (src/mg_core.h; its files are CORE_SRCS of src/core.mk) and the file
 * parser and directory reader (mg_revfile.c, mg_revdir.c) are the same code
 * the extension and the tests use.
 * doc/design.md describes the commands.
 *
 * This file owns what every command shares: the command table (which
 * --help and the dispatch in main both read, so that a command is named in
 * one place), the options before the command, usage errors, escaping of
 * everything printed (esc) and the printing of diagnostics of the parser
 * and of the core.  It must not run a query or read a revision file.
 *
 * Exit status: 0 on success, 1 on a reported failure, 2 on bad usage.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"
#include "mb/pg_wchar.h"

#include "pg_migrate.h"

const char *progname;
ConnOpts	conn_opts;
int			verbosity = 0;
bool		follow_external_links = false;

/*
 * The commands.  needs_database says whether the command connects (its
 * options then include the connection options, and --help lists it among
 * the database commands; check and new have a second line there, for the
 * forms that build scratch databases, which take the connection options
 * before the command only: dispatch finds the first); takes_target whether its
 * operands are targets, among which a relative one such as "-1" must not
 * be taken for an option.  synopsis and summary make the line of --help.
 */
typedef struct Command
{
	const char *name;
	int			(*run) (int argc, char **argv);
	bool		needs_database;
	bool		takes_target;
	const char *synopsis;
	const char *summary;
} Command;

static const Command commands[] = {
	{"check", cmd_check, false, false,
		"check [-r] [--single-head] DIR...",
	"validate revision files without a database"},
	{"check", cmd_check, true, false,
		"check {--schema FILE.sql | --from CONNINFO} [FILTER]... DIR...",
	"compare the revisions' schema with the desired one"},
	{"check", cmd_check, false, false,
		"check --alembic [--single-head] DIR...",
	"validate Alembic version directories without Python; print their heads"},
	{"new", cmd_new, false, false,
		"new -m MESSAGE [-p PARENT]... [-d DEP]... [-b LABEL] [--empty] DIR",
	"write a new revision file"},
	{"new", cmd_new, true, false,
		"new --autogenerate -m MESSAGE {--schema FILE.sql | --from CONNINFO} [FILTER]... DIR [DIR...]",
	"write a revision from the differences"},
	{"load", cmd_load, true, false,
		"load [-r] [-n] [--prune] [--no-create-extension] [--follow-external-links] DIR...",
	"register the revision files of the directories"},
	{"upgrade", cmd_upgrade, true, true,
		"upgrade [--stepwise] [TARGET]",
	"run upgrade steps up to TARGET (default: heads)"},
	{"downgrade", cmd_downgrade, true, true,
		"downgrade [--stepwise] TARGET",
	"run downgrade steps down to TARGET"},
	{"stamp", cmd_stamp, true, true,
		"stamp [--purge] TARGET...",
	"set the version table without running steps"},
	{"heads", cmd_heads, true, false,
		"heads",
	"show the heads of the revision graph"},
	{"current", cmd_current, true, false,
		"current",
	"show the database's current revisions"},
	{"history", cmd_history, true, true,
		"history [--oneline] [RANGE]",
	"show revisions, newest first"},
	{"import-alembic", cmd_import_alembic, false, false,
		"import-alembic [-c INI] [--script-location DIR] [--version-location DIR]... [--python PY] [--online] OUT_DIR",
	"write revision files from an Alembic project"},
	{"show", cmd_show, true, true,
		"show TARGET",
	"show the stored revisions TARGET names, bodies included"},
	{"branches", cmd_branches, true, false,
		"branches",
	"show the branch points and their children"},
	{"roundtrip", cmd_roundtrip, true, true,
		"roundtrip [TARGET]",
	"upgrade to TARGET and downgrade back, rolled back; exit 1 on a difference"},
	{"lint", cmd_lint, true, false,
		"lint [-r] [--naming-convention KIND=TEMPLATE]... [--no-naming-convention] [--sizes-from CONNINFO] DIR...",
	"report naming-convention breaches, truncated and unnamed names, risky statements"},
	{"adopt-alembic", cmd_adopt_alembic, true, false,
		"adopt-alembic [--version-table NAME] [--version-table-schema SCHEMA] [--keep-alembic-version]",
	"stamp migrate_version to the state alembic_version records"},
};

/* The command named name, or NULL */
static const Command *
find_command(const char *name)
{
	for (size_t i = 0; i < lengthof(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * Text from files, from the server or from the command line, made safe for
 * the terminal with mg_escape (the parser's escaping of names in messages):
 * a newline in a file name cannot forge a line, an escape sequence in a
 * message does not reach the terminal.  Everything pg_migrate prints goes
 * through esc().  The results stay valid for the next 16 calls.
 */
bool
output_is_utf8(void)
{
	int			enc = conn ? PQclientEncoding(conn) : PG_UTF8;

	return enc == PG_UTF8 || enc == PG_SQL_ASCII;
}

/* s escaped for the terminal; NULL stays NULL */
const char *
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

/* One line of the command list: the synopsis, then the summary */
static void
usage_command(const Command *cmd)
{
	if (strlen(cmd->synopsis) <= 20)
		printf("  %-20s %s\n", cmd->synopsis, cmd->summary);
	else
		printf("  %s\n%23s%s\n", cmd->synopsis, "", cmd->summary);
}

/* --help: the command list comes from the command table */
void
usage(void)
{
	printf("%s manages schema migrations with the migrations extension.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... COMMAND [ARG]...\n\n", progname);
	printf("Commands on revision files:\n");
	for (size_t i = 0; i < lengthof(commands); i++)
		if (!commands[i].needs_database)
			usage_command(&commands[i]);
	printf("\nCommands on a database:\n");
	for (size_t i = 0; i < lengthof(commands); i++)
		if (commands[i].needs_database)
			usage_command(&commands[i]);
	printf("\nGeneral options:\n");
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
	printf("\nOutput options (upgrade, downgrade, stamp, heads, current, history, show,\n"
		   "branches, roundtrip):\n");
	printf("  --format=FORMAT      aligned (default), unaligned or json\n");
	printf("  -A, --no-align       unaligned output, fields separated by |\n");
	printf("  -t, --tuples-only    rows only, no header or footer\n");
	printf("  --oneline            (history) one line per revision, as alembic history\n");
	printf("\nOptions of load and check:\n");
	printf("  -r, --recursive      read subdirectories too\n");
	printf("  -n, --dry-run        (load) report what would change, commit nothing\n");
	printf("  --no-create-extension\n"
		   "                       (load) fail if the extension is not installed\n");
	printf("  --prune              (load) unregister revisions that no file has\n"
		   "                       (refused for applied ones)\n");
	printf("  --single-head        (check) several heads are an error\n");
	printf("  --follow-external-links\n"
		   "                       (also new) read files that symbolic links lead to\n"
		   "                       outside the directories (default: an error)\n");
	printf("\nOptions of adopt-alembic (README, \"Adopting an Alembic database\"):\n");
	printf("  --version-table=NAME Alembic's version table (default: alembic_version)\n");
	printf("  --version-table-schema=SCHEMA\n"
		   "                       its schema (default: the one search_path finds it in)\n");
	printf("  --keep-alembic-version\n"
		   "                       from now on, upgrades, downgrades and stamps also\n"
		   "                       write that table\n");
	printf("\nOptions of new:\n");
	printf("  -m, --message=TEXT   the revision's message (required)\n");
	printf("  -p, --parent=REV     a parent (repeat for a merge; default: DIR's head)\n");
	printf("  -d, --depends-on=REV a revision or branch label that must come first\n");
	printf("  -b, --branch-label=LABEL\n"
		   "                       a branch label for the new revision\n");
	printf("  --rev-id=ID          use ID instead of a random one\n");
	printf("  --empty              leave both bodies empty\n");
	printf("\nOptions of new --autogenerate and check --schema/--from (scratch databases\n"
		   "are created and dropped on the server the connection options name):\n");
	printf("  --autogenerate       (new) write the bodies from the differences\n");
	printf("  --schema=FILE.sql    the desired schema: DDL run in a scratch database\n");
	printf("  --from=CONNINFO      the desired schema: that database (with the extension)\n");
	printf("  --include-schema=NAME\n"
		   "                       compare this schema (repeat; default: all but system ones)\n");
	printf("  --exclude-schema=NAME\n"
		   "                       leave this schema out (repeat)\n");
	printf("  --exclude-table=PATTERN\n"
		   "                       leave out tables, views and sequences matching the glob\n"
		   "                       (* and ?; with a dot, matched against schema.name)\n");
	printf("\nExit status: 0 on success, 1 on failure (check: differences), 2 on bad usage.\n");
}

/* The hint that ends every usage error */
static void
usage_hint(void)
{
	pg_log_error_hint("Try \"%s --help\" for more information.", progname);
}

/* Bad usage: the message (a whole sentence's format), the hint, exit 2 */
void
usage_error(const char *fmt,...)
{
	va_list		ap;
	char		buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pg_log_error("%s", esc(buf));
	usage_hint();
	exit(EXIT_USAGE);
}

/* The same with a DETAIL (a complete sentence, printed as given) */
void
usage_error_detail(const char *detail, const char *fmt,...)
{
	va_list		ap;
	char		buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pg_log_error("%s", esc(buf));
	pg_log_error_detail("%s", esc(detail));
	usage_hint();
	exit(EXIT_USAGE);
}

/*
 * An option getopt refused: it has already said which and why, so only
 * the hint follows, as in PostgreSQL's own programs (clusterdb).
 */
void
bad_option(void)
{
	usage_hint();
	exit(EXIT_USAGE);
}

/* One more -v: more of our messages, and of libpq's front-end logging */
void
more_verbose(void)
{
	verbosity++;
	pg_logging_increase_verbosity();
}

/* Handle an option every database command shares; false if not one */
bool
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
void
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
void
report_mg_error(const MgError *err)
{
	pg_log_error("%s", esc(err->message));
	if (err->detail)
		pg_log_error_detail("%s", esc(err->detail));
	if (err->hint)
		pg_log_error_hint("%s", esc(err->hint));
}

/*
 * main
 *		Handle --help and --version, the options before the command (the
 *		connection options and -v, which every database command also
 *		accepts after its name), find the command in the table and run it
 *		with its own arguments.  Returns the command's exit status; a
 *		missing or unrecognized command is bad usage (exit 2).
 */
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
	const Command *cmd;
	int			cmdargc;
	char	  **cmdargv;

	pg_logging_init(argv[0]);
	pg_logging_set_level(PG_LOG_WARNING);
	/* the locale's encoding, for client_encoding "auto" and display widths */
	set_pglocale_pgservice(argv[0], PG_TEXTDOMAIN("pg_migrate"));
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
		bad_option();
	}
	if (optind >= argc)
		usage_error("no command given");
	cmd = find_command(argv[optind]);
	if (cmd == NULL)
		usage_error("unrecognized command \"%s\"", argv[optind]);

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

		if (cmd->takes_target && arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9')
			arg = psprintf("%c%s", TARGET_MARK, arg);
		cmdargv[i] = arg;
	}
	cmdargv[cmdargc] = NULL;
#ifdef __GLIBC__
	optind = 0;					/* start afresh, without the "+" of the scan above */
#else
	optind = 1;
#endif

	return cmd->run(cmdargc, cmdargv);
}
