/*-------------------------------------------------------------------------
 *
 * mg_core_int.h
 *	  Private header of the revision-graph core: the graph's layout, the
 *	  containers every core file uses, and the functions the core's files
 *	  call in one another.
 *
 * Only the core's own files (the CORE_SRCS of src/core.mk) include this
 * header; the backend, the client and the tests see src/mg_core.h only.
 * It must not declare anything that a caller outside the core needs: that
 * goes into mg_core.h.
 *
 * The core's files, each owning one concern:
 *
 *	mg_alloc.c		arena, maps, message building, graph creation and marks
 *	mg_graph.c		the name rule, graph construction and validation
 *					(mg_graph_finish), accessors
 *	mg_walk.c		walks over the graph: closures, reachability, lineage
 *	mg_labels.c		branch label inheritance
 *	mg_target.c		the whole target grammar: symbols, prefixes, label@rev,
 *					relative steps, upgrade/downgrade/stamp targets, history
 *					ranges
 *	mg_toposort.c	the topological sort of a plan or a history range
 *	mg_plan.c		version-table maintenance and the upgrade, downgrade and
 *					stamp plans
 *	mg_listing.c	current, applied, show and history
 *
 * Vocabulary follows Alembic's RevisionMap (doc/semantics.md §1-§2, the revision
 * model):
 *
 *	down	 the versioned down_revisions (parents)
 *	deps	 depends_on resolved to revision indexes (labels -> declarer)
 *	norm	 "normalized down revisions": down + the deps that no ancestor
 *			 (through down only) already lists; every traversal uses these
 *	next	 children through down only ("nextrev")
 *	allnext	 children through down or deps ("_all_nextrev")
 *
 * "Map order" is registration order: the index of a revision.  All walks are
 * iterative.  Sets over revisions are bitsets or stamp-marked arrays, so a
 * walk over the graph is linear in its size.
 *
 * Hot helpers (arena_alloc, vec_push, the map lookups, the bitset
 * operations, the walk bracket) are static inline here so that splitting
 * the core into files costs no call per element.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_CORE_INT_H
#define MG_CORE_INT_H

#include "mg_core.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * MG_ASSERT checks an invariant of the core.  It is active when the core is
 * compiled with -DMG_CORE_ASSERTS (the unit tests and the fuzz replays do)
 * and compiles to nothing in the backend and the client.
 */
#ifdef MG_CORE_ASSERTS
#include <assert.h>
#define MG_ASSERT(cond)		assert(cond)
#else
#define MG_ASSERT(cond)		((void) 0)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MG_PRINTF(f, a)
#endif

/*
 * Pseudo revision indexes.  A revision index is >= 0; two negative values
 * have a meaning, each in its own places:
 *
 *	MG_NONE (-1, mg_core.h)  "base": no revision.  Legal everywhere a
 *		revision list or a plan may name base: a stamp step's destination,
 *		a target list or a get_revision result (mg_target.c), a walk's
 *		start meaning "from the bottom" (upward) or "from the heads"
 *		(downward), and a walk that went off the graph with no_overwalk.
 *	MG_AT_BASE (-2, here)  a relative walk down that stopped exactly at
 *		base, below a base revision.  Produced only by mg_target.c's walk()
 *		and handed on only by mg_get_revisions.  Within mg_target.c the
 *		downgrade target turns it into MG_NONE, the upgrade target drops
 *		it, and the history range refuses it ("the start lands on base");
 *		outside, mg_plan_stamp treats any negative destination as base and
 *		mg_show drops it.  It never reaches a plan or a caller of the core.
 */
#define MG_AT_BASE	(-2)

/* ----------------------------------------------------------------
 * Arena (mg_alloc.c)
 * ----------------------------------------------------------------
 */

typedef struct ArenaBlock
{
	struct ArenaBlock *next;
	size_t		size;
	size_t		used;
	unsigned long seq;			/* order of allocation, for marks */
	/* data follows, aligned */
} ArenaBlock;

#define ARENA_BLOCK_SIZE	(64 * 1024)
#define ARENA_ALIGN(x)		(((x) + 15) & ~((size_t) 15))
#define BLOCK_HDR			ARENA_ALIGN(sizeof(ArenaBlock))

typedef struct Arena
{
	ArenaBlock *head;
	unsigned long nblocks;		/* blocks ever allocated */
	MgAllocFn	alloc_fn;
	MgFreeFn	free_fn;
	void	   *ctx;
} Arena;

/*
 * size bytes (zeroed, 16-byte aligned) from the arena; a large request
 * gets a block of its own, kept behind the current one.  Never fails: the
 * allocator raises or aborts.
 */
