/*-------------------------------------------------------------------------
 *
 * mg_target.c
 *	  The target grammar, whole: what a target, a symbol or a history range
 *	  names in a finished graph (Alembic's get_revision(s),
 *	  _resolve_revision_number, _parse_upgrade_target,
 *	  _parse_downgrade_target, _stamp_revs and the range of
 *	  walk_revisions; doc/semantics.md §7).
 *
 *	  symbol		id, unique id prefix (keys longer than three characters),
 *					branch label, "heads", "head", "base"
 *	  branch@sym	sym within the lineage of a branch (label, id or prefix)
 *	  [branch@][sym]+N / -N
 *					relative steps up or down; without sym, from the current
 *					rows
 *	  start:end		a history range (migrate_history only)
 *
 * This file owns parsing and resolution: it turns text into revision
 * indexes or an MgError, and never plans, changes version rows or orders
 * revisions (mg_plan.c and mg_toposort.c do).  Results may hold MG_NONE
 * and MG_AT_BASE; see mg_core_int.h for where each is legal.
 *
 *-------------------------------------------------------------------------
 */
#include "mg_core_int.h"

/* ----------------------------------------------------------------
 * Symbols (Alembic's get_revision / get_revisions)
 * ----------------------------------------------------------------
 */

static bool resolve_ident(MgGraph *g, const char *text, const char *branch,
						  int *out, MgError *err);

/*
 * resolve_branch
 *		The revision a branch name stands for: the declarer of a label, a
 *		revision id, or a unique prefix.
 */
bool
mg_resolve_branch(MgGraph *g, const char *branch, int *out, MgError *err)
{
	int			r = map_get(&g->keys, branch);

	if (r >= 0)
	{
		*out = r;
		return true;
	}
	if (!resolve_ident(g, branch, NULL, out, err))
		return mg_set_error(err, MG_E_UNDEFINED,
						 mg_gprintf(g, "branch \"%s\" does not exist", mg_shown(g, branch)),
						 mg_gprintf(g, "No branch label, revision id or unique id prefix matches \"%s\".",
								 mg_shown(g, branch)),
						 NULL);
	return true;
}

/*
 * filter_lineage
 *		Keep the revisions of list that share lineage with the branch.
 */
bool
mg_filter_lineage(MgGraph *g, IntVec *list, const char *branch, bool with_deps,
			   MgError *err)
{
	int			b;
	Bits		lin;
	int			k = 0;

	if (!mg_resolve_branch(g, branch, &b, err))
		return false;
	lin = mg_lineage_of(g, b, with_deps);
	bit_set(lin, b);
	for (int i = 0; i < list->n; i++)
		if (list->v[i] >= 0 && bit_test(lin, list->v[i]))
			list->v[k++] = list->v[i];
	list->n = k;
	return true;
}

/*
 * resolve_ident
 *		An exact id or label, or a unique prefix of one (only keys longer than
 *		three characters are prefix candidates).  With a branch, prefix
 *		candidates are first narrowed to the branch's lineage, and the result
 *		must share its lineage.
 */
static bool
resolve_ident(MgGraph *g, const char *text, const char *branch, int *out,
			  MgError *err)
{
	int			rev = map_get(&g->keys, text);
	int			branch_rev = -1;
	Bits		lin = NULL;

	if (branch)
	{
		if (!mg_resolve_branch(g, branch, &branch_rev, err))
			return false;
		lin = mg_lineage_of(g, branch_rev, false);
		bit_set(lin, branch_rev);
	}

	if (rev < 0)
	{
		size_t		len = strlen(text);
		const char **cands = NULL;
		int			ncands = 0;
		int			capc = 0;

		for (int i = 0; i < g->keys.cap; i++)
		{
			const char *key = g->keys.slots[i].key;

			if (key == NULL || strlen(key) <= 3 || strncmp(key, text, len) != 0)
				continue;
			if (lin && !bit_test(lin, g->keys.slots[i].val))
				continue;
			if (ncands == capc)
			{
				const char **nc;

				capc = capc ? capc * 2 : 8;
				nc = arena_alloc(&g->arena, sizeof(char *) * capc);
				if (ncands)
					memcpy(nc, cands, sizeof(char *) * ncands);
				cands = nc;
			}
			cands[ncands++] = key;
		}
		if (ncands == 0)
			return mg_set_error(err, MG_E_UNDEFINED,
							 mg_gprintf(g, "revision \"%s\" does not exist", mg_shown(g, text)),
							 branch ?
							 mg_gprintf(g, "No revision id, branch label or unique id prefix in the lineage of branch \"%s\" matches \"%s\".",
									 mg_shown(g, branch), mg_shown(g, text)) :
							 mg_gprintf(g, "No revision id, branch label or unique id prefix matches \"%s\".",
									 mg_shown(g, text)),
							 len < 4 ?
							 mg_gprintf(g, "Prefixes match only revision ids and labels longer than three characters.") :
							 NULL);
		if (ncands > 1)
		{
			Buf			b;
			int			shown_n = ncands > 10 ? 10 : ncands;

			qsort(cands, ncands, sizeof(char *), mg_strcmp_ptr);
			mg_buf_init(&b, g);
			mg_buf_printf(&b, "Prefix \"%s\" matches ", mg_shown(g, text));
			for (int i = 0; i < shown_n; i++)
				mg_buf_printf(&b, "%s\"%s\"", i == 0 ? "" : (i == ncands - 1 ? " and " : ", "),
						   cands[i]);
			if (shown_n < ncands)
				mg_buf_printf(&b, " and %d more", ncands - shown_n);
			mg_buf_printf(&b, ".");
			return mg_set_error(err, MG_E_AMBIGUOUS,
							 mg_gprintf(g, "revision prefix \"%s\" is ambiguous", mg_shown(g, text)),
							 b.data,
							 mg_gprintf(g, "Give more characters of the revision id."));
		}
		rev = map_get(&g->keys, cands[0]);
	}

	if (lin && !bit_test(lin, rev))
		return mg_set_error(err, MG_E_INVALID_TARGET,
						 mg_gprintf(g, "revision \"%s\" is not a member of branch \"%s\"",
								 g->revs[rev].id, mg_shown(g, branch)),
						 mg_gprintf(g, "Revision \"%s\" is neither an ancestor nor a descendant of revision \"%s\".",
								 g->revs[rev].id, g->revs[branch_rev].id),
						 NULL);
	*out = rev;
	return true;
}

