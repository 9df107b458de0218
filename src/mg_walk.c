/*-------------------------------------------------------------------------
 *
 * mg_walk.c
 *	  Walks over a finished revision graph: closures along one kind of
 *	  edge, reachability through normalized down revisions, lineage.
 *
 * This file owns the graph traversals the other core files share, and with
 * them the use of the graph's walk scratch state (mark, stamp, stack; see
 * mg_core_int.h): each function here is one walk, bracketed by walk_begin()
 * and walk_end(), and calls no other walk while it runs.  Nothing here
 * builds messages or knows the target grammar.
 *
 *-------------------------------------------------------------------------
 */
#include "mg_core_int.h"

/* Add to set everything reachable from starts (inclusive) */
void
mg_closure(MgGraph *g, const int *starts, int n, EdgeKind k, Bits set)
{
	int			sp = 0;
	unsigned	tick = 0;

	walk_begin(g);
	for (int i = 0; i < n; i++)
		if (starts[i] >= 0 && !bit_test(set, starts[i]))
		{
			bit_set(set, starts[i]);
			g->stack[sp++] = starts[i];
		}
	while (sp > 0)
	{
		IntVec	   *e = edges(g, g->stack[--sp], k);

		mg_poll_tick(&tick);
		for (int j = 0; j < e->n; j++)
			if (!bit_test(set, e->v[j]))
			{
				bit_set(set, e->v[j]);
				g->stack[sp++] = e->v[j];
			}
	}
	walk_end(g);
}

/* mg_closure into a new set */
Bits
mg_closure_of(MgGraph *g, const int *starts, int n, EdgeKind k)
{
	Bits		set = bits_new(g);

	mg_closure(g, starts, n, k, set);
	return set;
}

/* Is anc an ancestor of x, or x itself (through normalized down revisions)? */
bool
mg_is_ancestor(MgGraph *g, int anc, int x)
{
	return walk_down_to(g, x, anc, NULL, -1) == 1;
}

/*
 * Lineage of one revision: its ancestors and descendants, with or without
 * dependency edges.  "Shares lineage with b" is membership in this set.
 */
Bits
mg_lineage_of(MgGraph *g, int rev, bool with_deps)
{
	Bits		set = bits_new(g);

	mg_closure(g, &rev, 1, with_deps ? E_NORM : E_DOWN, set);
	bit_clear(set, rev);
	mg_closure(g, &rev, 1, with_deps ? E_ALLNEXT : E_NEXT, set);
	return set;
}

