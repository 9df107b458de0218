/*-------------------------------------------------------------------------
 *
 * mg_graph.c
 *	  Construction and validation of a revision graph, its accessors, and
 *	  the one rule for names (mg_check_name, mg_clip, mg_strcmp_ptr).
 *
 * This file owns what a graph is: revisions added with mg_graph_add, then
 * indexed, resolved and checked by mg_graph_finish, after which the graph
 * never changes (labels are computed lazily by mg_labels.c).  Every problem
 * of a graph is found and reported here; nothing here knows the target
 * grammar, plans or listings.
 *
 *-------------------------------------------------------------------------
 */
#include "mg_core_int.h"

#include <ctype.h>

/* Copies of n strings in the graph (NULL entries become "") */
static const char **
copy_strs(MgGraph *g, const char *const *src, int n)
{
	const char **dst;

	if (n <= 0)
		return NULL;
	dst = arena_alloc(&g->arena, sizeof(char *) * n);
	for (int i = 0; i < n; i++)
		dst[i] = mg_graph_strdup(g, src[i] ? src[i] : "");
	return dst;
}

/* Room for n revisions, so that adding them does not copy the array */
void
mg_graph_reserve(MgGraph *g, int n)
{
	Rev		   *nr;

	if (n <= g->cap)
		return;
	nr = arena_alloc(&g->arena, sizeof(Rev) * n);
	if (g->n)
		memcpy(nr, g->revs, sizeof(Rev) * g->n);
	g->revs = nr;
	g->cap = n;
}

/*
 * mg_graph_add_owned
 *		Add a revision whose strings and arrays were allocated in the graph
 *		(mg_graph_alloc, mg_graph_strdup): they are taken over, not copied.
 */
void
mg_graph_add_owned(MgGraph *g, const MgRevInput *in)
{
	Rev		   *r;

	if (g->n == g->cap)
		mg_graph_reserve(g, g->cap ? g->cap * 2 : 64);
	r = &g->revs[g->n++];
	memset(r, 0, sizeof(Rev));
	r->id = in->id ? in->id : "";
	r->message = in->message;
	r->tag = in->tag;
	r->down_ids = in->ndown > 0 ? (const char **) in->down : NULL;
	r->ndown_ids = in->ndown;
	r->dep_names = in->ndeps > 0 ? (const char **) in->deps : NULL;
	r->ndep_names = in->ndeps;
	r->labels = in->nlabels > 0 ? (const char **) in->labels : NULL;
	r->nlabels = in->nlabels;
}

/* Add a revision: its strings are copied into the graph */
void
mg_graph_add(MgGraph *g, const MgRevInput *in)
{
	MgRevInput	copy = *in;

	copy.id = mg_graph_strdup(g, in->id ? in->id : "");
	copy.message = in->message ? mg_graph_strdup(g, in->message) : NULL;
	copy.down = copy_strs(g, in->down, in->ndown);
	copy.deps = copy_strs(g, in->deps, in->ndeps);
	copy.labels = copy_strs(g, in->labels, in->nlabels);
	mg_graph_add_owned(g, &copy);
}

/* ----------------------------------------------------------------
 * The name rule
 * ----------------------------------------------------------------
 */

/* Is the name of len bytes at s a word of the target grammar? */
static bool
reserved_word(const char *s, size_t len)
{
	static const char *const words[] = {"base", "head", "heads", "current"};

	for (int i = 0; i < (int) (sizeof(words) / sizeof(words[0])); i++)
		if (strlen(words[i]) == len && memcmp(s, words[i], len) == 0)
			return true;
	return false;
}

/* Words of the target grammar cannot name a revision or a branch */
bool
mg_reserved_name(const char *s)
{
	return reserved_word(s, strlen(s));
}

/* Shorthands of mg_check_name for a NUL-terminated name */
bool
mg_valid_id(const char *s)
{
	MgNameProblem np;

	return s != NULL &&
		mg_check_name(MG_NAME_REVISION, s, strlen(s), NULL, &np);
}

/* The same for a branch label */
bool
mg_valid_label(const char *s)
{
	MgNameProblem np;

	return s != NULL &&
		mg_check_name(MG_NAME_BRANCH_LABEL, s, strlen(s), NULL, &np);
}