/*
 * A symbol resolved by Alembic's _resolve_revision_number: either a list of
 * revisions (heads, head, base) or one text to resolve with resolve_ident.
 */
typedef struct Resolved
{
	const char *branch;			/* NULL if none */
	const char *text;			/* NULL when revs holds the result */
	IntVec		revs;
} Resolved;

/* The HINT of every "several heads" error */
static char *
multiple_heads_hint(MgGraph *g)
{
	return mg_gprintf(g, "Use \"heads\" to target all heads, or \"<branch>@head\" to target the head of one branch.");
}

/* Alembic's get_current_head(branch): the one head (of the branch) */
static bool
current_head(MgGraph *g, const char *branch, const char *argument, IntVec *out,
			 MgError *err)
{
	IntVec		heads = {0};

	for (int i = 0; i < g->heads.n; i++)
		vec_push(g, &heads, g->heads.v[i]);
	if (branch && !mg_filter_lineage(g, &heads, branch, false, err))
		return false;
	if (heads.n > 1)
		return mg_set_error(err, MG_E_MULTIPLE_HEADS,
						 mg_gprintf(g, "target \"%s\" matches several head revisions", mg_shown(g, argument)),
						 mg_gprintf(g, "The heads are %s.", mg_id_list(g, heads.v, heads.n)),
						 multiple_heads_hint(g));
	out->n = 0;
	if (heads.n == 1)
		vec_push(g, out, heads.v[0]);
	return true;
}

/* A target with nothing before or after "@" */
static bool
bad_branch_syntax(MgGraph *g, const char *argument, MgError *err)
{
	return mg_set_error(err, MG_E_INVALID_TARGET,
					 mg_gprintf(g, "invalid target \"%s\"", mg_shown(g, argument)),
					 mg_gprintf(g, "A branch name and a revision must stand on both sides of \"@\", as in \"<branch>@head\"."),
					 NULL);
}

/*
 * resolve_number
 *		Alembic's _resolve_revision_number: split "branch@" off sym and
 *		resolve the words "heads", "head" and "base" (within the branch when
 *		one is given) into res->revs; any other text is left in res->text
 *		for resolve_ident.  argument is the whole target, for messages.
 *		Returns false with err filled on a bad "@", an empty target, a
 *		branch that does not resolve, or "head" with several heads.
 */
static bool
resolve_number(MgGraph *g, const char *sym, const char *argument, Resolved *res,
			   MgError *err)
{
	const char *at = strchr(sym, '@');

	memset(res, 0, sizeof(Resolved));
	if (at)
	{
		if (at == sym || at[1] == '\0')
			return bad_branch_syntax(g, argument, err);
		res->branch = mg_dup_range(g, sym, (size_t) (at - sym));
		sym = at + 1;
	}
	if (*sym == '\0')
		return mg_set_error(err, MG_E_INVALID_TARGET,
						 mg_gprintf(g, "target must not be empty"), NULL, NULL);
	if (strcmp(sym, "heads") == 0)
	{
		if (res->branch)
		{
			for (int i = 0; i < g->heads.n; i++)
				vec_push(g, &res->revs, g->heads.v[i]);
			return mg_filter_lineage(g, &res->revs, res->branch, false, err);
		}
		for (int i = 0; i < g->real_heads.n; i++)
			vec_push(g, &res->revs, g->real_heads.v[i]);
		return true;
	}
	if (strcmp(sym, "head") == 0)
		return current_head(g, res->branch, argument, &res->revs, err);
	if (strcmp(sym, "base") == 0)
		return true;
	res->text = sym;
	return true;
}

/* Parse an optionally signed decimal up to 10^9; false if not an integer */
static bool
parse_int(const char *s, long *out)
{
	long		v = 0;
	int			sign = 1;

	if (*s == '-' || *s == '+')
	{
		sign = *s == '-' ? -1 : 1;
		s++;
	}
	if (*s == '\0')
		return false;
	for (; *s; s++)
	{
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > 1000000000L)
			return false;
	}
	*out = sign * v;
	return true;
}

