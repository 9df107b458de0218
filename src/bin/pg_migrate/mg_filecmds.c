/*-------------------------------------------------------------------------
 *
 * mg_filecmds.c
 *	  pg_migrate's commands on revision files: check and new.
 *
 * Both read directories of revision files (mg_revdir.c, mg_revfile.c) and
 * build their graph with the core; neither needs a database.  check prints
 * the heads as "alembic heads" does; new writes one revision file, its
 * parents by default the directory's single head.  read_dirs is also what
 * load uses to read its directories.
 *
 * With --autogenerate (new) and --schema/--from (check) the commands
 * compare with a database: mg_schemacmds.c does that part, this file
 * still writes the file.
 *
 * This file owns the commands' options, the file new writes (its name,
 * header lines and template bodies) and the random revision id.  It must
 * not judge names or the graph itself: names go through mg_check_name and
 * heads, labels and ids through the core's graph, so that new and check
 * agree with the server.  It must not connect to a database itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/logging.h"
#include "mb/pg_wchar.h"
#include "pqexpbuffer.h"

#include "pg_migrate.h"
#include "mg_alembic.h"

/*
 * Read the revision files of the directories.  Returns false after
 * reporting every problem; with need_files, finding no file is one.
 */
bool
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
 * The revision modules of Alembic version directories (check --alembic),
 * with the checks read_dirs makes.
 */
static bool
read_alembic_dirs(MgRevSet *set, char **dirs, int ndirs)
{
	MgDiags		diags = {0};
	bool		ok = true;

	for (int i = 0; i < ndirs; i++)
	{
		int			before = set->n;

		if (!mg_alembic_add_dir(set, dirs[i], &diags))
			ok = false;
		pg_log_info("%s: %d Alembic revision files", esc(dirs[i]), set->n - before);
	}
	if (ok && !mg_revset_check_duplicates(set, &diags))
		ok = false;
	report_diags(&diags);
	mg_diags_free(&diags);
	if (ok && set->n == 0)
	{
		pg_log_error("no Alembic revision files found");
		pg_log_error_hint("Give Alembic's version directories (script_location/versions, or each of version_locations).");
		return false;
	}
	return ok;
}

/*
 * build_graph
 *		The core's graph of the parsed files of set, each revision tagged
 *		with its file's index.  With module (new), set is one directory
 *		whose parents and dependencies may live in other directories: a
 *		down_revision defined elsewhere becomes a base of the graph with
 *		no file (tag -1), so that its children stay children, and a
 *		dependency defined elsewhere is left out (it makes no head and
 *		carries no label here).  Without module (check) every reference
 *		must resolve in set.  Returns NULL after reporting the problems of
 *		an invalid graph (mg_graph_finish).
 */