/* mg_clip: see mg_core.h */
int
mg_clip(const char *s, size_t len, size_t max)
{
	size_t		cut = max;

	if (len <= max)
		return (int) len;
	/* back up to the first byte of a character: never inside a sequence */
	while (cut > 0 && ((unsigned char) s[cut] & 0xc0) == 0x80)
		cut--;
	return (int) cut;
}

/* mg_strcmp_ptr: see mg_core.h */
int
mg_strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * mg_check_name: see mg_core.h.  Each kind has its limit and its four
 * messages written whole (invalid or reserved, with or without the owner)
 * in one table, so that a message can only be written once.
 */
bool
mg_check_name(MgNameKind kind, const char *s, size_t len, const char *owner,
			  MgNameProblem *p)
{
	static const struct
	{
		size_t		max;
		const char *invalid;		/* name, "..." or "" */
		const char *invalid_in;		/* name, "..." or "", owner */
		const char *reserved;		/* name */
		const char *reserved_in;	/* name, owner */
		const char *detail;			/* limit */
	}			kinds[] =
	{
		[MG_NAME_REVISION] = {MG_MAX_ID_LEN,
			"invalid revision id \"%.*s%s\"",
			"invalid revision id \"%.*s%s\" in revision \"%.*s\"",
			"revision id \"%.*s\" is a reserved word",
			"revision id \"%.*s\" in revision \"%.*s\" is a reserved word",
		"A revision id is 1 to %d letters, digits or underscores."},
		[MG_NAME_DOWN_REVISION] = {MG_MAX_ID_LEN,
			"invalid down_revision \"%.*s%s\"",
			"invalid down_revision \"%.*s%s\" in revision \"%.*s\"",
			"down_revision \"%.*s\" is a reserved word",
			"down_revision \"%.*s\" in revision \"%.*s\" is a reserved word",
		"A down_revision is a revision id: 1 to %d letters, digits or underscores."},
		[MG_NAME_DEPENDENCY] = {MG_MAX_LABEL_LEN,
			"invalid dependency \"%.*s%s\"",
			"invalid dependency \"%.*s%s\" in revision \"%.*s\"",
			"dependency \"%.*s\" is a reserved word",
			"dependency \"%.*s\" in revision \"%.*s\" is a reserved word",
		"A dependency is a revision id or a branch label: 1 to %d letters, digits or underscores."},
		[MG_NAME_BRANCH_LABEL] = {MG_MAX_LABEL_LEN,
			"invalid branch label \"%.*s%s\"",
			"invalid branch label \"%.*s%s\" in revision \"%.*s\"",
			"branch label \"%.*s\" is a reserved word",
			"branch label \"%.*s\" in revision \"%.*s\" is a reserved word",
		"A branch label is 1 to %d letters, digits or underscores."},
	};
	bool		legal = len >= 1 && len <= kinds[kind].max;
	int			cut;
	const char *more;

	for (size_t i = 0; legal && i < len; i++)
	{
		char		c = s[i];

		legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_';
	}
	if (legal && !reserved_word(s, len))
		return true;

	cut = mg_clip(s, len, MG_SHOWN_MAX);
	more = (size_t) cut < len ? "..." : "";
	if (legal)
	{
		p->code = MG_E_RESERVED_NAME;
		if (owner)
			snprintf(p->message, sizeof(p->message), kinds[kind].reserved_in,
					 (int) len, s, MG_MAX_ID_LEN, owner);
		else
			snprintf(p->message, sizeof(p->message), kinds[kind].reserved,
					 (int) len, s);
		snprintf(p->detail, sizeof(p->detail), "%s",
				 "\"base\", \"head\", \"heads\" and \"current\" are words of the target grammar.");
	}
	else
	{
		p->code = MG_E_INVALID_NAME;
		if (owner)
			snprintf(p->message, sizeof(p->message), kinds[kind].invalid_in,
					 cut, s, more, MG_MAX_ID_LEN, owner);
		else
			snprintf(p->message, sizeof(p->message), kinds[kind].invalid,
					 cut, s, more);
		snprintf(p->detail, sizeof(p->detail), kinds[kind].detail,
				 (int) kinds[kind].max);
	}
	return false;
}

/*
 * Record a problem of the graph: code and primary message of its error if
 * it is the first, and its sentence for the DETAIL listing all problems.
 */