static bool walk(MgGraph *g, int start, long steps, const char *branch,
				 bool no_overwalk, const char *argument, int *out, bool *overwalk,
				 MgError *err);

/*
 * mg_get_revisions
 *		Alembic's get_revisions: all revisions a symbol names, appended to
 *		out.  "[branch@]-N" walks down N steps from each real head (of the
 *		branch); a walk that goes off the graph gives MG_NONE, one that
 *		stops exactly at base MG_AT_BASE.  Returns false with err filled
 *		when the symbol does not resolve.
 */
bool
mg_get_revisions(MgGraph *g, const char *sym, IntVec *out, MgError *err)
{
	Resolved	res;
	long		n;
	int			rev;

	if (!resolve_number(g, sym, sym, &res, err))
		return false;
	if (res.text == NULL)
	{
		for (int i = 0; i < res.revs.n; i++)
			vec_push(g, out, res.revs.v[i]);
		return true;
	}
	if (parse_int(res.text, &n) && n < 0)
	{
		for (int i = 0; i < g->real_heads.n; i++)
		{
			int			h = g->real_heads.v[i];
			bool		over;

			if (res.branch && !mg_rev_has_label(g, h, res.branch))
				continue;
			if (!walk(g, h, n, NULL, true, sym, &rev, &over, err))
				return false;
			vec_push(g, out, over ? MG_NONE : rev);
		}
		return true;
	}
	if (!resolve_ident(g, res.text, res.branch, &rev, err))
		return false;
	vec_push(g, out, rev);
	return true;
}

/* Alembic's get_revision: at most one revision, MG_NONE for base */
static bool
get_revision(MgGraph *g, const char *sym, int *out, MgError *err)
{
	Resolved	res;

	if (!resolve_number(g, sym, sym, &res, err))
		return false;
	if (res.text == NULL)
	{
		if (res.revs.n > 1)
			return mg_set_error(err, MG_E_MULTIPLE_HEADS,
							 mg_gprintf(g, "target \"%s\" matches several head revisions", mg_shown(g, sym)),
							 mg_gprintf(g, "The heads are %s.", mg_id_list(g, res.revs.v, res.revs.n)),
							 multiple_heads_hint(g));
		*out = res.revs.n ? res.revs.v[0] : MG_NONE;
		return true;
	}
	return resolve_ident(g, res.text, res.branch, out, err);
}

/* The error of a relative step with several revisions to go to */
static bool
walk_ambiguous(MgGraph *g, const char *argument, int cur, bool up,
			   const IntVec *cand, MgError *err)
{
	const char *ids = mg_id_list(g, cand->v, cand->n);
	char	   *detail;

	if (cur >= 0)
		detail = up ?
			mg_gprintf(g, "Walking up from revision \"%s\" reaches %s.", g->revs[cur].id, ids) :
			mg_gprintf(g, "Walking down from revision \"%s\" reaches %s.", g->revs[cur].id, ids);
	else
		detail = up ?
			mg_gprintf(g, "Walking up from base reaches %s.", ids) :
			mg_gprintf(g, "Walking down from the heads reaches %s.", ids);
	return mg_set_error(err, MG_E_INVALID_TARGET,
						mg_gprintf(g, "relative target \"%s\" is ambiguous", mg_shown(g, argument)),
						detail,
						mg_gprintf(g, "Name a revision on one branch, for example \"<branch>@+1\" or \"<revision>-1\"."));
}

/*
 * walk
 *		Alembic's _walk: |steps| steps up (children through down, filtered by
 *		branch) or down (down_revisions; below a base is MG_AT_BASE).  Walking
 *		off the graph sets *overwalk, or stops there without no_overwalk.
 */
static bool
walk(MgGraph *g, int start, long steps, const char *branch, bool no_overwalk,
	 const char *argument, int *out, bool *overwalk, MgError *err)
{
	int			cur = start;
	long		nsteps = steps < 0 ? -steps : steps;
	Bits		lin = NULL;
	IntVec		cand = {0};

	*overwalk = false;
	if (branch && steps > 0)
	{
		/* the branch's lineage, once for the whole walk */
		int			b;

		if (!mg_resolve_branch(g, branch, &b, err))
			return false;
		lin = mg_lineage_of(g, b, false);
		bit_set(lin, b);
	}
	for (long s = 0; s < nsteps; s++)
	{
		IntVec	   *src;

		mg_poll_tick(&mg_poll_counter);
		cand.n = 0;
		if (steps > 0)
		{
			if (cur == MG_AT_BASE)
				src = &g->bases;
			else
				src = cur == MG_NONE ? &g->bases : &g->revs[cur].next;
			for (int i = 0; i < src->n; i++)
				if (lin == NULL || bit_test(lin, src->v[i]))
					vec_push(g, &cand, src->v[i]);
		}
		else
		{
			if (cur != MG_AT_BASE)
			{
				src = cur == MG_NONE ? &g->heads : &g->revs[cur].down;
				for (int i = 0; i < src->n; i++)
					vec_push(g, &cand, src->v[i]);
				if (cand.n == 0)
					vec_push(g, &cand, MG_AT_BASE);
			}
		}
		if (cand.n == 0)
		{
			if (no_overwalk)
			{
				*overwalk = true;
				*out = MG_NONE;
				return true;
			}
			break;
		}
		if (cand.n > 1)
			return walk_ambiguous(g, argument, cur, steps > 0, &cand, err);
		cur = cand.v[0];
	}
	*out = cur;
	return true;
}

