/*-------------------------------------------------------------------------
 *
 * pg_migrate.h
 *	  Declarations shared by the files of the pg_migrate client.
 *
 * pg_migrate.c owns the program: main, the global options, the command
 * table, --help, usage errors and the printing of diagnostics.
 * mg_filecmds.c owns the commands on revision files (check, new),
 * mg_dbcmds.c the commands on a database (load and the query commands),
 * mg_schemacmds.c the schema commands and their scratch databases.
 * The revision-file parser and the directory reader are mg_revfile.h's.
 *
 * Nothing here may be used by the extension, the unit tests or the
 * fuzzers: this header needs libpq and PostgreSQL's front-end library.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PG_MIGRATE_H
#define PG_MIGRATE_H

#include "getopt_long.h"
#include "libpq-fe.h"

#include "mg_core.h"
#include "mg_revfile.h"

#define PG_MIGRATE_VERSION	"0.1"

/* Exit status: 0 on success */
#define EXIT_FAILED		1		/* a failure, reported */
#define EXIT_USAGE		2		/* bad usage, reported */

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

/* Long options the commands share (getopt_long codes above 255) */
#define HELP_OPTION	500
#define HELP_LONG_OPTION {"help", no_argument, NULL, HELP_OPTION}
#define FOLLOW_LINKS_OPTION 501
#define FOLLOW_LINKS_LONG_OPTION \
	{"follow-external-links", no_argument, NULL, FOLLOW_LINKS_OPTION}

/*
 * Output options of the query commands (handled by output_option in
 * mg_output.c; parse_db_options accepts them)
 */
#define FORMAT_OPTION 502
#define OUTPUT_LONG_OPTIONS \
	{"format", required_argument, NULL, FORMAT_OPTION}, \
	{"tuples-only", no_argument, NULL, 't'}, \
	{"no-align", no_argument, NULL, 'A'}
#define OUTPUT_SHORT_OPTIONS "tA"

/* Options every database command accepts (handled by conn_option) */
#define CONN_LONG_OPTIONS \
	{"dbname", required_argument, NULL, 'd'}, \
	{"host", required_argument, NULL, 'h'}, \
	{"port", required_argument, NULL, 'p'}, \
	{"username", required_argument, NULL, 'U'}, \
	{"no-password", no_argument, NULL, 'w'}, \
	{"password", no_argument, NULL, 'W'}, \
	{"verbose", no_argument, NULL, 'v'}
#define CONN_SHORT_OPTIONS "d:h:p:U:wWv"

/*
 * An operand of a command that takes targets: main marks one that starts
 * like a relative target ("-1") so that getopt passes it by; operand()
 * gives it back as written.
 */
#define TARGET_MARK '\x01'

static inline const char *
operand(const char *arg)
{
	return arg[0] == TARGET_MARK ? arg + 1 : arg;
}

/* pg_migrate.c: the program's state and its output */
extern const char *progname;
extern ConnOpts conn_opts;
extern int	verbosity;			/* -v given how many times */
extern bool follow_external_links;	/* --follow-external-links */

