/*-------------------------------------------------------------------------
 *
 * mg_plan.c
 *	  Plans: the steps of an upgrade, a downgrade or a stamp, and the
 *	  version-table operations after each step (Alembic's HeadMaintainer,
 *	  _stamp_revs and StampStep).
 *
 * This file owns how the version table changes: it takes targets already
 * parsed by mg_target.c and an order from mg_toposort.c, and produces an
 * MgPlan.  It does not parse target text, and it touches no database: the
 * backend applies the plan's operations.
 *
 *-------------------------------------------------------------------------
 */
#include "mg_core_int.h"

/* ----------------------------------------------------------------
 * Version-table maintenance (Alembic's HeadMaintainer)
 * ----------------------------------------------------------------
 */

/* The version-table operations of one step, in order */
typedef struct OpVec
{
	MgOp	   *v;
	int			n;
	int			cap;
} OpVec;

/* The version table while a plan is made, and the current step's changes */
typedef struct Heads
{
	IntVec		rows;			/* current rows */
	int		   *pos;			/* per revision: index in rows + 1, or 0 */
	OpVec		ops;			/* operations of the current step */
} Heads;

/* Is revision x (MG_NONE: never) a row of the version table? */
static bool
heads_has(const Heads *h, int x)
{
	return x >= 0 && h->pos[x] != 0;
}

/* Add row x; the caller knows it is not there */
static void
heads_add(MgGraph *g, Heads *h, int x)
{
	vec_push(g, &h->rows, x);
	h->pos[x] = h->rows.n;
}

/* Remove by moving the last row into the hole: rows form a set */
static void
heads_remove(Heads *h, int x)
{
	int			at = h->pos[x] - 1;
	int			last = h->rows.v[h->rows.n - 1];

	h->rows.v[at] = last;
	h->pos[last] = at + 1;
	h->rows.n--;
	h->pos[x] = 0;
}

/* Record an operation of the current step */
static void
push_op(MgGraph *g, Heads *h, MgOpKind kind, int a, int b)
{
	OpVec	   *o = &h->ops;

	if (o->n == o->cap)
	{
		int			ncap = o->cap ? o->cap * 2 : 4;
		MgOp	   *nv = arena_alloc(&g->arena, sizeof(MgOp) * ncap);

		if (o->n)
			memcpy(nv, o->v, sizeof(MgOp) * o->n);
		o->v = nv;
		o->cap = ncap;
	}
	o->v[o->n].kind = kind;
	o->v[o->n].a = a;
	o->v[o->n].b = b;
	o->n++;
}

/* The three operations: change the rows and record the change */
static void
op_insert(MgGraph *g, Heads *h, int x)
{
	heads_add(g, h, x);
	push_op(g, h, MG_OP_INSERT, x, -1);
}

static void
op_delete(MgGraph *g, Heads *h, int x)
{
	heads_remove(h, x);
	push_op(g, h, MG_OP_DELETE, x, -1);
}

static void
op_update(MgGraph *g, Heads *h, int from, int to)
{
	int			at = h->pos[from] - 1;

	h->rows.v[at] = to;
	h->pos[from] = 0;
	h->pos[to] = at + 1;
	push_op(g, h, MG_OP_UPDATE, from, to);
}

/*
 * update_for_upgrade
 *		Rows after upgrading r.  With a minimal row set, the rows that r
 *		supersedes are exactly its normalized down revisions present as rows.
 */
static void
update_for_upgrade(MgGraph *g, Heads *h, int r)
{
	IntVec	   *d = &g->revs[r].norm;
	int			last = -1;

	for (int i = 0; i < d->n; i++)
		if (heads_has(h, d->v[i]))
		{
			if (last >= 0)
				op_delete(g, h, last);
			last = d->v[i];
		}
	if (last < 0)
		op_insert(g, h, r);		/* a base, or parents implied elsewhere */
	else
		op_update(g, h, last, r);
}

