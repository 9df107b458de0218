/*
 * mg_replay.c
 *	  Replays a history fixture (test/alembic/fixtures/NAME.hist) through the
 *	  graph core alone, with no server, and prints the same transcript as
 *	  test/alembic/alembic_ref.py prints for Alembic.  The version table is
 *	  simulated by applying each planned step's operations.
 *
 *	  usage: mg_replay FIXTURE
 */
#include "mg_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXREV 4096
#define MAXLIST 64

typedef struct FixRev
{
	char	   *id;
	char	   *down[MAXLIST];
	int			ndown;
	char	   *deps[MAXLIST];
	int			ndeps;
	char	   *labels[MAXLIST];
	int			nlabels;
	char	   *message;
} FixRev;

static FixRev revs[MAXREV];
static int	nrevs;
static char *rows[MAXREV];
static int	nrows;

static int
split_list(char *s, char **out)
{
	int			n = 0;
	char	   *tok;

	for (tok = strtok(s, ","); tok && n < MAXLIST; tok = strtok(NULL, ","))
		out[n++] = strdup(tok);
	return n;
}

static void
parse_rev(char *line)
{
	FixRev	   *r = &revs[nrevs++];
	char	   *msg = strstr(line, " message=");
	char	   *tok;
	char	   *save;

	memset(r, 0, sizeof(FixRev));
	if (msg)
	{
		r->message = strdup(msg + 9);
		*msg = '\0';
	}
	tok = strtok_r(line, " \t", &save);	/* "rev" */
	tok = strtok_r(NULL, " \t", &save);
	r->id = strdup(tok ? tok : "");
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL)
	{
		char	   *val = strchr(tok, '=');

		if (!val)
		{
			fprintf(stderr, "bad token %s\n", tok);
			exit(2);
		}
		*val++ = '\0';
		if (strcmp(tok, "down") == 0)
			r->ndown = split_list(val, r->down);
		else if (strcmp(tok, "deps") == 0)
			r->ndeps = split_list(val, r->deps);
		else if (strcmp(tok, "labels") == 0)
			r->nlabels = split_list(val, r->labels);
		else
		{
			fprintf(stderr, "bad key %s\n", tok);
			exit(2);
		}
	}
}