/* DETAIL for a relative walk of n steps that leaves the graph */
static char *
steps_detail(MgGraph *g, long n, bool up, const char *from)
{
	const char *f = from ? mg_shown(g, from) : NULL;

	if (up && f)
		return n == 1 ?
			mg_gprintf(g, "No revision lies above \"%s\".", f) :
			mg_gprintf(g, "Fewer than %ld revisions lie above \"%s\".", n, f);
	if (up)
		return n == 1 ?
			mg_gprintf(g, "No revision lies above the current revision.") :
			mg_gprintf(g, "Fewer than %ld revisions lie above the current revision.", n);
	if (f)
		return n == 1 ?
			mg_gprintf(g, "No revision lies below \"%s\".", f) :
			mg_gprintf(g, "Fewer than %ld revisions lie below \"%s\".", n, f);
	return n == 1 ?
		mg_gprintf(g, "No revision lies below the current revision.") :
		mg_gprintf(g, "Fewer than %ld revisions lie below the current revision.", n);
}

/*
 * walk_within
 *		walk() from start by steps (up when positive, down when negative)
 *		with the given branch and over-walk rule, refusing a walk that
 *		would pass the heads or base: the one error of a relative target
 *		that goes too far, whose DETAIL counts the steps from "from" (NULL:
 *		the current revisions).
 */
static bool
walk_within(MgGraph *g, int start, long steps, const char *branch,
			bool no_overwalk, const char *target, const char *from, int *out,
			MgError *err)
{
	bool		over;

	if (!walk(g, start, steps, branch, no_overwalk, target, out, &over, err))
		return false;
	if (!over)
		return true;
	if (steps >= 0)
		return mg_set_error(err, MG_E_INVALID_TARGET,
							mg_gprintf(g, "relative target \"%s\" goes beyond the head revisions",
									   mg_shown(g, target)),
							steps_detail(g, steps, true, from),
							NULL);
	return mg_set_error(err, MG_E_INVALID_TARGET,
						mg_gprintf(g, "relative target \"%s\" goes below base",
								   mg_shown(g, target)),
						steps_detail(g, -steps, false, from),
						NULL);
}

/* The relative-target pattern (?:(.+?)@)?(\w+)?((?:\+|-)\d+), anchored */
typedef struct Relative
{
	const char *branch;			/* NULL if absent */
	const char *symbol;			/* NULL if absent */
	const char *number;			/* the signed number as written */
	long		n;
} Relative;

/* A character of \w in the relative-target pattern */
static bool
is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_';
}

/* The "[sym]+N" part of a relative target at s, anchored at both ends */
static bool
match_tail(MgGraph *g, const char *s, Relative *rel, bool *overflow)
{
	const char *p = s;
	const char *num;
	long		v = 0;

	while (is_word(*p))
		p++;
	if (*p != '+' && *p != '-')
		return false;
	num = p++;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
	{
		if (v <= 1000000000L)
			v = v * 10 + (*p - '0');
		if (v > 1000000000L)
			*overflow = true;
		p++;
	}
	rel->symbol = p > s && num > s ? mg_dup_range(g, s, (size_t) (num - s)) : NULL;
	rel->number = mg_dup_range(g, num, (size_t) (p - num));
	rel->n = *num == '-' ? -v : v;
	return true;
}

/*
 * match_relative
 *		Does s have the relative form (?:(.+?)@)?(\w+)?([+-]\d+), anchored.  Sets
 *		*matched and fills rel; a step count over 10^9 is an error (false,
 *		err filled).
 */
static bool
match_relative(MgGraph *g, const char *s, Relative *rel, MgError *err,
			   bool *matched)
{
	bool		overflow = false;

	memset(rel, 0, sizeof(Relative));
	*matched = false;
	for (const char *at = strchr(s + (*s ? 1 : 0), '@'); at; at = strchr(at + 1, '@'))
	{
		if (match_tail(g, at + 1, rel, &overflow))
		{
			rel->branch = mg_dup_range(g, s, (size_t) (at - s));
			*matched = true;
			break;
		}
	}
	if (!*matched && match_tail(g, s, rel, &overflow))
		*matched = true;
	if (*matched && overflow)
		return mg_set_error(err, MG_E_INVALID_TARGET,
						 mg_gprintf(g, "relative step count in \"%s\" is out of range", mg_shown(g, s)),
						 NULL, NULL);
	return true;
}


/* ----------------------------------------------------------------
 * Overlap of requested revisions
 * ----------------------------------------------------------------
 */

/*
 * check_overlap
 *		No revision of list may be an ancestor of another one (Alembic's
 *		check=True walks).  rows selects the wording.
 */