static void
add_problem(MgGraph *g, MgErrCode code, char *message, char *sentence)
{
	if (g->nproblems == g->cap_problems)
	{
		int			ncap = g->cap_problems ? g->cap_problems * 2 : 8;
		Problem    *np = arena_alloc(&g->arena, sizeof(Problem) * ncap);

		if (g->nproblems)
			memcpy(np, g->problems, sizeof(Problem) * g->nproblems);
		g->problems = np;
		g->cap_problems = ncap;
	}
	g->problems[g->nproblems].code = code;
	g->problems[g->nproblems].message = message;
	g->problems[g->nproblems].sentence = sentence;
	g->nproblems++;
}

/* A bad name: its line of the DETAIL is the message, then the rule */
static void
add_name_problem(MgGraph *g, const MgNameProblem *np)
{
	add_problem(g, np->code, mg_graph_strdup(g, np->message),
				mg_gprintf(g, "%c%s. %s", toupper((unsigned char) np->message[0]),
						np->message + 1, np->detail));
}

/*
 * find_cycle
 *		Kahn's algorithm over the parent edges (down only, or down + deps).
 *		Returns false when there is no cycle, having set every revision's
 *		topological position (Rev.topo, used by the walks).  Otherwise the
 *		revisions left over lie on or above a cycle; following left-over
 *		parents from one of them must come back, which names one cycle:
 *		cycle receives it, and the result is true.  Linear in revisions
 *		plus edges; one walk (marks), iterative.
 */
static bool
find_cycle(MgGraph *g, bool with_deps, IntVec *cycle)
{
	int		   *indeg = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	int		   *queue = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	int			qh = 0,
				qt = 0;
	int			start = -1;
	unsigned	st;
	unsigned	tick = 0;

	walk_begin(g);

	/*
	 * In-degree: distinct predecessors, as the child lists hold each
	 * predecessor once (allnext leaves out a dependency that is also a
	 * parent).
	 */
	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];

		mg_poll_tick(&tick);
		indeg[i] = r->down.n;
		if (with_deps && r->deps.n > 0)
		{
			st = new_stamp(g);
			for (int j = 0; j < r->down.n; j++)
				g->mark[r->down.v[j]] = st;
			for (int j = 0; j < r->deps.n; j++)
				indeg[i] += g->mark[r->deps.v[j]] != st;
		}
		if (indeg[i] == 0)
			queue[qt++] = i;
	}
	while (qh < qt)
	{
		int			x = queue[qh];
		IntVec	   *ch = with_deps ? &g->revs[x].allnext : &g->revs[x].next;

		g->revs[x].topo = qh++;
		for (int k = 0; k < ch->n; k++)
		{
			int			c = ch->v[k];

			mg_poll_tick(&tick);
			if (--indeg[c] == 0)
				queue[qt++] = c;
		}
	}
	if (qt == g->n)
	{
		walk_end(g);
		return false;
	}

	for (int i = 0; i < g->n && start < 0; i++)
		if (indeg[i] > 0)
			start = i;

	/* walk left-over parents until a revision repeats */
	st = new_stamp(g);
	{
		int			x = start;
		IntVec		path = {0};

		while (g->mark[x] != st)
		{
			Rev		   *r = &g->revs[x];
			int			nextp = -1;

			mg_poll_tick(&tick);
			g->mark[x] = st;
			vec_push(g, &path, x);
			for (int j = 0; j < r->down.n && nextp < 0; j++)
				if (indeg[r->down.v[j]] > 0)
					nextp = r->down.v[j];
			if (with_deps)
				for (int j = 0; j < r->deps.n && nextp < 0; j++)
					if (indeg[r->deps.v[j]] > 0)
						nextp = r->deps.v[j];
			x = nextp;
		}
		/* path from the first occurrence of x is the cycle */
		for (int j = 0; j < path.n; j++)
			if (path.v[j] == x)
			{
				for (int k = path.n - 1; k >= j; k--)
					vec_push(g, cycle, path.v[k]);
				break;
			}
	}
	walk_end(g);
	return true;
}

/*
 * The path of a cycle, "a -> b -> ... -> a"; a cycle of more than 20
 * revisions shows its first and last ten, as mg_id_list caps lists.
 */
static char *
cycle_text(MgGraph *g, IntVec *cycle)
{
	Buf			b;

	/* a long cycle shows its first and last revisions, as id_list caps lists */
	mg_buf_init(&b, g);
	for (int i = 0; i < cycle->n; i++)
	{
		if (cycle->n > 20 && i == 10)
		{
			mg_buf_printf(&b, "... (%d more) -> ", cycle->n - 20);
			i = cycle->n - 10;
		}
		mg_buf_printf(&b, "%s -> ", g->revs[cycle->v[i]].id);
	}
	mg_buf_printf(&b, "%s", g->revs[cycle->v[0]].id);
	return b.data;
}

