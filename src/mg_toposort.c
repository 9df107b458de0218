/*-------------------------------------------------------------------------
 *
 * mg_toposort.c
 *	  The topological sort of the revisions of a plan or a history range,
 *	  in Alembic's order.
 *
 * This file owns the order in which an upgrade, a downgrade or a history
 * listing visits revisions (mg_topo_sort).  It takes a set and its
 * starting points from its caller and knows nothing of targets, version
 * rows or messages; it cannot fail.
 *
 *-------------------------------------------------------------------------
 */
#include "mg_core_int.h"

typedef struct Slot
{
	int			rev;
	int			id;				/* creation number: list order */
	int			prev;			/* neighbours in the list of live slots */
	int			next;
	IntVec		members;		/* sorted; valid while sorting with sets */
	bool		filled;
} Slot;

typedef struct TopoState
{
	MgGraph    *g;
	Slot	   *slots;			/* every slot ever made; index = id */
	int			nmade;
	int			capslots;
	int			first;			/* live slots, a list in creation order */
	int			last;
	int			nlive;
	unsigned char *in_cur;		/* per revision: is it a live slot's? */
	Bits		todo;
	bool		full;
	Bits		scope;			/* full_ancestry: where ancestor walks may go */
	int		   *cnt;			/* full_ancestry: slots holding each revision */
	int		   *pending;		/* otherwise: children still to be emitted */
	int		   *slot_id;		/* slot id of each revision that is a slot */
} TopoState;

/*
 * Add delta to pending[] of each parent of x (through down_revisions or
 * dependencies, each parent once: the inverse of allnext) still in todo.
 */
static void
count_in_parents(TopoState *ts, int x, int delta)
{
	Rev		   *r = &ts->g->revs[x];

	for (int k = 0; k < r->down.n; k++)
		if (bit_test(ts->todo, r->down.v[k]))
			ts->pending[r->down.v[k]] += delta;
	for (int k = 0; k < r->deps.n; k++)
	{
		int			p = r->deps.v[k];

		if (!vec_contains(&r->down, p) && bit_test(ts->todo, p))
			ts->pending[p] += delta;
	}
}

/* Append a live slot holding revision rev to the list */
static void
new_slot(TopoState *ts, int rev)
{
	Slot	   *s;

	if (ts->nmade == ts->capslots)
	{
		Slot	   *ns = arena_alloc(&ts->g->arena, sizeof(Slot) * ts->capslots * 2);

		memcpy(ns, ts->slots, sizeof(Slot) * ts->nmade);
		ts->slots = ns;
		ts->capslots *= 2;
	}
	s = &ts->slots[ts->nmade];
	memset(s, 0, sizeof(Slot));
	s->rev = rev;
	s->id = ts->nmade;
	s->prev = ts->last;
	s->next = -1;
	if (ts->last >= 0)
		ts->slots[ts->last].next = ts->nmade;
	else
		ts->first = ts->nmade;
	ts->last = ts->nmade;
	ts->slot_id[rev] = ts->nmade;
	ts->in_cur[rev] = 1;
	ts->nmade++;
	ts->nlive++;
}

/*
 * first_slot_above
 *		Among the slots whose revision lies above cand, the one created first;
 *		-1 if none.  Walks up through revisions still to be emitted.
 */
static int
first_slot_above(TopoState *ts, int cand)
{
	MgGraph    *g = ts->g;
	unsigned	st;
	int			sp = 0;
	int			best = -1;

	walk_begin(g);
	st = new_stamp(g);
	g->mark[cand] = st;
	g->stack[sp++] = cand;
	while (sp > 0)
	{
		IntVec	   *e = &g->revs[g->stack[--sp]].allnext;

		mg_poll_tick(&mg_poll_counter);
		for (int j = 0; j < e->n; j++)
		{
			int			c = e->v[j];

			if (g->mark[c] == st || !bit_test(ts->todo, c))
				continue;
			g->mark[c] = st;
			if (ts->in_cur[c] && (best < 0 || ts->slot_id[c] < ts->slot_id[best]))
				best = c;
			g->stack[sp++] = c;
		}
	}
	walk_end(g);
	return best;
}

/* qsort comparator of ints */
static int
cmp_int(const void *a, const void *b)
{
	int			x = *(const int *) a,
				y = *(const int *) b;

	return (x > y) - (x < y);
}

/* Is v in the slot's sorted member set? */
static bool
slot_has(const Slot *s, int v)
{
	int			lo = 0,
				hi = s->members.n - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (s->members.v[mid] == v)
			return true;
		if (s->members.v[mid] < v)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return false;
}