bool
mg_check_overlap(MgGraph *g, const IntVec *list, bool rows, MgError *err)
{
	Bits		below;
	int			a = -1,
				b = -1;

	if (list->n < 2)
		return true;

	/* one walk: everything strictly below some member */
	below = bits_new(g);
	for (int i = 0; i < list->n; i++)
		if (list->v[i] >= 0)
		{
			IntVec	   *e = &g->revs[list->v[i]].norm;

			mg_closure(g, e->v, e->n, E_NORM, below);
		}
	for (int i = 0; i < list->n && a < 0; i++)
		if (list->v[i] >= 0 && bit_test(below, list->v[i]))
			a = list->v[i];
	if (a < 0)
		return true;

	/* name a member above it (the slow search runs only on error) */
	for (int j = 0; j < list->n && b < 0; j++)
		if (list->v[j] >= 0 && list->v[j] != a && mg_is_ancestor(g, a, list->v[j]))
			b = list->v[j];
	if (rows)
		return mg_set_error(err, MG_E_STATE,
						 mg_gprintf(g, "version table lists revision \"%s\" and its ancestor \"%s\"",
								 g->revs[b].id, g->revs[a].id),
						 mg_gprintf(g, "Revision \"%s\" is an ancestor of revision \"%s\"; migrate_version must hold only the current heads.",
								 g->revs[a].id, g->revs[b].id),
						 mg_gprintf(g, "Use migrate_stamp() to set the version table to the intended heads."));
	return mg_set_error(err, MG_E_INVALID_TARGET,
					 mg_gprintf(g, "requested revision \"%s\" overlaps with requested revision \"%s\"",
							 g->revs[b].id, g->revs[a].id),
					 mg_gprintf(g, "Revision \"%s\" is an ancestor of revision \"%s\".",
							 g->revs[a].id, g->revs[b].id),
					 NULL);
}

/* ----------------------------------------------------------------
 * Upgrade, downgrade and stamp targets
 * ----------------------------------------------------------------
 */

/*
 * mg_parse_upgrade_target
 *		Alembic's _parse_upgrade_target: the revisions an upgrade target
 *		names, into targets.  A relative target "[branch@][sym]+N" walks up
 *		N steps from sym, or from the current rows (the branch's rows, or the
 *		tips of its applied part); "sym-N" walks down from sym.  Without
 *		no_overwalk (history ranges) a walk may stop at the end of the graph.
 *
 *		Returns false with err filled when the target does not resolve, a
 *		walk is ambiguous or leaves the graph, or a relative form makes no
 *		sense for an upgrade ("-N" without a symbol).  targets may receive
 *		MG_NONE (a walk that stopped at base); callers drop it.
 */
bool
mg_parse_upgrade_target(MgGraph *g, const IntVec *rows, const char *target,
					 bool no_overwalk, IntVec *targets, MgError *err)
{
	Relative	rel;
	bool		matched;
	int			rev;

	if (!match_relative(g, target, &rel, err, &matched))
		return false;
	if (!matched)
		return mg_get_revisions(g, target, targets, err);

	if (rel.n > 0)
	{
		if (rel.symbol == NULL)
		{
			IntVec		start = {0};

			for (int i = 0; i < rows->n; i++)
				vec_push(g, &start, rows->v[i]);
			if (rel.branch)
			{
				if (!mg_filter_lineage(g, &start, rel.branch, false, err))
					return false;
				if (start.n == 0 && rows->n > 0)
				{
					/* tips of the applied part of the branch */
					Bits		app = mg_closure_of(g, rows->v, rows->n, E_NORM);
					IntVec		active = {0};
					Bits		below = bits_new(g);

					for (int i = 0; i < g->n; i++)
						if (bit_test(app, i))
							vec_push(g, &active, i);
					if (!mg_filter_lineage(g, &active, rel.branch, false, err))
						return false;
					for (int i = 0; i < active.n; i++)
						for (int k = 0; k < g->revs[active.v[i]].norm.n; k++)
							bit_set(below, g->revs[active.v[i]].norm.v[k]);
					for (int i = 0; i < active.n; i++)
						if (!bit_test(below, active.v[i]))
							vec_push(g, &start, active.v[i]);
				}
			}
			if (start.n > 1)
				return mg_set_error(err, MG_E_INVALID_TARGET,
								 mg_gprintf(g, "relative upgrade \"%s\" is ambiguous with several current heads",
										 mg_shown(g, target)),
								 mg_gprintf(g, "The current heads are %s.", mg_id_list(g, start.v, start.n)),
								 mg_gprintf(g, "Use \"<branch>@+N\" or \"<revision>+N\" to choose one branch."));
			if (!walk_within(g, start.n ? start.v[0] : MG_NONE, rel.n,
							 rel.branch, no_overwalk, target, NULL, &rev, err))
				return false;
			vec_push(g, targets, rev);
			return true;
		}
		if (!get_revision(g, rel.symbol, &rev, err))
			return false;
		if (!walk_within(g, rev, rel.n, rel.branch, no_overwalk, target,
						 rel.symbol, &rev, err))
			return false;
		if (rev >= 0)
			vec_push(g, targets, rev);
		return true;
	}

	if (rel.symbol == NULL)
		return mg_set_error(err, MG_E_INVALID_TARGET,
						 mg_gprintf(g, "relative upgrade target \"%s\" must be positive", mg_shown(g, target)),
						 mg_gprintf(g, "\"%s\" would not move up from the current revisions.", mg_shown(g, target)),
						 mg_gprintf(g, "Use migrate_downgrade() to move down."));
	{
		const char *sym = rel.branch ? mg_gprintf(g, "%s@%s", rel.branch, rel.symbol) : rel.symbol;

		if (!get_revision(g, sym, &rev, err))
			return false;
		if (!walk_within(g, rev, rel.n, NULL, no_overwalk, target,
						 rel.symbol, &rev, err))
			return false;
		if (rev >= 0)
			vec_push(g, targets, rev);
		return true;
	}
}