static MgGraph *
build_graph(const MgRevSet *set, bool module)
{
	MgGraph    *g = mg_graph_new();
	MgError		err;
	const char **deps = NULL;
	int			maxdeps = 0;
	const char **outside = NULL;	/* down_revisions defined elsewhere */
	int			noutside = 0,
				maxoutside = 0;

	for (int i = 0; i < set->n; i++)
		maxdeps = Max(maxdeps, set->files[i]->ndeps);
	deps = pg_malloc(sizeof(char *) * (maxdeps + 1));
	for (int i = 0; i < set->n; i++)
	{
		const MgRevFile *rf = set->files[i];
		MgRevInput	in;
		int			ndeps = 0;

		for (int j = 0; j < rf->ndeps; j++)
		{
			bool		here = !module || mg_revset_find(set, rf->deps[j]) >= 0;

			for (int k = 0; k < set->n && !here; k++)
				for (int l = 0; l < set->files[k]->nlabels && !here; l++)
					here = strcmp(set->files[k]->labels[l], rf->deps[j]) == 0;
			if (here)
				deps[ndeps++] = rf->deps[j];
		}
		memset(&in, 0, sizeof(in));
		in.id = rf->revision;
		in.down = (const char *const *) rf->down;
		in.ndown = rf->ndown;
		in.deps = deps;
		in.ndeps = ndeps;
		in.labels = (const char *const *) rf->labels;
		in.nlabels = rf->nlabels;
		in.message = rf->message;
		in.tag = i;
		mg_graph_add(g, &in);		/* copies what it keeps */

		for (int j = 0; j < rf->ndown && module; j++)
		{
			bool		known = mg_revset_find(set, rf->down[j]) >= 0;

			for (int k = 0; k < noutside && !known; k++)
				known = strcmp(outside[k], rf->down[j]) == 0;
			if (known)
				continue;
			memset(&in, 0, sizeof(in));
			in.id = rf->down[j];
			in.tag = -1;
			mg_graph_add(g, &in);
			if (noutside == maxoutside)
			{
				maxoutside = maxoutside ? maxoutside * 2 : 16;
				outside = pg_realloc(outside, sizeof(char *) * maxoutside);
			}
			outside[noutside++] = rf->down[j];
		}
	}
	free(deps);
	free(outside);
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
int
cmd_check(int argc, char **argv)
{
	static struct option long_options[] = {
		{"recursive", no_argument, NULL, 'r'},
		{"single-head", no_argument, NULL, 1},
		{"alembic", no_argument, NULL, 2},
		{"verbose", no_argument, NULL, 'v'},
		FOLLOW_LINKS_LONG_OPTION,
		SCHEMA_LONG_OPTIONS,
		HELP_LONG_OPTION,
		{NULL, 0, NULL, 0}
	};
	bool		recursive = false;
	bool		single_head = false;
	bool		alembic = false;
	int			c;
	MgRevSet	set = {0};
	MgGraph    *g;
	MgList		heads;
	SchemaOpts	schema = {0};

	while ((c = getopt_long(argc, argv, "rv", long_options, NULL)) != -1)
	{
		if (schema_option(c, &schema))
			continue;
		switch (c)
		{
			case 'r':
				recursive = true;
				break;
			case 1:
				single_head = true;
				break;
			case 2:
				alembic = true;
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
				bad_option();
		}
	}
	if (optind >= argc)
		usage_error("check needs at least one directory");
	schema_opts_validate(&schema, "check");
	if (alembic && (recursive || schema_opts_given(&schema)))
		usage_error("--alembic cannot be used with -r, --schema or --from");
	/* --schema, --from: compare with a database (mg_schemacmds.c) */
	if (schema_opts_given(&schema))
	{
		if (!read_dirs(&set, argv + optind, argc - optind, recursive, false))
			return EXIT_FAILED;
		if ((g = build_graph(&set, false)) == NULL)
			return EXIT_FAILED;
		mg_graph_free(g);
		return check_schema(&schema, &set);
	}

	set.headers_only = true;	/* check needs no bodies in memory */
	if (alembic ? !read_alembic_dirs(&set, argv + optind, argc - optind) :
		!read_dirs(&set, argv + optind, argc - optind, recursive, true))
		return EXIT_FAILED;
	g = build_graph(&set, false);
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
			pg_log_error("the revision graph has %d heads", real.n);
			pg_log_error_detail("Its heads are %s.", esc(list.data));
			pg_log_error_hint("Merge them with \"pg_migrate new -m MESSAGE -p HEAD -p HEAD ... DIR\".");
			return EXIT_FAILED;
		}
		pg_log_warning("the revision graph has %d heads", real.n);
		pg_log_warning_detail("Its heads are %s.", esc(list.data));
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

/* A new random revision id: 12 hex digits from /dev/urandom (exit on failure) */
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

/* Append "-- migrate:<key> a, b" to buf; nothing for an empty list */
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

/*
 * A name given twice on new's command line is bad usage; dup_fmt is the
 * whole message, with one %s for the name.
 */
static void
check_unique(char **items, int n, const char *dup_fmt)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(items[i], items[j]) == 0)
				usage_error(dup_fmt, items[i]);
}