/*
 * normalize_deps
 *		norm = down + the resolved dependencies that no strict ancestor
 *		(through down only) also lists as a resolved dependency.
 *
 *		Only a dependency target with two or more users needs work: one walk
 *		forward through down_revisions' children from its users marks every
 *		revision below some user, and a user so marked drops the dependency.
 *		The walk stops past the last user in topological order, so it covers
 *		only the span of the users.
 */
static void
normalize_deps(MgGraph *g)
{
	IntVec	   *users = arena_alloc(&g->arena, sizeof(IntVec) * g->n);
	IntVec	   *dropped = arena_alloc(&g->arena, sizeof(IntVec) * g->n);
	unsigned	tick = 0;

	walk_begin(g);

	for (int i = 0; i < g->n; i++)
		for (int j = 0; j < g->revs[i].deps.n; j++)
		{
			mg_poll_tick(&tick);
			vec_push(g, &users[g->revs[i].deps.v[j]], i);
		}

	for (int d = 0; d < g->n; d++)
	{
		unsigned	st;
		int			sp = 0;
		int			last = -1;

		mg_poll_tick(&tick);
		if (users[d].n < 2)
			continue;
		for (int k = 0; k < users[d].n; k++)
			if (g->revs[users[d].v[k]].topo > last)
				last = g->revs[users[d].v[k]].topo;
		st = new_stamp(g);
		for (int k = 0; k < users[d].n; k++)
		{
			IntVec	   *ch = &g->revs[users[d].v[k]].next;

			for (int c = 0; c < ch->n; c++)
				if (g->mark[ch->v[c]] != st && g->revs[ch->v[c]].topo <= last)
				{
					g->mark[ch->v[c]] = st;
					g->stack[sp++] = ch->v[c];
				}
		}
		while (sp > 0)
		{
			IntVec	   *ch = &g->revs[g->stack[--sp]].next;

			mg_poll_tick(&tick);
			for (int c = 0; c < ch->n; c++)
				if (g->mark[ch->v[c]] != st && g->revs[ch->v[c]].topo <= last)
				{
					g->mark[ch->v[c]] = st;
					g->stack[sp++] = ch->v[c];
				}
		}
		for (int k = 0; k < users[d].n; k++)
			if (g->mark[users[d].v[k]] == st)
				vec_push(g, &dropped[users[d].v[k]], d);
	}

	/*
	 * A stamp marks what r's norm already holds or drops, so that a
	 * revision with many dependencies costs time linear in their number.
	 */
	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];
		unsigned	st = new_stamp(g);

		mg_poll_tick(&tick);
		for (int j = 0; j < dropped[i].n; j++)
			g->mark[dropped[i].v[j]] = st;
		for (int j = 0; j < r->down.n; j++)
		{
			vec_push(g, &r->norm, r->down.v[j]);
			g->mark[r->down.v[j]] = st;
		}
		for (int j = 0; j < r->deps.n; j++)
		{
			int			d = r->deps.v[j];

			mg_poll_tick(&tick);
			if (g->mark[d] != st)
			{
				vec_push(g, &r->norm, d);
				g->mark[d] = st;
			}
		}
	}
	walk_end(g);
}

/* ----------------------------------------------------------------
 * mg_graph_finish and its phases
 * ----------------------------------------------------------------
 */

/*
 * Phase 0: the scratch state of walks, the maps, and the hash of every id
 * (computed once for both maps).  Returns the hashes.
 */
static uint32_t *
prepare_indexes(MgGraph *g)
{
	uint32_t   *hashes;
	unsigned	tick = 0;

	g->mark = arena_alloc(&g->arena, sizeof(unsigned) * (g->n + 1));
	g->stack = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	g->stamp = 0;
	g->walking = false;
	mg_map_init(g, &g->ids, g->n);
	mg_map_init(g, &g->keys, g->n);
	g->hl_rev = -1;
	g->lcache_top = -1;

	hashes = arena_alloc(&g->arena, sizeof(uint32_t) * (g->n + 1));
	for (int i = 0; i < g->n; i++)
	{
		hashes[i] = hash_str(g->revs[i].id);
		mg_poll_tick(&tick);
	}
	return hashes;
}