/*
 * mg_parse_downgrade_target
 *		Alembic's _parse_downgrade_target: the revision a downgrade stops
 *		at (*out; MG_NONE for base) and the branch it is limited to (*branch,
 *		NULL for none).  "sym-N" and "branch@-N" walk down, from the one
 *		current row of the branch (or of the table) when no symbol is given;
 *		"sym+N" walks up; "branch@sym" names the branch explicitly.
 *
 *		Returns false with err filled when the target does not resolve, the
 *		start of a relative walk is not one revision, or the walk leaves
 *		the graph.
 */
bool
mg_parse_downgrade_target(MgGraph *g, const IntVec *rows, const char *target,
					   const char **branch, int *out, MgError *err)
{
	Relative	rel;
	bool		matched;
	int			rev;

	*branch = NULL;
	if (!match_relative(g, target, &rel, err, &matched))
		return false;
	if (matched)
	{
		if (rel.n >= 0)
		{
			if (rel.symbol == NULL)
				return mg_set_error(err, MG_E_INVALID_TARGET,
								 mg_gprintf(g, "relative downgrade target \"%s\" must be negative", mg_shown(g, target)),
								 mg_gprintf(g, "\"%s\" would not move down from the current revisions.", mg_shown(g, target)),
								 mg_gprintf(g, "Use migrate_upgrade() to move up."));
			if (!get_revision(g, rel.symbol, &rev, err))
				return false;
			if (!walk_within(g, rev, rel.n, rel.branch, true, target,
							 rel.symbol, &rev, err))
				return false;
			*branch = rel.branch;
			*out = rev == MG_AT_BASE ? MG_NONE : rev;
			return true;
		}
		else
		{
			bool		from_current = rel.symbol == NULL;
			const char *symbol = rel.symbol;
			const char *br = rel.branch;
			int			start;

			if (from_current)
			{
				if (br)
				{
					IntVec		sl = {0};

					for (int i = 0; i < rows->n; i++)
						vec_push(g, &sl, rows->v[i]);
					if (!mg_filter_lineage(g, &sl, br, false, err))
						return false;
					if (sl.n == 0)
					{
						MgList		cur = mg_current(g, (MgList)
						{
							rows->v, rows->n
						});

						for (int i = 0; i < cur.n; i++)
							vec_push(g, &sl, cur.items[i]);
						if (!mg_filter_lineage(g, &sl, br, false, err))
							return false;
					}
					if (sl.n != 1)
						return mg_set_error(err, MG_E_INVALID_TARGET,
										 mg_gprintf(g, "relative downgrade \"%s\" does not select one current revision", mg_shown(g, target)),
										 sl.n == 0 ?
										 mg_gprintf(g, "No current revision belongs to branch \"%s\".", mg_shown(g, br)) :
										 mg_gprintf(g, "Current revisions %s belong to branch \"%s\".",
												 mg_id_list(g, sl.v, sl.n), mg_shown(g, br)),
										 mg_gprintf(g, "Name the revision to start from, as in \"<revision>-1\"."));
					symbol = g->revs[sl.v[0]].id;
				}
				else
				{
					if (rows->n == 0)
						return mg_set_error(err, MG_E_INVALID_TARGET,
										 mg_gprintf(g, "relative target \"%s\" goes below base", mg_shown(g, target)),
										 mg_gprintf(g, "The version table is empty."),
										 NULL);
					if (rows->n > 1)
						return mg_set_error(err, MG_E_INVALID_TARGET,
										 mg_gprintf(g, "relative downgrade \"%s\" is ambiguous with several current heads",
												 mg_shown(g, target)),
										 mg_gprintf(g, "The current heads are %s.", mg_id_list(g, rows->v, rows->n)),
										 mg_gprintf(g, "Use \"<branch>@-N\" or \"<revision>-N\" to choose one branch."));
					symbol = g->revs[rows->v[0]].id;
					br = symbol;
				}
			}
			if (!get_revision(g, br ? mg_gprintf(g, "%s@%s", br, symbol) : symbol, &start, err))
				return false;
			if (!walk_within(g, start, rel.n, NULL, true, target,
							 symbol, &rev, err))
				return false;
			*branch = br;
			*out = rev == MG_AT_BASE ? MG_NONE : rev;
			return true;
		}
	}
	else
	{
		const char *at = strrchr(target, '@');
		const char *symbol = target;

		if (at)
		{
			if (at == target || at[1] == '\0')
				return bad_branch_syntax(g, target, err);
			*branch = mg_dup_range(g, target, (size_t) (at - target));
			symbol = at + 1;
		}
		if (!get_revision(g, symbol, &rev, err))
			return false;
		*out = rev;
		return true;
	}
}