/* A name of new's command line, checked by the core's rule (exit 2) */
static void
check_arg_name(MgNameKind kind, const char *name)
{
	MgNameProblem np;

	if (!mg_check_name(kind, name, strlen(name), NULL, &np))
		usage_error_detail(np.detail, "%s", np.message);
}

/* A revision of new's graph defined by a file of the directory, or -1 */
static int
module_rev(const MgGraph *g, const char *id)
{
	int			rev = mg_lookup(g, id);

	return rev >= 0 && mg_rev_tag(g, rev) >= 0 ? rev : -1;
}

/* Are body and the parsed body the same text, line ends at the end aside? */
static bool
same_body(const char *parsed, const char *body)
{
	size_t		n = strlen(body);

	while (n > 0 && body[n - 1] == '\n')
		n--;
	return parsed != NULL && strlen(parsed) == n && strncmp(parsed, body, n) == 0;
}

/*
 * The file new --autogenerate is about to write, parsed back by the
 * revision-file parser: a statement of the server's (a function body, say)
 * with a line the format would read as a marker must not split a body or
 * end up in a file that does not load.  False after reporting.
 */
static bool
generated_file_ok(PQExpBuffer text, const char *dir, const char *rev_id,
				  const char *upgrade, const char *downgrade)
{
	MgDiags		diags = {0};
	MgRevFile  *rf = mg_revfile_parse(dir, NULL, text->data, text->len, &diags);
	bool		ok = rf != NULL && strcmp(rf->revision, rev_id) == 0 &&
		same_body(rf->upgrade, upgrade) && same_body(rf->downgrade, downgrade);

	if (!ok)
	{
		report_diags(&diags);
		pg_log_error("the generated statements cannot be written as a revision file");
		pg_log_error_detail("Parsed back, the file does not hold the generated bodies unchanged.");
		pg_log_error_hint("Nothing was written; \"%s check --schema FILE DIR...\" lists the statements: write the revision by hand.", progname);
	}
	if (rf)
		mg_revfile_free(rf);
	mg_diags_free(&diags);
	return ok;
}

/*
 * cmd_new
 *		pg_migrate new -m MESSAGE [-p PARENT]... [-d DEP]... [-b LABEL]...
 *		[--rev-id ID] [--empty] DIR: write a new revision file into DIR
 *		(created when missing) and print its path.  The names given are
 *		checked with the core's mg_check_name (bad usage, exit 2, with the
 *		server's text); DIR's files are read and their graph built by the
 *		core (build_graph), which gives the default parent (DIR's
 *		single head; several heads are an error), refuses a label already
 *		used in DIR and an id already defined there.  The file is named
 *		"<id>_<slug>.sql" and created with O_EXCL, never overwriting one.
 *		Returns 0, or EXIT_FAILED after reporting; failures to create or
 *		write the file end the program (exit 1).
 */