/*
 * update_for_downgrade
 *		Rows after downgrading r: r's normalized down revisions come back,
 *		except those implied by another row or by another of them (the
 *		consistent rule of doc/semantics.md §12.1, on downgrades).
 *
 *		With a minimal row set, a parent x of r is implied exactly when some
 *		applied revision other than r has x as a normalized down revision:
 *		that child lies below another row, or below another parent of r.
 *		children[x] counts the applied children of x, so each step costs
 *		the number of r's parents.
 */
static void
update_for_downgrade(MgGraph *g, Heads *h, int *children, int r)
{
	IntVec	   *d = &g->revs[r].norm;
	IntVec		back = {0};

	for (int i = 0; i < d->n; i++)
		children[d->v[i]]--;
	for (int i = 0; i < d->n; i++)
		if (children[d->v[i]] == 0)
			vec_push(g, &back, d->v[i]);
	if (back.n == 0)
		op_delete(g, h, r);
	else
	{
		for (int i = 0; i < back.n - 1; i++)
			op_insert(g, h, back.v[i]);
		op_update(g, h, r, back.v[back.n - 1]);
	}
}

/*
 * Close the current step: append a step running rev in direction dir to
 * plan, with the operations recorded since the last step (h->ops, which
 * starts empty again).  cap is the capacity of plan->steps.
 */
static void
plan_add_step(MgGraph *g, MgPlan *plan, int *cap, MgDirection dir, int rev,
			  Heads *h)
{
	MgStep	   *s;

	if (plan->nsteps == *cap)
	{
		int			ncap = *cap ? *cap * 2 : 16;
		MgStep	   *ns = arena_alloc(&g->arena, sizeof(MgStep) * ncap);

		if (plan->nsteps)
			memcpy(ns, plan->steps, sizeof(MgStep) * plan->nsteps);
		plan->steps = ns;
		*cap = ncap;
	}
	s = &plan->steps[plan->nsteps++];
	s->direction = dir;
	s->rev = rev;
	s->nops = h->ops.n;
	s->ops = arena_alloc(&g->arena, sizeof(MgOp) * (s->nops + 1));
	if (s->nops)
		memcpy(s->ops, h->ops.v, sizeof(MgOp) * s->nops);
	h->ops.n = 0;
}

/* An empty plan, and the version table as rows (duplicates dropped) */
static void
plan_init(MgGraph *g, MgPlan *plan, Heads *h, MgList rows)
{
	memset(plan, 0, sizeof(MgPlan));
	memset(h, 0, sizeof(Heads));
	h->pos = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	for (int i = 0; i < rows.n; i++)
		if (!heads_has(h, rows.items[i]))
			heads_add(g, h, rows.items[i]);
}

/* The rows after the last step become the plan's final rows */
static void
plan_finish(MgPlan *plan, Heads *h)
{
	plan->final_rows.items = h->rows.v;
	plan->final_rows.n = h->rows.n;
}

/* ----------------------------------------------------------------
 * Rows, upgrade, downgrade
 * ----------------------------------------------------------------
 */

/* mg_resolve_rows: see mg_core.h */
bool
mg_resolve_rows(MgGraph *g, const char *const *ids, int n, MgList *rows,
				MgError *err)
{
	int		   *items = arena_alloc(&g->arena, sizeof(int) * (n + 1));

	for (int i = 0; i < n; i++)
	{
		int			r = map_get(&g->ids, ids[i]);

		if (r < 0)
			return mg_set_error(err, MG_E_STATE,
							 mg_gprintf(g, "version table contains unrecognized revision \"%s\"", mg_shown(g, ids[i])),
							 mg_gprintf(g, "Revision \"%s\" is listed in migrate_version but is not registered.",
									 mg_shown(g, ids[i])),
							 mg_gprintf(g, "Register the revision, or reset the version table with migrate_stamp(..., purge => true)."));
		items[i] = r;
	}
	rows->items = items;
	rows->n = n;
	return true;
}

