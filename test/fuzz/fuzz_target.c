/*-------------------------------------------------------------------------
 *
 * fuzz_target.c
 *	  libFuzzer target: target strings resolved and planned against fixed
 *	  graphs (the Alembic fixtures, fuzz_graphs.h) and a simulated version
 *	  table that the commands change as the backend's would.
 *
 * Input: the first byte selects the graph; the rest of the first line is
 * ignored.  Every further line is a command, its first character the verb
 * and the rest of the line its argument:
 *
 *	u ARG	upgrade			d ARG	downgrade
 *	s ARGS	stamp			p ARGS	stamp with purge
 *	h ARG	history (empty: no range)
 *	c		current			w ARG	show
 *	r IDS	set the version table (ids separated by spaces or commas)
 *	other	the whole line as the argument of every command, leaving the
 *			version table as it was
 *
 * Stamp targets are separated by spaces or commas, as migrate_stamp()
 * splits them.  Every result is checked against the invariants of
 * fuzz_common.h, the order of plans and listings whose targets can be
 * resolved independently against Alembic's topological sort, and every
 * result of the kept graph against a plainly built twin.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"
#include "fuzz_graphs.h"

#define MAX_COMMANDS	100

/*
 * Build a graph from a fixture's "rev" lines: with fa, the way the backend
 * builds the graph it keeps (see fuzz_common.h), else plainly
 */
static MgGraph *
build_graph(const char *spec, FuzzArena *fa)
{
	MgGraph    *g = fa ? graph_new_counted(fa) : mg_graph_new();
	char	   *copy = strdup(spec);
	char	   *save;

	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		char	   *msg = strstr(line, " message=");
		char	   *down[MAX_LIST],
				   *deps[MAX_LIST],
				   *labels[MAX_LIST];
		MgRevInput	in;
		char	   *tok;
		char	   *tsave;

		memset(&in, 0, sizeof(in));
		if (msg)
		{
			*msg = '\0';
			in.message = msg + 9;
		}
		tok = strtok_r(line, " ", &tsave);	/* "rev" */
		in.id = strtok_r(NULL, " ", &tsave);
		while ((tok = strtok_r(NULL, " ", &tsave)) != NULL)
		{
			char	   *val = strchr(tok, '=');

			*val++ = '\0';
			if (strcmp(tok, "down") == 0)
			{
				in.ndown = split_words(val, down, MAX_LIST);
				in.down = (const char *const *) down;
			}
			else if (strcmp(tok, "deps") == 0)
			{
				in.ndeps = split_words(val, deps, MAX_LIST);
				in.deps = (const char *const *) deps;
			}
			else
			{
				in.nlabels = split_words(val, labels, MAX_LIST);
				in.labels = (const char *const *) labels;
			}
		}
		if (fa)
			graph_add_owned(g, &in);
		else
			mg_graph_add(g, &in);
	}
	free(copy);
	return g;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MgGraph    *g;
	MgGraph    *fresh;
	FuzzArena	fa;
	MgArenaMark mark;
	long		live_at_mark;
	MgError		err;
	Model		m;
	Table		t = {0};
	char	   *text;
	char	   *p;
	int			ncmd = 0;

	if (size == 0)
		return 0;

	/*
	 * The graph the commands use is built and kept as the backend keeps
	 * it, released to its mark after every command; a plainly built twin
	 * must give the same results.
	 */
	g = build_graph(fuzz_graphs[data[0] % FUZZ_NGRAPHS].revs, &fa);
	fresh = build_graph(fuzz_graphs[data[0] % FUZZ_NGRAPHS].revs, NULL);
	FUZZ_CHECK(mg_graph_finish(g, &err), "fixture graph invalid: %s", err.message);
	FUZZ_CHECK(mg_graph_finish(fresh, &err), "fixture graph invalid: %s", err.message);
	mg_graph_mark(g, &mark);
	live_at_mark = fa.live;
	model_init(&m, g);
	m.twin = fresh;
	check_listings(&m);
	mg_graph_release(g, &mark);

	/* the commands, as NUL-terminated lines (a NUL byte ends a line too) */
	text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	p = memchr(text, '\n', size);
	p = p ? p + 1 : text + size;
	while (p < text + size && ncmd++ < MAX_COMMANDS)
	{
		char	   *line = p;
		char	   *nl = memchr(p, '\n', (size_t) (text + size - p));
		const char *arg;

		if (nl)
			*nl = '\0';
		p = nl ? nl + 1 : text + size;
		arg = line[0] ? line + 1 : line;
		switch (line[0])
		{
			case 'u':
				do_upgrade(&m, &t, arg, true);
				break;
			case 'd':
				do_downgrade(&m, &t, arg, true);
				break;
			case 's':
			case 'p':
				do_stamp(&m, &t, arg, line[0] == 'p', true);
				break;
			case 'h':
				do_history(&m, &t, arg);
				break;
			case 'c':
				do_current(&m, &t);
				break;
			case 'w':
				do_show(&m, arg);
				break;
			case 'r':
				do_rows(&m, &t, arg);
				break;
			default:
				do_upgrade(&m, &t, line, false);
				do_downgrade(&m, &t, line, false);
				do_stamp(&m, &t, line, false, false);
				do_stamp(&m, &t, line, true, false);
				do_history(&m, &t, line);
				do_show(&m, line);
				break;
		}
		mg_graph_release(g, &mark);
		FUZZ_CHECK(fa.live == live_at_mark, "release keeps %ld blocks, the mark had %ld",
				   fa.live, live_at_mark);
	}
	free(text);
	free(t.rows);
	model_free(&m);
	graph_free_counted(g, &fa);
	mg_graph_free(fresh);
	return 0;
}