/* Phase 1: ids, their format and uniqueness; fills g->ids and g->keys */
static void
index_ids(MgGraph *g, const uint32_t *hashes)
{
	unsigned	tick = 0;
	MgNameProblem np;

	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];
		int			prev;

		mg_poll_tick(&tick);
		if (i + MG_AHEAD < g->n)
		{
			map_prefetch(&g->ids, hashes[i + MG_AHEAD]);
			map_prefetch(&g->keys, hashes[i + MG_AHEAD]);
		}

		if (!mg_check_name(MG_NAME_REVISION, r->id, strlen(r->id), NULL, &np))
		{
			add_name_problem(g, &np);
			continue;
		}
		prev = mg_map_put_h(g, &g->ids, r->id, hashes[i], i);
		if (prev >= 0)
		{
			add_problem(g, MG_E_DUPLICATE,
						mg_gprintf(g, "revision \"%s\" is defined more than once", r->id),
						mg_gprintf(g, "Revision \"%s\" is defined more than once.", r->id));
		}
		else
			mg_map_put_h(g, &g->keys, r->id, hashes[i], i);
	}
}

/*
 * Phase 2: branch labels, which share the namespace of ids (g->keys);
 * fills the label index.  The label arrays are sized once, for all the
 * labels declared.
 */
static void
index_labels(MgGraph *g)
{
	unsigned	tick = 0;
	MgNameProblem np;
	size_t		total = 0;

	for (int i = 0; i < g->n; i++)
	{
		total += (size_t) g->revs[i].nlabels;
		mg_poll_tick(&tick);
	}
	g->label_names = arena_alloc(&g->arena, sizeof(char *) * (total + 1));
	g->label_rev = arena_alloc(&g->arena, sizeof(int) * (total + 1));
	mg_map_init(g, &g->label_index, total > (size_t) (INT32_MAX / 4) ?
				INT32_MAX / 4 : (int) total);

	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];

		for (int j = 0; j < r->nlabels; j++)
		{
			const char *l = r->labels[j];
			int			prev;

			mg_poll_tick(&tick);

			if (!mg_check_name(MG_NAME_BRANCH_LABEL, l, strlen(l), r->id, &np))
			{
				add_name_problem(g, &np);
				continue;
			}
			prev = mg_map_put(g, &g->keys, l, i);
			if (prev >= 0)
			{
				add_problem(g, MG_E_DUPLICATE,
							mg_gprintf(g, "branch label \"%s\" of revision \"%s\" is already used by revision \"%s\"",
									   l, r->id, g->revs[prev].id),
							map_get(&g->ids, l) >= 0 ?
							mg_gprintf(g, "Branch label \"%s\" of revision \"%s\" is the id of revision \"%s\".",
									   l, r->id, g->revs[prev].id) :
							mg_gprintf(g, "Branch label \"%s\" of revision \"%s\" is also declared by revision \"%s\".",
									   l, r->id, g->revs[prev].id));
				continue;
			}
			if (mg_map_put(g, &g->label_index, l, g->nlabel_names) < 0)
			{
				g->label_names[g->nlabel_names] = l;
				g->label_rev[g->nlabel_names] = i;
				g->nlabel_names++;
			}
		}
	}
}

/*
 * Phase 3: resolve down_revisions (to ids) and depends_on (to ids or
 * labels), filling down, deps and next.  The first down_revision of the
 * revision MG_AHEAD places on is hashed (and its slot fetched) early; the
 * hashes array is reused for that.  A walk: the marks record the parents
 * (then the dependencies) already taken by the current revision.
 */