/* Forget the slot's member set (and its counts in cnt[]) */
static void
slot_release(TopoState *ts, Slot *s)
{
	if (!s->filled)
		return;
	for (int i = 0; i < s->members.n; i++)
		ts->cnt[s->members.v[i]]--;
	s->members.n = 0;
	s->filled = false;
}

/*
 * Collect the slot's ancestors within todo (its revision included) as a
 * sorted set, walking through full_scope past revisions outside todo, and
 * count them in cnt[].  One walk.
 */
static void
slot_fill(TopoState *ts, Slot *s)
{
	MgGraph    *g = ts->g;
	unsigned	st;
	int			sp = 0;

	slot_release(ts, s);
	walk_begin(g);
	st = new_stamp(g);
	g->mark[s->rev] = st;
	g->stack[sp++] = s->rev;
	vec_push(g, &s->members, s->rev);
	while (sp > 0)
	{
		IntVec	   *e = &g->revs[g->stack[--sp]].norm;

		mg_poll_tick(&mg_poll_counter);
		for (int j = 0; j < e->n; j++)
		{
			int			p = e->v[j];

			if (g->mark[p] == st)
				continue;
			g->mark[p] = st;
			if (bit_test(ts->todo, p))
			{
				vec_push(g, &s->members, p);
				g->stack[sp++] = p;
			}
			else if (ts->full && bit_test(ts->scope, p))
				g->stack[sp++] = p;
		}
	}
	walk_end(g);
	qsort(s->members.v, s->members.n, sizeof(int), cmp_int);
	for (int i = 0; i < s->members.n; i++)
		ts->cnt[s->members.v[i]]++;
	s->filled = true;
}

/*
 * mg_topo_sort
 *		Alembic's _topological_sort, in the same order but without its
 *		quadratic cost.
 *
 *		Inputs: todo, the set of revisions to order (it is consumed: each
 *		revision's bit is cleared as it is emitted); heads and nheads, the
 *		starting points (those outside todo, and negative ones, are
 *		ignored); full_scope, NULL for an upgrade or downgrade set (every
 *		revision of todo lies below some head through revisions of todo),
 *		or, for a history range with a lower end, the revisions through
 *		which paths between members of todo may run.
 *		Output: out receives the revisions of todo reachable from the heads,
 *		tips first (an upgrade reverses it).
 *		Failure: none; the graph is acyclic (mg_graph_finish).
 *		Cost: for upgrade and downgrade sets, linear in todo and its edges
 *		plus a bounded walk where lines join; with full_scope, a sorted set
 *		per live slot, rebuilt at merge and branch points only.  Memory
 *		comes from the graph's arena.
 *
 *		How.  Alembic keeps, for each current head ("slot"), the set of its
 *		ancestors, and before emitting a candidate looks for the first other
 *		slot whose set contains it, that is, the first slot whose revision
 *		lies above the candidate.
 *
 *		For upgrade and downgrade sets, every revision not yet emitted lies
 *		below some slot, and a path from the candidate up to a slot runs
 *		through revisions not yet emitted.  So the candidate is blocked
 *		exactly when one of its children is still to be emitted (pending[]
 *		counts them), and only then do short walks down from the slots (or
 *		one walk up from the candidate) find the first slot above it.
 *
 *		History ranges with a lower end need not have that shape (the range
 *		may reach a revision only through revisions outside it), so there
 *		each slot keeps its ancestors within todo as a sorted array, found
 *		by walks through full_scope (the revisions above the lower end and
 *		below the upper end, where every path between two range members
 *		runs), and cnt[v] counts the slots holding v.  A plain step down a
 *		line (one down_revision, no dependencies) keeps the slot's set;
 *		other steps recompute it.
 */