/*
 * mg_plan_upgrade
 *		Plan migrate_upgrade(target) from the version rows: the revisions at
 *		or below the target's revisions that are not applied, oldest first
 *		(Alembic's order), each with the version-table operations after it.
 *
 *		target is any upgrade target of the grammar (mg_target.c), not a
 *		range.  Fails with err filled (false) when the rows hold a revision
 *		and its ancestor, when the target does not resolve, or when its
 *		revisions overlap.  Cost: two closures and one topological sort,
 *		linear in the graph; memory from the graph's arena.
 */
bool
mg_plan_upgrade(MgGraph *g, MgList rowlist, const char *target, MgPlan *plan,
				MgError *err)
{
	IntVec		rows = list_vec(rowlist);
	IntVec		targets = {0};
	Bits		required;
	Bits		applied;
	Bits		needs;
	IntVec		order = {0};
	Heads		h;
	int			cap = 0;

	if (strchr(target, ':'))
		return mg_set_error(err, MG_E_INVALID_TARGET,
						 mg_gprintf(g, "upgrade target \"%s\" cannot be a range", mg_shown(g, target)),
						 NULL,
						 mg_gprintf(g, "Ranges are accepted by migrate_history() only."));
	if (!mg_check_overlap(g, &rows, true, err))
		return false;
	if (!mg_parse_upgrade_target(g, &rows, target, true, &targets, err))
		return false;
	if (!mg_check_overlap(g, &targets, false, err))
		return false;

	required = mg_closure_of(g, targets.v, targets.n, E_NORM);
	applied = mg_closure_of(g, rows.v, rows.n, E_NORM);
	needs = bits_new(g);
	for (int i = 0; i < g->n; i++)
		if (bit_test(required, i) && !bit_test(applied, i))
			bit_set(needs, i);

	mg_topo_sort(g, needs, targets.v, targets.n, NULL, &order);

	plan_init(g, plan, &h, rowlist);
	for (int k = order.n - 1; k >= 0; k--)
	{
		update_for_upgrade(g, &h, order.v[k]);
		plan_add_step(g, plan, &cap, MG_UPGRADE, order.v[k], &h);
	}
	plan_finish(plan, &h);
	return true;
}

/*
 * mg_plan_downgrade
 *		Plan migrate_downgrade(target) from the version rows: the applied
 *		revisions above the target (every applied revision for base),
 *		newest first, each with the version-table operations after it.
 *		A "branch@target" keeps the revisions of that branch when the target
 *		has several roots above it, as Alembic counts them (one per map key
 *		of a base).
 *
 *		Fails with err filled (false) for a range, rows holding a revision
 *		and its ancestor, a target that does not resolve or is not applied,
 *		a branch with nothing above the target, or an applied revision that
 *		is not reachable as a head (an inconsistent version table).  Cost:
 *		closures and one topological sort, linear in the graph.
 */
