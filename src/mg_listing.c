/*-------------------------------------------------------------------------
 *
 * mg_listing.c
 *	  Listings over a finished graph and the version rows: current,
 *	  applied, show and history.
 *
 * This file owns the read-only questions about a migration state.  It
 * resolves text only through mg_target.c and orders revisions only
 * through mg_toposort.c; it never changes the graph or plans steps.
 *
 *-------------------------------------------------------------------------
 */
#include "mg_core_int.h"

/* Alembic's "current": the tips of the applied set */
MgList
mg_current(MgGraph *g, MgList rows)
{
	Bits		app = mg_closure_of(g, rows.items, rows.n, E_NORM);
	IntVec		out = {0};

	for (int i = 0; i < g->n; i++)
	{
		bool		tip = true;

		if (!bit_test(app, i))
			continue;
		for (int j = 0; j < g->revs[i].next.n && tip; j++)
			if (bit_test(app, g->revs[i].next.v[j]))
				tip = false;
		if (tip)
			vec_push(g, &out, i);
	}
	return vec_list(out);
}

/*
 * mg_is_applied_lenient
 *		Is the revision applied according to the given version rows?  Works
 *		on a graph that mg_graph_finish() rejected (dangling references,
 *		cycles), following the references that do resolve; rows that name no
 *		revision are ignored.  Used while a set of revisions is being registered.
 */
bool
mg_is_applied_lenient(MgGraph *g, const char *const *row_ids, int nrows,
					  const char *id)
{
	int			target = map_get(&g->ids, id);
	Bits		seen;
	int			sp = 0;

	if (target < 0)
		return false;
	seen = bits_new(g);
	walk_begin(g);
	for (int i = 0; i < nrows; i++)
	{
		int			r = map_get(&g->ids, row_ids[i]);

		if (r >= 0 && !bit_test(seen, r))
		{
			bit_set(seen, r);
			g->stack[sp++] = r;
		}
	}
	while (sp > 0)
	{
		Rev		   *r = &g->revs[g->stack[--sp]];

		mg_poll_tick(&mg_poll_counter);
		for (int k = 0; k < 2; k++)
		{
			IntVec	   *e = k == 0 ? &r->down : &r->deps;

			for (int j = 0; j < e->n; j++)
				if (!bit_test(seen, e->v[j]))
				{
					bit_set(seen, e->v[j]);
					g->stack[sp++] = e->v[j];
				}
		}
	}
	walk_end(g);
	return bit_test(seen, target);
}

/* The applied set of rows, one flag per revision, in the graph's arena */
bool *
mg_applied(MgGraph *g, MgList rows)
{
	Bits		app = mg_closure_of(g, rows.items, rows.n, E_NORM);
	bool	   *out = arena_alloc(&g->arena, sizeof(bool) * (g->n + 1));

	for (int i = 0; i < g->n; i++)
		out[i] = bit_test(app, i);
	return out;
}

/* What a symbol names (migrate_show): its revisions, base left out */
bool
mg_show(MgGraph *g, const char *symbol, MgList *out, MgError *err)
{
	IntVec		v = {0};
	IntVec		res = {0};

	if (!mg_get_revisions(g, symbol, &v, err))
		return false;
	for (int i = 0; i < v.n; i++)
		if (v.v[i] >= 0)
			vec_push(g, &res, v.v[i]);
	*out = vec_list(res);
	return true;
}

/*
 * mg_history
 *		Alembic's walk_revisions(base, head): the revisions of a history
 *		range (see mg_parse_history_range for its grammar), newest first.
 *		The range holds what lies at or below its upper end, minus what
 *		lies below its lower end, restricted to descendants of the lower
 *		end (the lower end included).
 *
 *		Returns false with err filled when the range does not parse or does
 *		not follow one line of descent; otherwise *out lists the range in
 *		topological order (memory of the graph's arena).  Cost: a few
 *		closures and one topological sort.
 */
bool
mg_history(MgGraph *g, MgList rowlist, const char *range, MgList *out,
		   MgError *err)
{
	IntVec		rows = list_vec(rowlist);
	HistoryRange hr;
	IntVec		targets;
	IntVec		current;
	Bits		required;
	Bits		below;
	Bits		needs;
	Bits		scope = NULL;
	IntVec		order = {0};

	if (!mg_parse_history_range(g, &rows, range, &hr, err))
		return false;
	targets = hr.upper;
	current = hr.lower;
	required = hr.required;
	below = mg_closure_of(g, current.v, current.n, E_NORM);
	needs = bits_new(g);
	for (int i = 0; i < g->n; i++)
		if (bit_test(required, i) && !bit_test(below, i))
			bit_set(needs, i);
	/* inclusive: the lower end itself */
	for (int i = 0; i < current.n; i++)
		bit_set(needs, current.v[i]);
	if (current.n > 0)
	{
		Bits		desc = mg_closure_of(g, current.v, current.n, E_NEXT);

		for (int w = 0; w < (g->n + 63) / 64; w++)
			needs[w] &= desc[w];
	}
	/*
	 * Without a lower end the range is everything below its upper end, which
	 * has the shape of an upgrade set; a lower end cuts it to descendants
	 * through down_revisions, which dependency edges may bypass.
	 */
	if (current.n > 0)
	{
		/*
		 * Paths between range members run through revisions above the lower
		 * end and below the upper end.  When all of those are in the range
		 * (nothing reaches it only through a dependency), the range has the
		 * shape of an upgrade set and the cheaper sort applies.
		 */
		bool		whole = true;

		scope = bits_new(g);
		for (int w = 0; w < (g->n + 63) / 64; w++)
		{
			scope[w] = required[w] & ~below[w];
			if (scope[w] & ~needs[w])
				whole = false;
		}
		if (whole)
			scope = NULL;
	}
	mg_topo_sort(g, needs, targets.v, targets.n, scope, &order);
	*out = vec_list(order);
	return true;
}