void
mg_topo_sort(MgGraph *g, Bits todo, const int *heads, int nheads,
		  Bits full_scope, IntVec *out)
{
	bool		full_ancestry = full_scope != NULL;
	TopoState	ts;
	bool		with_sets = false;
	int			i;
	int		   *hs;
	int			nh = 0;

	ts.g = g;
	ts.todo = todo;
	ts.full = full_ancestry;
	ts.scope = full_scope;
	ts.cnt = NULL;
	ts.pending = NULL;
	ts.slot_id = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	ts.in_cur = arena_alloc(&g->arena, g->n + 1);
	ts.capslots = nheads + 4;
	ts.slots = arena_alloc(&g->arena, sizeof(Slot) * ts.capslots);
	ts.nmade = 0;
	ts.first = -1;
	ts.last = -1;
	ts.nlive = 0;
	if (full_ancestry)
		ts.cnt = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	else
	{
		ts.pending = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
		for (int x = 0; x < g->n; x++)
			if (bit_test(todo, x))
				count_in_parents(&ts, x, 1);
	}

	/* cur = sorted({h in heads if h in todo}, key=map order) */
	hs = arena_alloc(&g->arena, sizeof(int) * (nheads + 1));
	for (int k = 0; k < nheads; k++)
		if (heads[k] >= 0 && bit_test(todo, heads[k]))
			hs[nh++] = heads[k];
	qsort(hs, nh, sizeof(int), cmp_int);
	for (int k = 0; k < nh; k++)
		if (k == 0 || hs[k] != hs[k - 1])
			new_slot(&ts, hs[k]);
	if (full_ancestry && ts.nlive > 1)
	{
		with_sets = true;
		for (int k = ts.first; k >= 0; k = ts.slots[k].next)
			slot_fill(&ts, &ts.slots[k]);
	}

	i = ts.first;
	while (ts.nlive > 0)
	{
		int			cand = ts.slots[i].rev;
		int			j = -1;
		Rev		   *r;
		IntVec		add = {0};

		mg_poll_tick(&mg_poll_counter);
		if (with_sets && ts.cnt[cand] > 1)
		{
			for (int k = ts.first; k >= 0; k = ts.slots[k].next)
				if (k != i && slot_has(&ts.slots[k], cand))
				{
					j = k;
					break;
				}
		}
		else if (!full_ancestry && ts.pending[cand] > 0)
		{
			/*
			 * Ask the slots in order with a short walk down from each; the
			 * first one that reaches cand is the answer.  When a walk runs
			 * out of budget, one walk up from cand settles it instead.
			 */
			bool		settled = false;

			for (int k = ts.first; k >= 0 && !settled; k = ts.slots[k].next)
			{
				int			res;

				if (k == i)
					continue;
				res = walk_down_to(g, ts.slots[k].rev, cand, ts.todo, 64);
				if (res > 0)
				{
					j = k;
					settled = true;
				}
				else if (res < 0)
					break;
			}
			if (!settled)
			{
				int			above = first_slot_above(&ts, cand);

				if (above >= 0)
					j = ts.slot_id[above];
			}
		}
		if (j >= 0)
		{
			i = j;
			continue;
		}

		if (bit_test(todo, cand))
		{
			vec_push(g, out, cand);
			bit_clear(todo, cand);
			if (!full_ancestry)
				count_in_parents(&ts, cand, -1);
		}

		r = &g->revs[cand];
		for (int k = 0; k < r->norm.n; k++)
		{
			int			p = r->norm.v[k];

			if (bit_test(todo, p) && !ts.in_cur[p] && !vec_contains(&add, p))
				vec_push(g, &add, p);
		}
		ts.in_cur[cand] = 0;
		if (add.n == 0)
		{
			/* unlink; carry on with the previous slot, or the first */
			Slot	   *sl = &ts.slots[i];
			int			prev = sl->prev;

			slot_release(&ts, sl);
			if (sl->prev >= 0)
				ts.slots[sl->prev].next = sl->next;
			else
				ts.first = sl->next;
			if (sl->next >= 0)
				ts.slots[sl->next].prev = sl->prev;
			else
				ts.last = sl->prev;
			ts.nlive--;
			i = prev >= 0 ? prev : ts.first;
		}
		else if (r->deps.n == 0 && r->down.n == 1)
		{
			/* plain move down a line: the slot's set stays right */
			ts.slots[i].rev = add.v[0];
			ts.slot_id[add.v[0]] = i;
			ts.in_cur[add.v[0]] = 1;
		}
		else
		{
			int			first_new = ts.nmade;

			ts.slots[i].rev = add.v[0];
			ts.slot_id[add.v[0]] = i;
			ts.in_cur[add.v[0]] = 1;
			for (int k = 1; k < add.n; k++)
				new_slot(&ts, add.v[k]);
			if (full_ancestry && (with_sets || ts.nlive > 1))
			{
				if (!with_sets)
				{
					/* start keeping sets: fill every slot */
					with_sets = true;
					for (int k = ts.first; k >= 0; k = ts.slots[k].next)
						slot_fill(&ts, &ts.slots[k]);
				}
				else
				{
					slot_fill(&ts, &ts.slots[i]);
					for (int k = first_new; k < ts.nmade; k++)
						slot_fill(&ts, &ts.slots[k]);
				}
			}
		}
	}
}