static inline void *
arena_alloc(Arena *a, size_t size)
{
	ArenaBlock *b = a->head;
	void	   *p;

	size = ARENA_ALIGN(size ? size : 1);
	if (b == NULL || b->size - b->used < size)
	{
		size_t		bsize = size > ARENA_BLOCK_SIZE / 4 ?
			size + BLOCK_HDR : ARENA_BLOCK_SIZE;

		b = a->alloc_fn(a->ctx, bsize);
		b->size = bsize;
		b->used = BLOCK_HDR;
		b->seq = ++a->nblocks;
		if (size > ARENA_BLOCK_SIZE / 4 && a->head != NULL)
		{
			/* keep the current block in front: it still has room */
			b->next = a->head->next;
			a->head->next = b;
		}
		else
		{
			b->next = a->head;
			a->head = b;
		}
	}
	p = (char *) b + b->used;
	b->used += size;
	memset(p, 0, size);
	return p;
}

/* ----------------------------------------------------------------
 * Interrupt polling
 * ----------------------------------------------------------------
 */

/*
 * The core's long loops poll the interrupt hook every MG_POLL iterations:
 * mg_poll_tick(&counter) in the loop body, with a counter local to the
 * loop, or the shared mg_poll_counter for loops without one.
 */
#define MG_POLL		1024

extern unsigned mg_poll_counter;

static inline void
mg_poll_tick(unsigned *counter)
{
	if ((++(*counter) & (MG_POLL - 1)) == 0)
		MG_CHECK_INTERRUPTS();
}

/* ----------------------------------------------------------------
 * The graph
 * ----------------------------------------------------------------
 */

/* Bitsets over revisions */
typedef uint64_t *Bits;

typedef struct IntVec
{
	int		   *v;
	int			n;
	int			cap;
} IntVec;

/*
 * A string map with open addressing.  Each slot keeps the key's hash next
 * to it, so a probe touches one cache line and compares strings only when
 * the hashes agree.
 */
typedef struct MapSlot
{
	const char *key;			/* NULL: empty */
	uint32_t	hash;
	int			val;
} MapSlot;

typedef struct StrMap
{
	MapSlot    *slots;
	int			cap;			/* power of two */
	int			n;
} StrMap;

typedef struct Rev
{
	const char *id;
	const char *message;
	int			tag;
	/* as declared */
	const char **down_ids;
	int			ndown_ids;
	const char **dep_names;
	int			ndep_names;
	const char **labels;
	int			nlabels;
	/* resolved */
	IntVec		down;
	IntVec		deps;
	IntVec		norm;
	IntVec		next;
	IntVec		allnext;
	int			topo;			/* position in a topological order */
} Rev;

typedef struct Problem
{
	MgErrCode	code;
	char	   *message;
	char	   *sentence;
} Problem;

struct MgGraph
{
	Arena		arena;
	Rev		   *revs;
	int			n;
	int			cap;
	bool		finished;
	bool		labels_done;

	StrMap		ids;			/* id -> index */
	StrMap		keys;			/* id or label -> index (Alembic's map) */
	const char **label_names;	/* label index -> name */
	int		   *label_rev;		/* label index -> declaring revision */
	int			nlabel_names;
	StrMap		label_index;	/* label -> label index */

	/* branch label inheritance (see inherit_labels) */
	int		   *ltop;			/* revision whose ancestors' labels r carries */
	Bits		hl_desc;		/* descendants of hl_rev (has_label) */
	int			hl_rev;			/* -1: hl_desc holds nothing */
	const char **lcache;		/* sorted labels of lcache_top */
	int			lcache_n;
	int			lcache_cap;
	int			lcache_top;		/* -1: lcache holds nothing */

	IntVec		heads;
	IntVec		real_heads;
	IntVec		bases;

	/*
	 * Scratch state of walks (see "Walks" below): one walk at a time.
	 * mark[] holds the stamp of the current walk for the revisions it has
	 * seen, stack[] its work list (room for every revision once).
	 */
	unsigned   *mark;
	unsigned	stamp;
	int		   *stack;
	bool		walking;		/* a walk owns mark/stamp/stack */

	/* problems found by mg_graph_finish */
	Problem    *problems;
	int			nproblems;
	int			cap_problems;
};

/* Append x to v, growing it (by doubling) in the graph's arena */
static inline void
vec_push(MgGraph *g, IntVec *v, int x)
{
	if (v->n == v->cap)
	{
		int			ncap = v->cap ? v->cap * 2 : 4;
		int		   *nv = arena_alloc(&g->arena, sizeof(int) * ncap);

		if (v->n)
			memcpy(nv, v->v, sizeof(int) * v->n);
		v->v = nv;
		v->cap = ncap;
	}
	v->v[v->n++] = x;
}