int
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
		{"autogenerate", no_argument, NULL, 3},
		FOLLOW_LINKS_LONG_OPTION,
		SCHEMA_LONG_OPTIONS,
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
	MgGraph    *g;
	char	   *slug;
	char	   *path;
	PQExpBufferData text;
	int			fd;
	bool		autogenerate = false;
	SchemaOpts	schema = {0};
	char	   *gen_upgrade = NULL;
	char	   *gen_downgrade = NULL;

	while ((c = getopt_long(argc, argv, "m:p:d:b:rv", long_options, NULL)) != -1)
	{
		if (schema_option(c, &schema))
			continue;
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
			case 3:
				autogenerate = true;
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
				bad_option();
		}
	}
	if (optind >= argc)
		usage_error("new needs a directory");
	if (optind != argc - 1 && !autogenerate)
		usage_error("new takes one directory");
	dir = argv[optind];
	schema_opts_validate(&schema, "new");
	if (autogenerate && !schema_opts_given(&schema))
		usage_error("new --autogenerate needs --schema FILE or --from CONNINFO");
	if (!autogenerate && schema_opts_given(&schema))
		usage_error("--schema and --from need --autogenerate");
	if (autogenerate && empty)
		usage_error("--autogenerate and --empty cannot be combined");
	if (message == NULL)
		usage_error("new needs a message (-m)");
	if (message[0] == '\0' || strchr(message, '\n') || strchr(message, '\r'))
		usage_error("the message must be one non-empty line");
	if (pg_encoding_verifymbstr(PG_UTF8, message, (int) strlen(message)) != (int) strlen(message))
		usage_error("the message must be UTF-8");

	/* names given on the command line: the core's rule and texts */
	check_unique(parents, nparents, "parent \"%s\" is given twice");
	check_unique(deps, ndeps, "dependency \"%s\" is given twice");
	check_unique(labels, nlabels, "branch label \"%s\" is given twice");
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
		check_arg_name(MG_NAME_DOWN_REVISION, parents[i]);
	}
	for (int i = 0; i < ndeps; i++)
		check_arg_name(MG_NAME_DEPENDENCY, deps[i]);
	for (int i = 0; i < nlabels; i++)
		check_arg_name(MG_NAME_BRANCH_LABEL, labels[i]);
	if (rev_id)
	{
		check_arg_name(MG_NAME_REVISION, rev_id);
		/* the parser's rule: "none" would read as a base's down_revision */
		if (strcasecmp(rev_id, "none") == 0)
			usage_error_detail("\"-- migrate:down_revision none\" marks a base revision.",
							   "revision id \"%s\" cannot be used in revision files", rev_id);
	}

	/* the directory: read if it exists (created below, when missing) */
	if (file_exists(dir))
	{
		char	   *dirs[1] = {(char *) dir};

		set.headers_only = true;	/* new needs no bodies in memory */
		if (!read_dirs(&set, dirs, 1, recursive, false))
			return EXIT_FAILED;
	}
	/* heads, labels and ids of the directory: the core's graph of it */
	g = build_graph(&set, true);
	if (g == NULL)
		return EXIT_FAILED;

	/* default parent: the directory's single head */
	if (nparents == 0 && !explicit_base)
	{
		MgList		heads = mg_heads(g);

		if (heads.n > 1)
		{
			PQExpBufferData list;

			initPQExpBuffer(&list);
			for (int i = 0; i < heads.n; i++)
				appendPQExpBuffer(&list, "%s%s", i ? ", " : "", mg_rev_id(g, heads.items[i]));
			pg_log_error("directory \"%s\" has %d heads", esc(dir), heads.n);
			pg_log_error_detail("Its heads are %s.", esc(list.data));
			pg_log_error_hint("Choose the parent with -p, or give -p for each head to write a merge revision.");
			return EXIT_FAILED;
		}
		if (heads.n == 1)
			parents[nparents++] = pg_strdup(mg_rev_id(g, heads.items[0]));
	}
	for (int i = 0; i < nlabels; i++)
	{
		int			owner = -1;

		/* the revision that declares it, among those that carry it */
		for (int rev = 0; rev < mg_graph_size(g); rev++)
		{
			const MgRevFile *rf;
			bool		declared = false;

			if (mg_rev_tag(g, rev) < 0 || !mg_rev_has_label(g, rev, labels[i]))
				continue;
			rf = set.files[mg_rev_tag(g, rev)];
			for (int k = 0; k < rf->nlabels && !declared; k++)
				declared = strcmp(rf->labels[k], labels[i]) == 0;
			if (owner < 0 || declared)
				owner = rev;
			if (declared)
				break;
		}
		if (owner >= 0)
		{
			pg_log_error("branch label \"%s\" is already used by revision \"%s\"",
						 esc(labels[i]), esc(mg_rev_id(g, owner)));
			pg_log_error_detail("Revision \"%s\" is defined in file \"%s\".",
								esc(mg_rev_id(g, owner)),
								esc(set.files[mg_rev_tag(g, owner)]->path));
			return EXIT_FAILED;
		}
	}
	for (int i = 0; i < nparents; i++)
		if (module_rev(g, parents[i]) < 0)
			pg_log_info("parent \"%s\" is not in directory \"%s\"", esc(parents[i]), esc(dir));

	if (rev_id == NULL)
	{
		do
			rev_id = random_rev_id();
		while (mg_lookup(g, rev_id) >= 0);
	}
	else if (module_rev(g, rev_id) >= 0)
	{
		pg_log_error("revision \"%s\" already exists", esc(rev_id));
		pg_log_error_detail("Revision \"%s\" is defined in file \"%s\".", esc(rev_id),
							esc(set.files[mg_rev_tag(g, module_rev(g, rev_id))]->path));
		return EXIT_FAILED;
	}

	/*
	 * --autogenerate: the bodies from the revisions of all the directories
	 * (upgraded to heads in a scratch database) and the desired state
	 */
	if (autogenerate)
	{
		MgRevSet	all = {0};
		int			ndirs = 0;
		char	  **dirs = pg_malloc(sizeof(char *) * argc);

		for (int i = optind; i < argc; i++)
			if (i > optind || file_exists(argv[i]))
				dirs[ndirs++] = argv[i];
		if (!read_dirs(&all, dirs, ndirs, recursive, false))
			return EXIT_FAILED;
		if (!autogenerate_bodies(&schema, &all, &gen_upgrade, &gen_downgrade))
			return EXIT_FAILED;
		mg_revset_free(&all);
		free(dirs);
		if (gen_upgrade == NULL)
		{
			printf("no changes detected\n");
			return 0;
		}
	}

	if (!file_exists(dir))
	{
		if (mkdir(dir, 0777) != 0)
			pg_fatal("could not create directory \"%s\": %m", esc(dir));
		pg_log_info("created directory \"%s\"", esc(dir));
	}

	initPQExpBuffer(&text);
	if (autogenerate)
		appendPQExpBufferStr(&text, "-- Generated by pg_migrate new --autogenerate: review it, then edit or delete it.\n");
	appendPQExpBuffer(&text, "-- migrate:revision %s\n", rev_id);
	if (nparents == 0)
		appendPQExpBufferStr(&text, "-- migrate:down_revision none\n");
	else
		append_list(&text, "down_revision", parents, nparents);
	append_list(&text, "branch_labels", labels, nlabels);
	append_list(&text, "depends_on", deps, ndeps);
	appendPQExpBuffer(&text, "-- migrate:message %s\n", message);
	if (autogenerate)
		appendPQExpBuffer(&text, "-- migrate:upgrade\n%s\n-- migrate:downgrade\n%s",
						  gen_upgrade, gen_downgrade);
	else if (empty)
		appendPQExpBufferStr(&text, "-- migrate:upgrade\n-- migrate:downgrade\n");
	else
		appendPQExpBufferStr(&text,
							 "-- migrate:upgrade\n"
							 "-- The SQL that applies this revision.\n"
							 "\n"
							 "-- migrate:downgrade\n"
							 "-- The SQL that reverts it (remove the section if it cannot be reverted).\n");

	slug = make_slug(message);
	if (autogenerate && !generated_file_ok(&text, dir, rev_id, gen_upgrade, gen_downgrade))
		return EXIT_FAILED;
	path = psprintf("%s%s%s%s%s.sql", dir,
					dir[strlen(dir) - 1] == '/' ? "" : "/",
					rev_id, slug[0] ? "_" : "", slug);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
	if (fd < 0)
		pg_fatal("could not create file \"%s\": %m", esc(path));
	if (write(fd, text.data, text.len) != (ssize_t) text.len || close(fd) != 0)
		pg_fatal("could not write file \"%s\": %m", esc(path));
	printf("%s\n", esc(path));
	mg_graph_free(g);
	mg_revset_free(&set);
	return 0;
}