static MgGraph *
build(MgError *err, bool *ok)
{
	MgGraph    *g = mg_graph_new();

	for (int i = 0; i < nrevs; i++)
	{
		MgRevInput in;

		memset(&in, 0, sizeof(in));
		in.id = revs[i].id;
		in.down = (const char *const *) revs[i].down;
		in.ndown = revs[i].ndown;
		in.deps = (const char *const *) revs[i].deps;
		in.ndeps = revs[i].ndeps;
		in.labels = (const char *const *) revs[i].labels;
		in.nlabels = revs[i].nlabels;
		in.message = revs[i].message;
		mg_graph_add(g, &in);
	}
	*ok = mg_graph_finish(g, err);
	return g;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
print_rows(void)
{
	char	   *sorted[MAXREV];

	memcpy(sorted, rows, sizeof(char *) * nrows);
	qsort(sorted, nrows, sizeof(char *), cmp_str);
	printf("rows");
	for (int i = 0; i < nrows; i++)
		printf(" %s", sorted[i]);
	printf("\n");
}

static void
print_error(MgError *err)
{
	printf("error %s\n", err->message);
}

static void
apply_plan(MgGraph *g, MgPlan *plan, bool show_steps)
{
	for (int s = 0; s < plan->nsteps; s++)
	{
		MgStep	   *st = &plan->steps[s];

		if (show_steps && st->direction != MG_STAMP)
			printf("step %s %s\n", st->direction == MG_UPGRADE ? "upgrade" : "downgrade",
				   mg_rev_id(g, st->rev));
	}
	/* ids of the fixture's revisions outlive the graph */
	nrows = 0;
	for (int i = 0; i < plan->final_rows.n; i++)
		rows[nrows++] = revs[plan->final_rows.items[i]].id;
}

static void
run_command(char *cmd)
{
	MgError		err;
	bool		ok;
	MgGraph    *g;
	MgList		cur;
	char	   *argv[16];
	int			argc = 0;
	char	   *tok;
	bool		purge = false;
	int			saved_nrows;

	printf("> %s\n", cmd);
	for (tok = strtok(cmd, " \t"); tok && argc < 16; tok = strtok(NULL, " \t"))
	{
		if (strcmp(tok, "--purge") == 0)
			purge = true;
		else
			argv[argc++] = tok;
	}
	g = build(&err, &ok);
	if (!ok)
	{
		print_error(&err);
		
		mg_graph_free(g);
		return;
	}

	/* purge empties the table only if the whole stamp succeeds */
	saved_nrows = nrows;
	if (purge)
		nrows = 0;
	if (!mg_resolve_rows(g, (const char *const *) rows, nrows, &cur, &err))
	{
		print_error(&err);
		print_rows();
		mg_graph_free(g);
		return;
	}

	if (strcmp(argv[0], "upgrade") == 0 || strcmp(argv[0], "downgrade") == 0)
	{
		MgPlan		plan;
		bool		up = argv[0][0] == 'u';

		ok = up ? mg_plan_upgrade(g, cur, argc > 1 ? argv[1] : "heads", &plan, &err)
			: mg_plan_downgrade(g, cur, argc > 1 ? argv[1] : "", &plan, &err);
		if (ok)
			apply_plan(g, &plan, true);
		else
			print_error(&err);
		print_rows();
	}
	else if (strcmp(argv[0], "stamp") == 0)
	{
		MgPlan		plan;

		ok = mg_plan_stamp(g, cur, (const char *const *) &argv[1], argc - 1, purge, &plan, &err);
		if (ok)
			apply_plan(g, &plan, false);
		else
		{
			nrows = saved_nrows;
			print_error(&err);
		}
		print_rows();
	}
	else if (strcmp(argv[0], "heads") == 0)
	{
		MgList		h = mg_heads(g);

		for (int i = 0; i < h.n; i++)
			printf("out %s %s\n", mg_rev_id(g, h.items[i]),
				   mg_rev_is_real_head(g, h.items[i]) ? "head" : "effective");
		
	}
	else if (strcmp(argv[0], "current") == 0)
	{
		MgList		c = mg_current(g, cur);
		const char *ids[MAXREV];

		for (int i = 0; i < c.n; i++)
			ids[i] = mg_rev_id(g, c.items[i]);
		qsort(ids, c.n, sizeof(char *), cmp_str);
		for (int i = 0; i < c.n; i++)
			printf("out %s\n", ids[i]);
	}
	else if (strcmp(argv[0], "history") == 0)
	{
		MgList		h;

		if (mg_history(g, cur, argc > 1 ? argv[1] : NULL, &h, &err))
			for (int i = 0; i < h.n; i++)
				printf("out %s\n", mg_rev_id(g, h.items[i]));
		else
			print_error(&err);
	}
	else if (strcmp(argv[0], "labels") == 0)
	{
		/* not an Alembic command: inherited labels of every revision */
		for (int i = 0; i < mg_graph_size(g); i++)
		{
			const char **l;
			int			n = mg_rev_labels(g, i, &l);

			printf("out %s", mg_rev_id(g, i));
			for (int k = 0; k < n; k++)
				printf(" %s", l[k]);
			printf("\n");
		}
	}
	else
	{
		fprintf(stderr, "unrecognized command %s\n", argv[0]);
		exit(2);
	}
	mg_graph_free(g);
}

int
main(int argc, char **argv)
{
	FILE	   *f;
	char		line[8192];

	if (argc != 2)
	{
		fprintf(stderr, "usage: %s FIXTURE\n", argv[0]);
		return 2;
	}
	f = fopen(argv[1], "r");
	if (!f)
	{
		perror(argv[1]);
		return 2;
	}
	while (fgets(line, sizeof(line), f))
	{
		size_t		len = strlen(line);

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (strncmp(line, "rev ", 4) == 0)
			parse_rev(line);
		else if (strncmp(line, "cmd ", 4) == 0)
			run_command(line + 4);
		else
		{
			fprintf(stderr, "bad line: %s\n", line);
			return 2;
		}
	}
	fclose(f);
	return 0;
}