static void
resolve_references(MgGraph *g, uint32_t *hashes)
{
	unsigned	tick = 0;

	walk_begin(g);
	for (int i = 0; i < MG_AHEAD && i < g->n; i++)
		if (g->revs[i].ndown_ids > 0)
			hashes[i] = hash_str(g->revs[i].down_ids[0]);
	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];
		int			k = i + MG_AHEAD;
		unsigned	st = new_stamp(g);	/* marks the parents taken */

		mg_poll_tick(&tick);
		if (k < g->n && g->revs[k].ndown_ids > 0)
		{
			hashes[k] = hash_str(g->revs[k].down_ids[0]);
			map_prefetch(&g->ids, hashes[k]);
		}
		for (int j = 0; j < r->ndown_ids; j++)
		{
			const char *d = r->down_ids[j];
			int			p = map_get_h(&g->ids, d, j == 0 ? hashes[i] : hash_str(d));

			mg_poll_tick(&tick);

			if (strcmp(d, r->id) == 0)
			{
				add_problem(g, MG_E_CYCLE,
							mg_gprintf(g, "revision \"%s\" is its own down_revision", r->id),
							mg_gprintf(g, "Revision \"%s\" lists itself in down_revisions.", r->id));
			}
			else if (p < 0)
			{
				add_problem(g, MG_E_UNDEFINED,
							mg_gprintf(g, "down_revision \"%s\" of revision \"%s\" does not exist",
									   mg_shown(g, d), r->id),
							mg_gprintf(g, "Revision \"%s\" has down_revision \"%s\", which is not registered.",
									   r->id, mg_shown(g, d)));
			}
			else if (g->mark[p] == st)
			{
				add_problem(g, MG_E_DUPLICATE,
							mg_gprintf(g, "down_revision \"%s\" is listed twice in revision \"%s\"", d, r->id),
							mg_gprintf(g, "Revision \"%s\" lists down_revision \"%s\" more than once.", r->id, d));
			}
			else
			{
				g->mark[p] = st;
				vec_push(g, &r->down, p);
				vec_push(g, &g->revs[p].next, i);
			}
		}
		st = new_stamp(g);		/* now the dependencies taken */
		for (int j = 0; j < r->ndep_names; j++)
		{
			const char *d = r->dep_names[j];
			int			p = map_get(&g->keys, d);

			mg_poll_tick(&tick);

			if (strcmp(d, r->id) == 0 || p == i)
			{
				add_problem(g, MG_E_CYCLE,
							mg_gprintf(g, "revision \"%s\" depends on itself", r->id),
							mg_gprintf(g, "Revision \"%s\" lists itself in depends_on.", r->id));
			}
			else if (p < 0)
			{
				add_problem(g, MG_E_UNDEFINED,
							mg_gprintf(g, "dependency \"%s\" of revision \"%s\" does not exist",
									   mg_shown(g, d), r->id),
							mg_gprintf(g, "Revision \"%s\" depends on \"%s\", which is neither a registered revision nor a branch label.",
									   r->id, mg_shown(g, d)));
			}
			else if (g->mark[p] != st)
			{
				g->mark[p] = st;
				vec_push(g, &r->deps, p);
			}
		}
	}
	walk_end(g);
}

/*
 * Phase 4: allnext, the children through down or deps, in map order; a
 * child that is both lists its parent once.
 */
static void
link_all_children(MgGraph *g)
{
	unsigned	tick = 0;

	walk_begin(g);
	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];
		unsigned	st = new_stamp(g);

		mg_poll_tick(&tick);
		for (int j = 0; j < r->down.n; j++)
		{
			vec_push(g, &g->revs[r->down.v[j]].allnext, i);
			g->mark[r->down.v[j]] = st;
		}
		for (int j = 0; j < r->deps.n; j++)
		{
			mg_poll_tick(&tick);
			if (g->mark[r->deps.v[j]] != st)
				vec_push(g, &g->revs[r->deps.v[j]].allnext, i);
		}
	}
	walk_end(g);
}

/*
 * Phase 5: cycles, through down_revisions first, then with dependencies.
 * The path of the cycle goes into the DETAIL only.  When there is none,
 * find_cycle has left every revision's topological position.
 */
static void
find_cycles(MgGraph *g)
{
	IntVec		cycle = {0};

	if (find_cycle(g, false, &cycle))
		add_problem(g, MG_E_CYCLE,
					mg_gprintf(g, "revisions form a cycle"),
					mg_gprintf(g, "Revisions form a cycle through down_revisions: %s.",
							   cycle_text(g, &cycle)));
	else if (find_cycle(g, true, &cycle))
		add_problem(g, MG_E_CYCLE,
					mg_gprintf(g, "revisions form a dependency cycle"),
					mg_gprintf(g, "Revisions form a cycle through down_revisions and depends_on: %s.",
							   cycle_text(g, &cycle)));
}

/*
 * The error of an invalid graph: the first problem's code and message, and
 * a DETAIL with one sentence per problem (at most 50).  Returns false.
 */