/* Linear search: for the short lists of one revision */
static inline bool
vec_contains(const IntVec *v, int x)
{
	for (int i = 0; i < v->n; i++)
		if (v->v[i] == x)
			return true;
	return false;
}

/* A vector seen as a public list, and back (no copy) */
static inline MgList
vec_list(IntVec v)
{
	MgList		l;

	l.items = v.v;
	l.n = v.n;
	return l;
}

/* A public list seen as a vector (no copy; do not push onto it) */
static inline IntVec
list_vec(MgList l)
{
	IntVec		v;

	v.v = l.items;
	v.n = l.n;
	v.cap = l.n;
	return v;
}


/* The hash of a map key */
static inline uint32_t
hash_str(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s; s++)
	{
		h ^= (unsigned char) *s;
		h *= 16777619u;
	}
	/* FNV-1a leaves the low bits of similar keys close: mix them */
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}


extern void mg_map_init(MgGraph *g, StrMap *m, int expected);
extern int	mg_map_put_h(MgGraph *g, StrMap *m, const char *key, uint32_t h,
						 int val);
extern int	mg_map_put(MgGraph *g, StrMap *m, const char *key, int val);

/*
 * Building a large graph is dominated by cache misses on map slots; the
 * loops that fill and query the maps touch the slot of a key some
 * iterations ahead, so that the misses overlap.
 */
#if defined(__GNUC__) || defined(__clang__)
#define MG_PREFETCH(p)	__builtin_prefetch(p)
#else
#define MG_PREFETCH(p)	((void) 0)
#endif
#define MG_AHEAD		16

/* Touch the home slot of hash h ahead of its lookup */
static inline void
map_prefetch(const StrMap *m, uint32_t h)
{
	MG_PREFETCH(&m->slots[h & ((uint32_t) m->cap - 1)]);
}

/* The value of key (whose hash is h), or -1 */
static inline int
map_get_h(const StrMap *m, const char *key, uint32_t h)
{
	uint32_t	mask = (uint32_t) m->cap - 1;
	uint32_t	i;

	if (m->cap == 0)
		return -1;
	for (i = h & mask; m->slots[i].key; i = (i + 1) & mask)
		if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
			return m->slots[i].val;
	return -1;
}

/* The value of key, or -1 */
static inline int
map_get(const StrMap *m, const char *key)
{
	return map_get_h(m, key, hash_str(key));
}


/* Words of one bitset: one bit per revision, plus a spare word */
static inline int
bits_words(const MgGraph *g)
{
	return (g->n + 63) / 64 + 1;
}

/* An empty bitset in the graph's arena */
static inline Bits
bits_new(MgGraph *g)
{
	return arena_alloc(&g->arena, sizeof(uint64_t) * bits_words(g));
}

/* Set, clear and test the bit of revision i */
static inline void
bit_set(Bits b, int i)
{
	b[i >> 6] |= ((uint64_t) 1) << (i & 63);
}

static inline void
bit_clear(Bits b, int i)
{
	b[i >> 6] &= ~(((uint64_t) 1) << (i & 63));
}

static inline bool
bit_test(const uint64_t *b, int i)
{
	return (b[i >> 6] >> (i & 63)) & 1;
}

/* Start a walk: it owns the scratch state until walk_end() */
static inline void
walk_begin(MgGraph *g)
{
	MG_ASSERT(!g->walking);
	g->walking = true;
}

/* End the current walk */
static inline void
walk_end(MgGraph *g)
{
	MG_ASSERT(g->walking);
	g->walking = false;
}

/* A fresh mark generation within the current walk */
static inline unsigned
new_stamp(MgGraph *g)
{
	MG_ASSERT(g->walking);
	if (++g->stamp == 0)
	{
		memset(g->mark, 0, sizeof(unsigned) * g->n);
		g->stamp = 1;
	}
	return g->stamp;
}

typedef enum EdgeKind
{
	E_DOWN,						/* versioned down_revisions */
	E_NORM,						/* normalized down revisions */
	E_NEXT,						/* children through down */
	E_ALLNEXT					/* children through down or deps */
} EdgeKind;

/* The edge list of x of kind k */
static inline IntVec *
edges(MgGraph *g, int x, EdgeKind k)
{
	Rev		   *r = &g->revs[x];

	switch (k)
	{
		case E_DOWN:
			return &r->down;
		case E_NORM:
			return &r->norm;
		case E_NEXT:
			return &r->next;
		default:
			return &r->allnext;
	}
}