extern bool output_is_utf8(void);	/* is what we print UTF-8? */
extern const char *esc(const char *s);
extern void usage(void);
extern void usage_error(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();
extern void usage_error_detail(const char *detail, const char *fmt,...)
			pg_attribute_printf(2, 3) pg_attribute_noreturn();
extern void bad_option(void) pg_attribute_noreturn();
extern void more_verbose(void);
extern bool conn_option(int c);
extern void report_diags(const MgDiags *diags);
extern void report_mg_error(const MgError *err);

/* mg_filecmds.c: commands on revision files, and reading them */
extern bool read_dirs(MgRevSet *set, char **dirs, int ndirs, bool recursive,
					  bool need_files);
extern int	cmd_check(int argc, char **argv);
extern int	cmd_new(int argc, char **argv);

/* mg_dbcmds.c: commands on a database */
extern PGconn *conn;			/* NULL until a command connects */
extern int	cmd_load(int argc, char **argv);
extern int	cmd_upgrade(int argc, char **argv);
extern int	cmd_downgrade(int argc, char **argv);
extern int	cmd_stamp(int argc, char **argv);
extern int	cmd_heads(int argc, char **argv);
extern int	cmd_current(int argc, char **argv);
extern int	cmd_history(int argc, char **argv);
extern bool check_row_sizes(const MgRevSet *set);
extern bool load_revisions(const MgRevSet *set, bool dry_run, bool create_ext,
						   int counts[3]);

/*
 * mg_schemacmds.c: the schema commands (new --autogenerate, check
 * --schema/--from) and the scratch databases they build.
 */
typedef struct SchemaOpts
{
	const char *schema_file;	/* --schema FILE.sql: desired state */
	const char *from;			/* --from CONNINFO: desired state */
	char	  **include_schemas;	/* --include-schema, repeatable */
	int			ninclude_schemas;
	char	  **exclude_schemas;	/* --exclude-schema, repeatable */
	int			nexclude_schemas;
	char	  **exclude_tables;	/* --exclude-table PATTERN, repeatable */
	int			nexclude_tables;
} SchemaOpts;

#define SCHEMA_FILE_OPTION		600
#define SCHEMA_FROM_OPTION		601
#define SCHEMA_INCLUDE_OPTION	602
#define SCHEMA_EXCLUDE_OPTION	603
#define SCHEMA_EXCLUDE_TABLE_OPTION 604
#define SCHEMA_LONG_OPTIONS \
	{"schema", required_argument, NULL, SCHEMA_FILE_OPTION}, \
	{"from", required_argument, NULL, SCHEMA_FROM_OPTION}, \
	{"include-schema", required_argument, NULL, SCHEMA_INCLUDE_OPTION}, \
	{"exclude-schema", required_argument, NULL, SCHEMA_EXCLUDE_OPTION}, \
	{"exclude-table", required_argument, NULL, SCHEMA_EXCLUDE_TABLE_OPTION}

extern bool schema_option(int c, SchemaOpts *opts);
extern bool schema_opts_given(const SchemaOpts *opts);
extern void schema_opts_validate(const SchemaOpts *opts, const char *command);
extern bool autogenerate_bodies(const SchemaOpts *opts, const MgRevSet *set,
								char **upgrade, char **downgrade);
extern int	check_schema(const SchemaOpts *opts, const MgRevSet *set);

/* scratch databases, on the server conn_opts name (dropped at exit) */
extern PGconn *scratch_server(void);
extern char *scratch_create(void);
extern PGconn *scratch_connect(const char *dbname);
extern void scratch_drop_all(void);
extern PGresult *scratch_query(PGconn *c, const char *sql, int nparams,
							   const char *const *params);	/* NULL after reporting */
extern char *ext_schema_in(PGconn *c);	/* quoted; NULL: not installed */

/* mg_dbcmds.c: the connection and the queries, for the other files' commands */
extern char *ext_schema;		/* quoted schema of the extension */
extern void connect_db(bool utf8);	/* conn_opts: sets conn, exits on failure */
extern void require_extension(void);
extern bool begin_transaction(void);
extern PGresult *run_query(const char *sql, int nparams, const char *const *params);
extern bool run_command(const char *sql);
extern void report_result_error(const PGresult *res);
extern void report_result_error_at(const PGresult *res, const char *path, int line);
extern void close_db(void);
extern void print_result(const PGresult *res);
extern int	run_listing(const char *columns, const char *function, int nparams,
						const char *const *params);
extern int	parse_db_options(int argc, char **argv, bool *purge);

/* mg_provenance_cmd.c: load --prune, failed attempts logged */
extern bool load_prune;
extern int	load_pruned;
extern const char *failure_direction;	/* upgrade, downgrade, stamp or NULL */
extern bool prune_revisions(void);
extern void failure_remember(const PGresult *res);
extern void failure_log(const char *direction);
/* mg_adopt.c: pg_migrate adopt-alembic */
extern int	cmd_adopt_alembic(int argc, char **argv);
/* mg_output.c: the output of the query commands */
typedef enum OutputFormat
{
	OUTPUT_ALIGNED,				/* psql's aligned table (default) */
	OUTPUT_UNALIGNED,			/* -A: fields separated by | */
	OUTPUT_JSON					/* --format=json */
} OutputFormat;
extern OutputFormat output_format;
extern bool output_tuples_only;	/* -t: rows only */
extern bool output_expanded;	/* one record per block (show) */
extern bool output_oneline;		/* the first column as lines (--oneline) */
extern bool output_option(int c);
extern bool take_flag(int *argc, char **argv, const char *flag);
extern void output_result(const PGresult *res);
extern bool nothing_to_do(const PGresult *res, const char *command,
						  const char *target);

/* mg_listcmds.c: show and branches */
extern int	cmd_show(int argc, char **argv);
extern int	cmd_branches(int argc, char **argv);

/* mg_roundtrip_cmd.c: pg_migrate roundtrip */
extern int	cmd_roundtrip(int argc, char **argv);

/* mg_lint.c: pg_migrate lint */
extern int	cmd_lint(int argc, char **argv);
/* mg_alembic_import.c: pg_migrate import-alembic */
extern int	cmd_import_alembic(int argc, char **argv);
/* mg_stepwise_cmd.c: upgrade/downgrade --stepwise (a commit per revision) */
extern bool stepwise_option(int *argc, char **argv);
extern int	run_stepwise_call(const char *procedure, const char *target);

#endif							/* PG_MIGRATE_H */