static bool
report_problems(MgGraph *g, MgError *err)
{
	Buf			b;

	mg_buf_init(&b, g);
	for (int i = 0; i < g->nproblems; i++)
	{
		if (i >= 50)
		{
			mg_buf_printf(&b, "\n%d more problems.", g->nproblems - i);
			break;
		}
		mg_buf_printf(&b, "%s%s", i ? "\n" : "", g->problems[i].sentence);
	}
	return mg_set_error(err, g->problems[0].code, g->problems[0].message,
						b.data, NULL);
}

/* Last phase: heads, real heads (counting dependencies) and bases */
static void
find_heads_and_bases(MgGraph *g)
{
	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];

		if (r->next.n == 0)
			vec_push(g, &g->heads, i);
		if (r->allnext.n == 0)
			vec_push(g, &g->real_heads, i);
		if (r->down.n == 0)
			vec_push(g, &g->bases, i);
	}
}

/*
 * mg_graph_finish
 *		Index, resolve and validate the revisions added so far (see
 *		mg_core.h).  Every check runs on every revision, so that the DETAIL
 *		lists all problems, not only the first; the normalization and the
 *		heads need a valid graph and run only then.
 *
 *		Returns true when the graph is valid; false with err filled (code
 *		and message of the first problem, every problem in the DETAIL).
 *		Cost: linear in revisions plus references, apart from
 *		normalize_deps (linear in the span of each shared dependency).
 */
bool
mg_graph_finish(MgGraph *g, MgError *err)
{
	uint32_t   *hashes = prepare_indexes(g);

	index_ids(g, hashes);
	index_labels(g);
	resolve_references(g, hashes);
	link_all_children(g);
	find_cycles(g);
	if (g->nproblems > 0)
		return report_problems(g, err);
	normalize_deps(g);
	find_heads_and_bases(g);
	g->finished = true;
	return true;
}

/* Accessors: see mg_core.h.  rev is an index below mg_graph_size() */
int
mg_graph_size(const MgGraph *g)
{
	return g->n;
}

/* The index of the revision with this exact id, or -1 */
int
mg_lookup(const MgGraph *g, const char *id)
{
	return map_get(&g->ids, id);
}

/* The revision's id */
const char *
mg_rev_id(const MgGraph *g, int rev)
{
	return g->revs[rev].id;
}

/* The revision's message, or NULL */
const char *
mg_rev_message(const MgGraph *g, int rev)
{
	return g->revs[rev].message;
}

/* The caller's tag given with the revision */
int
mg_rev_tag(const MgGraph *g, int rev)
{
	return g->revs[rev].tag;
}

/* down_revisions resolved to revisions, in declared order */
MgList
mg_rev_down(const MgGraph *g, int rev)
{
	return vec_list(g->revs[rev].down);
}

/* depends_on resolved to revisions (a label gives its declarer) */
MgList
mg_rev_deps(const MgGraph *g, int rev)
{
	return vec_list(g->revs[rev].deps);
}

/* depends_on as declared: ids or labels */
int
mg_rev_dep_names(const MgGraph *g, int rev, const char *const **names)
{
	*names = (const char *const *) g->revs[rev].dep_names;
	return g->revs[rev].ndep_names;
}

/* down_revisions plus the dependencies no ancestor already lists */
MgList
mg_rev_normalized_down(const MgGraph *g, int rev)
{
	return vec_list(g->revs[rev].norm);
}

/* Children through down_revisions ("nextrev") */
MgList
mg_rev_children(const MgGraph *g, int rev)
{
	return vec_list(g->revs[rev].next);
}

/* No child through down_revisions */
bool
mg_rev_is_head(const MgGraph *g, int rev)
{
	return g->revs[rev].next.n == 0;
}

/* No child through down_revisions or depends_on */
bool
mg_rev_is_real_head(const MgGraph *g, int rev)
{
	return g->revs[rev].allnext.n == 0;
}

/* Two or more children through down_revisions */
bool
mg_rev_is_branch_point(const MgGraph *g, int rev)
{
	return g->revs[rev].next.n > 1;
}

/* Two or more down_revisions */
bool
mg_rev_is_merge_point(const MgGraph *g, int rev)
{
	return g->revs[rev].down.n > 1;
}

/* Every head, effective heads included */
MgList
mg_heads(const MgGraph *g)
{
	return vec_list(g->heads);
}

/* The heads without children through depends_on either */
MgList
mg_real_heads(const MgGraph *g)
{
	return vec_list(g->real_heads);
}

/* The revisions without down_revisions */
MgList
mg_bases(const MgGraph *g)
{
	return vec_list(g->bases);
}