/*
 * walk_down_to
 *		Does a walk from x through normalized down revisions reach target
 *		(x itself included)?  The walk skips revisions placed before target
 *		in the topological order, which cannot lead to it, and revisions
 *		outside within (if given).  Returns 1 or 0, or -1 when it gave up
 *		after visiting budget revisions (budget < 0: no limit).  One walk.
 *		Inline: the topological sort calls it for every blocked candidate.
 */
static inline int
walk_down_to(MgGraph *g, int x, int target, Bits within, int budget)
{
	unsigned	st;
	int			sp = 0;
	int			limit = g->revs[target].topo;
	int			found = 0;

	if (x == target)
		return 1;
	if (g->revs[x].topo < limit)
		return 0;
	walk_begin(g);
	st = new_stamp(g);
	g->mark[x] = st;
	g->stack[sp++] = x;
	while (sp > 0 && found == 0)
	{
		IntVec	   *e = &g->revs[g->stack[--sp]].norm;

		mg_poll_tick(&mg_poll_counter);
		for (int j = 0; j < e->n; j++)
		{
			int			p = e->v[j];

			if (p == target)
			{
				found = 1;
				break;
			}
			if (g->mark[p] == st || g->revs[p].topo < limit ||
				(within && !bit_test(within, p)))
				continue;
			if (budget >= 0 && --budget < 0)
			{
				found = -1;
				break;
			}
			g->mark[p] = st;
			g->stack[sp++] = p;
		}
	}
	walk_end(g);
	return found;
}

/* mg_walk.c */
extern void mg_closure(MgGraph *g, const int *starts, int n, EdgeKind k,
					   Bits set);
extern Bits mg_closure_of(MgGraph *g, const int *starts, int n, EdgeKind k);
extern bool mg_is_ancestor(MgGraph *g, int anc, int x);
extern Bits mg_lineage_of(MgGraph *g, int rev, bool with_deps);

/* ----------------------------------------------------------------
 * Messages (mg_alloc.c)
 * ----------------------------------------------------------------
 */

/* A growing string in the graph's arena */
typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	MgGraph    *g;
} Buf;

extern void mg_buf_init(Buf *b, MgGraph *g);
extern void mg_buf_printf(Buf *b, const char *fmt,...) MG_PRINTF(2, 3);
extern char *mg_gprintf(MgGraph *g, const char *fmt,...) MG_PRINTF(2, 3);
extern char *mg_dup_range(MgGraph *g, const char *s, size_t len);
extern const char *mg_shown(MgGraph *g, const char *s);
extern bool mg_set_error(MgError *err, MgErrCode code, char *message,
						 char *detail, char *hint);
extern char *mg_id_list(MgGraph *g, const int *items, int n);

/* ----------------------------------------------------------------
 * Labels (mg_labels.c), targets (mg_target.c), sort (mg_toposort.c)
 * ----------------------------------------------------------------
 */

extern void mg_inherit_labels(MgGraph *g);

extern bool mg_resolve_branch(MgGraph *g, const char *branch, int *out,
							  MgError *err);
extern bool mg_filter_lineage(MgGraph *g, IntVec *list, const char *branch,
							  bool with_deps, MgError *err);
extern bool mg_get_revisions(MgGraph *g, const char *sym, IntVec *out,
							 MgError *err);
extern bool mg_check_overlap(MgGraph *g, const IntVec *list, bool rows,
							 MgError *err);
extern bool mg_parse_upgrade_target(MgGraph *g, const IntVec *rows,
									const char *target, bool no_overwalk,
									IntVec *targets, MgError *err);
extern bool mg_parse_downgrade_target(MgGraph *g, const IntVec *rows,
									  const char *target, const char **branch,
									  int *out, MgError *err);
extern bool mg_parse_stamp_targets(MgGraph *g, const IntVec *rows,
								   const char *const *targets, int ntargets,
								   IntVec *filtered, IntVec *dests,
								   MgError *err);

/* A history range resolved by mg_parse_history_range */
typedef struct HistoryRange
{
	IntVec		upper;			/* revisions of the upper end */
	IntVec		lower;			/* revisions of the lower end (empty: base) */
	Bits		required;		/* the upper end and everything below it */
} HistoryRange;

extern bool mg_parse_history_range(MgGraph *g, const IntVec *rows,
								   const char *range, HistoryRange *hr,
								   MgError *err);

extern void mg_topo_sort(MgGraph *g, Bits todo, const int *heads, int nheads,
						 Bits full_scope, IntVec *out);

#endif							/* MG_CORE_INT_H */