/*
 * stamp_lineage_filter
 *		Add to filtered the rows that share lineage (dependencies included)
 *		with what target names: its branch, its revision, or its list of
 *		heads; every row when it names nothing (base).
 */
static bool
stamp_lineage_filter(MgGraph *g, const IntVec *rows, const char *target,
					 IntVec *filtered, MgError *err)
{
	Resolved	res;
	IntVec		shares = {0};
	Bits		lin;
	int			r;

	if (!resolve_number(g, target, target, &res, err))
		return false;
	if (res.branch)
	{
		if (!resolve_ident(g, res.branch, NULL, &r, err))
			return false;
		vec_push(g, &shares, r);
	}
	if (res.text)
	{
		if (!resolve_ident(g, res.text, NULL, &r, err))
			return false;
		vec_push(g, &shares, r);
	}
	else
		for (int i = 0; i < res.revs.n; i++)
			vec_push(g, &shares, res.revs.v[i]);

	if (shares.n == 0)
	{
		for (int i = 0; i < rows->n; i++)
			if (!vec_contains(filtered, rows->v[i]))
				vec_push(g, filtered, rows->v[i]);
		return true;
	}
	lin = bits_new(g);
	for (int i = 0; i < shares.n; i++)
	{
		Bits		one = mg_lineage_of(g, shares.v[i], true);

		for (int w = 0; w < (g->n + 63) / 64; w++)
			lin[w] |= one[w];
		bit_set(lin, shares.v[i]);
	}
	for (int i = 0; i < rows->n; i++)
		if (bit_test(lin, rows->v[i]) && !vec_contains(filtered, rows->v[i]))
			vec_push(g, filtered, rows->v[i]);
	return true;
}

/*
 * mg_parse_stamp_targets
 *		The targets of migrate_stamp (Alembic's _stamp_revs): no range, no
 *		relative step.  filtered receives the rows that share lineage with
 *		some target (the rows the stamp may replace), dests the revisions
 *		the targets name, MG_NONE for base (also when they name nothing).
 *		Returns false with err filled on the first bad target.
 */
bool
mg_parse_stamp_targets(MgGraph *g, const IntVec *rows, const char *const *targets,
					int ntargets, IntVec *filtered, IntVec *dests, MgError *err)
{
	for (int t = 0; t < ntargets; t++)
	{
		Relative	rel;
		bool		matched;

		if (strchr(targets[t], ':'))
			return mg_set_error(err, MG_E_INVALID_TARGET,
							 mg_gprintf(g, "stamp target \"%s\" cannot be a range", mg_shown(g, targets[t])),
							 NULL, NULL);
		if (!match_relative(g, targets[t], &rel, err, &matched))
			return false;
		if (matched)
			return mg_set_error(err, MG_E_INVALID_TARGET,
							 mg_gprintf(g, "stamp target \"%s\" cannot be relative", mg_shown(g, targets[t])),
							 mg_gprintf(g, "migrate_stamp() accepts revisions, prefixes, labels, \"heads\", \"head\", \"base\" and \"<branch>@head\" or \"<branch>@base\"."),
							 NULL);
	}
	for (int t = 0; t < ntargets; t++)
		if (!stamp_lineage_filter(g, rows, targets[t], filtered, err))
			return false;
	for (int t = 0; t < ntargets; t++)
	{
		IntVec		one = {0};

		if (!mg_get_revisions(g, targets[t], &one, err))
			return false;
		for (int i = 0; i < one.n; i++)
			vec_push(g, dests, one.v[i]);
	}
	if (dests->n == 0)
		vec_push(g, dests, MG_NONE);
	return true;
}

/* The error of a history range whose start is not below its end */
static bool
range_error(MgGraph *g, const char *lower, const char *upper, const char *what,
			MgError *err)
{
	return mg_set_error(err, MG_E_INVALID_TARGET,
					 mg_gprintf(g, "history range \"%s:%s\" does not follow one line of descent",
							 mg_shown(g, lower), mg_shown(g, upper)),
					 strcmp(what, "base") == 0 ?
					 mg_gprintf(g, "The start of the range walks down to base, which is not a revision.") :
					 mg_gprintf(g, "Revision \"%s\" is not an ancestor of the end of the range.", what),
					 NULL);
}

/*
 * mg_parse_history_range
 *		Resolve a history range "[start]:[end]" (NULL: the whole history)
 *		against the version rows, as Alembic's walk_revisions does before
 *		walking: hr->upper gets the revisions of the end (relative forms
 *		count from the start), hr->required everything at or below them,
 *		hr->lower the revisions of the start (empty: base).  "current" at
 *		either end means the rows (base or heads when there are none);
 *		"label@..." as start keeps the end revisions carrying that label.
 *
 *		Fails (false, err filled) on a malformed range, an unresolvable
 *		end, overlapping revisions at one end, or a start that is not below
 *		the end.  Cost: a few closures over the graph.
 */