bool
mg_plan_downgrade(MgGraph *g, MgList rowlist, const char *target, MgPlan *plan,
				  MgError *err)
{
	IntVec		rows = list_vec(rowlist);
	const char *branch;
	int			trev;
	IntVec		roots = {0};
	int			nkeys;
	int		   *children;
	Bits		down;
	Bits		active;
	int			ndown = 0;
	IntVec		order = {0};
	Heads		h;
	int			cap = 0;

	if (strchr(target, ':'))
		return mg_set_error(err, MG_E_INVALID_TARGET,
						 mg_gprintf(g, "downgrade target \"%s\" cannot be a range", mg_shown(g, target)),
						 NULL,
						 mg_gprintf(g, "Ranges are accepted by migrate_history() only."));
	if (!mg_check_overlap(g, &rows, true, err))
		return false;
	if (!mg_parse_downgrade_target(g, &rows, target, &branch, &trev, err))
		return false;

	if (trev < 0)
	{
		for (int i = 0; i < g->n; i++)
			if (g->revs[i].down.n == 0)
				vec_push(g, &roots, i);
	}
	else
		for (int i = 0; i < g->revs[trev].next.n; i++)
			vec_push(g, &roots, g->revs[trev].next.v[i]);

	/*
	 * Alembic collects the roots of "base" from every map key, so a base
	 * that declares branch labels counts once per key; only then is the
	 * branch filter applied.  Count the same way.
	 */
	nkeys = roots.n;
	if (trev < 0)
		for (int i = 0; i < roots.n; i++)
			nkeys += g->revs[roots.v[i]].nlabels;
	if (branch && nkeys > 1)
	{
		int			b;
		Bits		anc;
		int			k = 0;

		if (!mg_resolve_branch(g, branch, &b, err))
			return false;
		anc = mg_closure_of(g, &b, 1, E_DOWN);
		for (int i = 0; i < roots.n; i++)
			if (bit_test(anc, roots.v[i]))
				roots.v[k++] = roots.v[i];
		roots.n = k;
		if (roots.n == 0)
			return mg_set_error(err, MG_E_INVALID_TARGET,
							 mg_gprintf(g, "cannot downgrade to \"%s\"", mg_shown(g, target)),
							 mg_gprintf(g, "No revision above the target belongs to branch \"%s\".", mg_shown(g, branch)),
							 NULL);
	}

	down = mg_closure_of(g, roots.v, roots.n, E_ALLNEXT);
	active = mg_closure_of(g, rows.v, rows.n, E_NORM);
	for (int i = 0; i < g->n; i++)
	{
		if (bit_test(down, i) && !bit_test(active, i))
			bit_clear(down, i);
		if (bit_test(down, i))
			ndown++;
	}
	if (trev >= 0 && ndown == 0 && !vec_contains(&rows, trev))
		return mg_set_error(err, MG_E_INVALID_TARGET,
						 mg_gprintf(g, "cannot downgrade to \"%s\"", mg_shown(g, target)),
						 rows.n == 0 ?
						 mg_gprintf(g, "Revision \"%s\" is not applied: the version table is empty.", g->revs[trev].id) :
						 mg_gprintf(g, "Revision \"%s\" is not below the current heads %s.",
								 g->revs[trev].id, mg_id_list(g, rows.v, rows.n)),
						 mg_gprintf(g, "A downgrade target must be an applied revision or \"base\"."));

	mg_topo_sort(g, down, rows.v, rows.n, NULL, &order);

	/* applied children of every revision, for update_for_downgrade */
	children = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	for (int i = 0; i < g->n; i++)
		if (bit_test(active, i))
			for (int k = 0; k < g->revs[i].norm.n; k++)
				children[g->revs[i].norm.v[k]]++;

	plan_init(g, plan, &h, rowlist);
	for (int k = 0; k < order.n; k++)
	{
		if (!heads_has(&h, order.v[k]))
			return mg_set_error(err, MG_E_STATE,
							 mg_gprintf(g, "cannot downgrade revision \"%s\"", g->revs[order.v[k]].id),
							 mg_gprintf(g, "Revision \"%s\" is applied but is not a current head.", g->revs[order.v[k]].id),
							 NULL);
		update_for_downgrade(g, &h, children, order.v[k]);
		plan_add_step(g, plan, &cap, MG_DOWNGRADE, order.v[k], &h);
	}
	plan_finish(plan, &h);
	return true;
}

/*
 * mg_plan_stamp
 *		Plan migrate_stamp(targets): only version rows change, no revision
 *		runs (Alembic's _stamp_revs and StampStep).  Each destination gives
 *		one step: it replaces the rows of its lineage (an ancestor or a
 *		descendant row is updated to it, further ones deleted), or is
 *		inserted when none is a row; base deletes the rows of its lineage,
 *		one step per row.  With purge the plan starts from an empty table,
 *		which the caller empties first.
 *
 *		Fails with err filled (false) when a target is a range, relative or
 *		does not resolve.  Cost: one ancestry test per pair of destination
 *		and row.
 */
