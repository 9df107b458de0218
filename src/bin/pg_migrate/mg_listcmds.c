/*-------------------------------------------------------------------------
 *
 * mg_listcmds.c
 *	  pg_migrate show and pg_migrate branches: two more query commands,
 *	  each one call of one of the extension's functions (migrate_show,
 *	  migrate_branches) printed by run_listing in the output format the
 *	  options chose.
 *
 * show prints each revision as a record of its own (psql's expanded
 * form), its bodies with their lines kept; branches prints a table, one
 * row per branch point.  Both take the options every query command takes
 * (parse_db_options).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "pg_migrate.h"

/* pg_migrate show TARGET: the stored revisions the target names */
int
cmd_show(int argc, char **argv)
{
	int			first = parse_db_options(argc, argv, NULL);
	const char *params[1];

	if (argc - first != 1)
		usage_error("show needs one target");
	params[0] = operand(argv[first]);
	output_expanded = true;
	return run_listing("revision,"
					   " pg_catalog.array_to_string(down_revisions, ', ') AS down_revisions,"
					   " pg_catalog.array_to_string(branch_labels, ', ') AS branch_labels,"
					   " pg_catalog.array_to_string(depends_on, ', ') AS depends_on,"
					   " message, transactional, source, registered_at, registered_by,"
					   " upgrade, downgrade, verify",
					   "migrate_show($1)", 1, params);
}

/* pg_migrate branches: the branch points and their children */
int
cmd_branches(int argc, char **argv)
{
	if (parse_db_options(argc, argv, NULL) < argc)
		usage_error("branches takes no arguments");
	return run_listing("revision,"
					   " pg_catalog.array_to_string(children, ', ') AS children,"
					   " pg_catalog.array_to_string(branch_labels, ', ') AS branch_labels,"
					   " message",
					   "migrate_branches()", 0, NULL);
}