bool
mg_parse_history_range(MgGraph *g, const IntVec *rowsp, const char *range,
					   HistoryRange *hr, MgError *err)
{
	IntVec		rows = *rowsp;
	const char *lower = "base";
	const char *upper = "heads";
	bool		lower_current = false,
				upper_current = false;
	IntVec		targets = {0};
	IntVec		current = {0};
	Bits		required;

	if (range)
	{
		const char *colon = strchr(range, ':');

		if (colon == NULL || strchr(colon + 1, ':'))
			return mg_set_error(err, MG_E_INVALID_TARGET,
							 mg_gprintf(g, "invalid history range \"%s\"", mg_shown(g, range)),
							 mg_gprintf(g, "A range has the form \"[start]:[end]\"."),
							 NULL);
		if (colon > range)
			lower = mg_dup_range(g, range, (size_t) (colon - range));
		if (colon[1])
			upper = colon + 1;
	}
	if (strcmp(lower, "current") == 0)
	{
		if (rows.n > 0)
			lower_current = true;
		else
			lower = "base";
	}
	if (strcmp(upper, "current") == 0)
	{
		if (rows.n > 0)
			upper_current = true;
		else
			upper = "heads";
	}

	/* targets: the upper end, relative forms counted from the lower end */
	if (upper_current)
	{
		for (int i = 0; i < rows.n; i++)
			vec_push(g, &targets, rows.v[i]);
	}
	else
	{
		IntVec		lowrows = {0};

		if (lower_current)
			lowrows = rows;
		else if (strcmp(lower, "base") != 0)
		{
			int			k = 0;

			/* a relative upper end counts from what the lower end names */
			if (!mg_get_revisions(g, lower, &lowrows, err))
				return false;
			for (int i = 0; i < lowrows.n; i++)
			{
				if (lowrows.v[i] == MG_AT_BASE)
					return range_error(g, lower, upper, "base", err);
				if (lowrows.v[i] >= 0)
					lowrows.v[k++] = lowrows.v[i];
			}
			lowrows.n = k;
		}
		if (!mg_parse_upgrade_target(g, &lowrows, upper, false, &targets, err))
			return false;
	}

	/* "label@..." as lower end keeps the targets carrying that label */
	if (!lower_current && strchr(lower, '@'))
	{
		const char *at = strchr(lower, '@');
		const char *branch = mg_dup_range(g, lower, (size_t) (at - lower));
		int			b = map_get(&g->keys, branch);
		int			k = 0;

		if (b >= 0 && strcmp(g->revs[b].id, branch) == 0)
		{
			const char **labels;
			int			nl = mg_rev_labels(g, b, &labels);

			if (nl != 1)
				return mg_set_error(err, MG_E_INVALID_TARGET,
								 mg_gprintf(g, "revision \"%s\" does not name one branch", branch),
								 mg_gprintf(g, "Revision \"%s\" carries %d branch labels.", branch, nl),
								 mg_gprintf(g, "Use a branch label before \"@\"."));
			branch = labels[0];
		}
		for (int i = 0; i < targets.n; i++)
			if (targets.v[i] >= 0 && mg_rev_has_label(g, targets.v[i], branch))
				targets.v[k++] = targets.v[i];
		targets.n = k;
	}
	{
		int			k = 0;

		for (int i = 0; i < targets.n; i++)
			if (targets.v[i] >= 0)
				targets.v[k++] = targets.v[i];
		targets.n = k;
	}
	if (!mg_check_overlap(g, &targets, false, err))
		return false;
	required = mg_closure_of(g, targets.v, targets.n, E_NORM);

	/* the lower end */
	if (lower_current)
		current = rows;
	else if (!mg_get_revisions(g, lower, &current, err))
		return false;
	for (int i = 0; i < current.n; i++)
	{
		/* a relative start landing on base itself names no revision */
		if (current.v[i] == MG_AT_BASE)
			return range_error(g, lower, upper, "base", err);
		if (current.v[i] >= 0 && !bit_test(required, current.v[i]))
			return range_error(g, lower_current ? "current" : lower,
							   upper_current ? "current" : upper,
							   g->revs[current.v[i]].id, err);
	}
	if (current.n > 0 && current.v[0] == MG_NONE)
	{
		/*
		 * A relative lower end that walked off the graph counts down from the
		 * upper end instead, stopping at base.
		 */
		Relative	rel;
		bool		matched;
		bool		over;
		int			rev = MG_NONE;

		if (!match_relative(g, lower, &rel, err, &matched))
			return false;
		if (matched && targets.n > 1)
			return mg_set_error(err, MG_E_INVALID_TARGET,
							 mg_gprintf(g, "relative range start \"%s\" is ambiguous", mg_shown(g, lower)),
							 mg_gprintf(g, "The end of the range has several revisions: %s.",
									 mg_id_list(g, targets.v, targets.n)),
							 NULL);
		if (matched && targets.n == 1 &&
			!walk(g, targets.v[0], rel.n, NULL, false, lower, &rev, &over, err))
			return false;
		current.n = 0;
		if (rev >= 0)
			vec_push(g, &current, rev);
	}
	{
		int			k = 0;

		for (int i = 0; i < current.n; i++)
			if (current.v[i] >= 0)
				current.v[k++] = current.v[i];
		current.n = k;
	}
	if (!mg_check_overlap(g, &current, false, err))
		return false;
	hr->upper = targets;
	hr->lower = current;
	hr->required = required;
	return true;
}