bool
mg_plan_stamp(MgGraph *g, MgList rowlist, const char *const *targets,
			  int ntargets, bool purge, MgPlan *plan, MgError *err)
{
	IntVec		rows = list_vec(rowlist);
	IntVec		filtered = {0};
	IntVec		dests = {0};
	Heads		h;
	int			cap = 0;
	MgList		start = rowlist;

	if (purge)
	{
		rows.n = 0;
		start.n = 0;
	}
	if (!mg_parse_stamp_targets(g, &rows, targets, ntargets, &filtered, &dests,
								err))
		return false;

	/* with purge the caller empties the version table first */
	plan_init(g, plan, &h, start);
	for (int k = 0; k < dests.n; k++)
	{
		int			dest = dests.v[k];
		bool		desc = false,
					anc = false;

		if (dest < 0)
		{
			for (int i = 0; i < filtered.n; i++)
			{
				if (!heads_has(&h, filtered.v[i]))
					continue;
				op_delete(g, &h, filtered.v[i]);
				plan_add_step(g, plan, &cap, MG_STAMP, MG_NONE, &h);
			}
			continue;
		}
		if (vec_contains(&filtered, dest))
			continue;
		for (int i = 0; i < filtered.n; i++)
		{
			if (mg_is_ancestor(g, dest, filtered.v[i]))
				desc = true;
			else if (mg_is_ancestor(g, filtered.v[i], dest))
				anc = true;
		}
		if (desc || anc)
		{
			bool		missing = false;

			for (int i = 0; i < filtered.n; i++)
				if (!heads_has(&h, filtered.v[i]))
					missing = true;
			if (!desc && missing && !heads_has(&h, dest))
				op_insert(g, &h, dest);
			else
			{
				int			last = -1;

				for (int i = 0; i < filtered.n; i++)
				{
					if (!heads_has(&h, filtered.v[i]))
						continue;
					if (last >= 0)
						op_delete(g, &h, last);
					last = filtered.v[i];
				}
				if (last >= 0 && !heads_has(&h, dest))
					op_update(g, &h, last, dest);
				else if (last >= 0)
					op_delete(g, &h, last);
				else if (!heads_has(&h, dest))
					op_insert(g, &h, dest);
			}
		}
		else if (!heads_has(&h, dest))
			op_insert(g, &h, dest);
		plan_add_step(g, plan, &cap, MG_STAMP, dest, &h);
	}
	plan_finish(plan, &h);
	return true;
}


/*
 * mg_plan_reverse
 *		The plan undoing an upgrade plan (see mg_core.h): step i of down
 *		undoes step n-1-i of up.  Linear in the steps and operations.
 */
void
mg_plan_reverse(MgGraph *g, const MgPlan *up, MgList start_rows, MgPlan *down)
{
	int			n = up->nsteps;

	down->nsteps = n;
	down->steps = arena_alloc(&g->arena, sizeof(MgStep) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		const MgStep *us = &up->steps[n - 1 - i];
		MgStep	   *ds = &down->steps[i];

		ds->direction = MG_DOWNGRADE;
		ds->rev = us->rev;
		ds->nops = us->nops;
		ds->ops = arena_alloc(&g->arena, sizeof(MgOp) * (us->nops + 1));
		for (int k = 0; k < us->nops; k++)
		{
			const MgOp *op = &us->ops[us->nops - 1 - k];
			MgOp	   *inv = &ds->ops[k];

			switch (op->kind)
			{
				case MG_OP_INSERT:
					*inv = (MgOp) {MG_OP_DELETE, op->a, op->b};
					break;
				case MG_OP_DELETE:
					*inv = (MgOp) {MG_OP_INSERT, op->a, op->b};
					break;
				case MG_OP_UPDATE:
					*inv = (MgOp) {MG_OP_UPDATE, op->b, op->a};
					break;
			}
		}
	}
	down->final_rows.n = start_rows.n;
	down->final_rows.items = arena_alloc(&g->arena, sizeof(int) * (start_rows.n + 1));
	for (int k = 0; k < start_rows.n; k++)
		down->final_rows.items[k] = start_rows.items[k];
}
