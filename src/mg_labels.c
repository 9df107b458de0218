/*-------------------------------------------------------------------------
 *
 * mg_labels.c
 *	  Branch labels: which labels each revision carries (Alembic's
 *	  _add_branches, in linear time and space).
 *
 * This file owns label inheritance and the label queries (mg_rev_labels,
 * mg_rev_has_label).  It reads the graph built by mg_graph.c and never
 * changes it, except for its own lazily computed state (ltop, the label
 * list kept by mg_rev_labels, the descendants kept by mg_rev_has_label).
 * Resolving a label in a target is mg_target.c's business.
 *
 *-------------------------------------------------------------------------
 */
#include "mg_core_int.h"

/*
 * inherit_labels
 *		Alembic's _add_branches, in linear time and space.
 *
 *		Alembic (and this code up to version 0.1) takes the revisions that
 *		declare labels in map order; each one, r, adds the labels it carries
 *		at that moment to R(r): its descendants through down_revisions, plus
 *		the revisions met walking down from the last descendant visited
 *		through single down_revisions, until a branch point (two or more
 *		children through down or depends_on) or a merge point.  The old
 *		algorithm is kept as the reference model of the unit tests
 *		(test/unit/test_core.c, ref_inherit).  Its result has a closed form:
 *
 *		Call a revision "plain" when it has at most one child through down
 *		or depends_on and at most one down_revision, and call x a "tail"
 *		revision when x and every revision on its (single) path of children
 *		up to a head are plain.  The walk down passes r exactly when r is a
 *		tail revision (the path from the last descendant to r holds r's
 *		descendants only, and a descendant that is not plain stops it); then
 *		R(r) is the whole tail segment T of r: the path from its head down
 *		to the lowest plain revision.  Otherwise R(r) is r's descendants.
 *
 *		Hence a revision x that is not in a tail carries exactly the labels
 *		declared by its ancestors through down_revisions (x included): each
 *		ancestor a puts its own labels on x, and what a carries comes from
 *		its own ancestors, none of which is in a tail.  A tail revision
 *		carries the labels of the ancestors of its segment's head: the
 *		segment's revisions exchange their labels, and the revisions below
 *		it reach all of it.  Map order does not matter.
 *
 *		So the only per-revision state is ltop[x]: the head of x's tail
 *		segment, or x itself.  "Does x carry L" asks whether L's declarer
 *		is an ancestor of ltop[x]; "list x's labels" collects the labels
 *		declared at or below ltop[x].
 */
void
mg_inherit_labels(MgGraph *g)
{
	int		   *ltop;
	int		   *order;
	unsigned	tick = 0;

	if (g->labels_done)
		return;
	/* an interrupted run leaves labels_done false and starts over */
	ltop = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	order = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	g->hl_desc = bits_new(g);
	g->hl_rev = -1;
	g->lcache_top = -1;
	for (int i = 0; i < g->n; i++)
		order[g->revs[i].topo] = i;
	/* children before parents: ltop of the only child is known */
	for (int k = g->n - 1; k >= 0; k--)
	{
		int			x = order[k];
		Rev		   *r = &g->revs[x];
		bool		plain = r->allnext.n <= 1 && r->down.n <= 1;

		mg_poll_tick(&tick);
		ltop[x] = -1;			/* -1: not a tail revision */
		if (plain && r->next.n == 0)
			ltop[x] = x;
		else if (plain && r->next.n == 1 && ltop[r->next.v[0]] >= 0 &&
				 g->revs[r->next.v[0]].down.n == 1)
			ltop[x] = ltop[r->next.v[0]];
	}
	for (int i = 0; i < g->n; i++)
		if (ltop[i] < 0)
			ltop[i] = i;
	g->ltop = ltop;
	g->labels_done = true;
}

/*
 * Visit the ancestors of top through down_revisions (top included); with
 * out, store their declared labels there, else count them.
 */
static size_t
ancestor_labels(MgGraph *g, int top, const char **out)
{
	unsigned	st;
	unsigned	tick = 0;
	int			sp = 0;
	size_t		n = 0;

	walk_begin(g);
	st = new_stamp(g);

	g->mark[top] = st;
	g->stack[sp++] = top;
	while (sp > 0)
	{
		Rev		   *r = &g->revs[g->stack[--sp]];

		mg_poll_tick(&tick);
		for (int j = 0; j < r->nlabels; j++)
			if (out)
				out[n++] = r->labels[j];
			else
				n++;
		for (int j = 0; j < r->down.n; j++)
			if (g->mark[r->down.v[j]] != st)
			{
				g->mark[r->down.v[j]] = st;
				g->stack[sp++] = r->down.v[j];
			}
	}
	walk_end(g);
	return n;
}

/*
 * mg_rev_labels
 *		The labels rev carries, sorted.  Revisions of one tail segment share
 *		one list, and the list of the last segment asked for is kept: a
 *		listing of every revision costs the size of its output, and its
 *		memory is the longest list.
 */
int
mg_rev_labels(MgGraph *g, int rev, const char ***labels)
{
	int			top;
	size_t		n;

	mg_inherit_labels(g);
	MG_CHECK_INTERRUPTS();
	top = g->ltop[rev];
	if (g->lcache_top != top)
	{
		g->lcache_top = -1;
		n = ancestor_labels(g, top, NULL);
		if (n > (size_t) g->lcache_cap)
		{
			size_t		cap = (size_t) g->lcache_cap * 2;

			if (cap < n)
				cap = n;
			g->lcache = arena_alloc(&g->arena, sizeof(char *) * cap);
			g->lcache_cap = (int) cap;
		}
		ancestor_labels(g, top, g->lcache);
		if (n > 1)
			qsort(g->lcache, n, sizeof(char *), mg_strcmp_ptr);
		g->lcache_n = (int) n;
		g->lcache_top = top;
	}
	*labels = g->lcache_n > 0 ? g->lcache : NULL;
	return g->lcache_n;
}

/*
 * mg_rev_has_label
 *		Does rev carry label?  Its declarer must be an ancestor of ltop[rev];
 *		the descendants of the last declarer asked about are kept, as the
 *		callers test one label on many revisions.
 */
bool
mg_rev_has_label(MgGraph *g, int rev, const char *label)
{
	int			li = map_get(&g->label_index, label);
	int			d;

	if (li < 0)
		return false;
	mg_inherit_labels(g);
	d = g->label_rev[li];
	if (g->hl_rev != d)
	{
		g->hl_rev = -1;
		memset(g->hl_desc, 0, sizeof(uint64_t) * bits_words(g));
		mg_closure(g, &d, 1, E_NEXT, g->hl_desc);
		g->hl_rev = d;
	}
	return bit_test(g->hl_desc, g->ltop[rev]);
}
