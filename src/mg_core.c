/*-------------------------------------------------------------------------
 *
 * mg_core.c
 *	  Revision graph, target grammar and step planning (Alembic 1.8 semantics).
 *
 * Vocabulary follows Alembic's RevisionMap (see shared/ALEMBIC.md):
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
 *-------------------------------------------------------------------------
 */
#include "mg_core.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------
 * Allocation
 * ----------------------------------------------------------------
 */

MgInterruptHook mg_interrupt_hook = NULL;

static void *
default_alloc(void *ctx, size_t size)
{
	void	   *p = malloc(size);

	(void) ctx;
	if (p == NULL)
	{
		fprintf(stderr, "out of memory\n");
		abort();
	}
	return p;
}

static void
default_free(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
}

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

static void *
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

/*
 * Marks: everything allocated after a mark can be given back at once.
 * Blocks allocated after the mark are freed, and the block that was the
 * head at the mark goes back to its fill level then.
 */
static void
arena_mark(Arena *a, MgArenaMark *m)
{
	m->seq = a->nblocks;
	m->head = a->head;
	m->used = a->head ? a->head->used : 0;
}

static void
arena_release(Arena *a, const MgArenaMark *m)
{
	ArenaBlock **link = &a->head;

	while (*link)
	{
		ArenaBlock *b = *link;

		if (b->seq > m->seq)
		{
			*link = b->next;
			a->free_fn(a->ctx, b);
		}
		else
			link = &b->next;
	}
	if (m->head)
		m->head->used = m->used;
}

static void
arena_free(Arena *a)
{
	ArenaBlock *b = a->head;

	while (b)
	{
		ArenaBlock *next = b->next;

		a->free_fn(a->ctx, b);
		b = next;
	}
	a->head = NULL;
}

/* ----------------------------------------------------------------
 * Data structures
 * ----------------------------------------------------------------
 */

/* Bitsets over revisions */
typedef uint64_t *Bits;

/*
 * The core's long loops poll the interrupt hook every MG_POLL iterations:
 * MG_POLL_TICK(counter) in the loop body.
 */
#define MG_POLL		1024
#define MG_POLL_TICK(c) \
	do { \
		if ((++(c) & (MG_POLL - 1)) == 0) \
			MG_CHECK_INTERRUPTS(); \
	} while (0)

/* for loops without a counter of their own */
static unsigned mg_poll_counter = 0;

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

	/* scratch for walks */
	unsigned   *mark;
	unsigned	stamp;
	int		   *stack;

	/* problems found by mg_graph_finish */
	Problem    *problems;
	int			nproblems;
	int			cap_problems;
};

static void
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

static bool
vec_contains(const IntVec *v, int x)
{
	for (int i = 0; i < v->n; i++)
		if (v->v[i] == x)
			return true;
	return false;
}

static MgList
vec_list(IntVec v)
{
	MgList		l;

	l.items = v.v;
	l.n = v.n;
	return l;
}

static uint32_t
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

static void
map_init(MgGraph *g, StrMap *m, int expected)
{
	int			cap = 16;

	while (cap < expected * 2)
		cap *= 2;
	m->cap = cap;
	m->n = 0;
	m->slots = arena_alloc(&g->arena, sizeof(MapSlot) * cap);
}

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

static inline void
map_prefetch(const StrMap *m, uint32_t h)
{
	MG_PREFETCH(&m->slots[h & ((uint32_t) m->cap - 1)]);
}

static int
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

static int
map_get(const StrMap *m, const char *key)
{
	return map_get_h(m, key, hash_str(key));
}

/* Insert key; returns the existing value if present (and does not insert) */
static int
map_put_h(MgGraph *g, StrMap *m, const char *key, uint32_t h, int val)
{
	uint32_t	mask;
	uint32_t	i;

	if ((m->n + 1) * 2 > m->cap)
	{
		StrMap		old = *m;

		map_init(g, m, old.cap);
		for (int j = 0; j < old.cap; j++)
			if (old.slots[j].key)
				map_put_h(g, m, old.slots[j].key, old.slots[j].hash,
						  old.slots[j].val);
	}
	mask = (uint32_t) m->cap - 1;
	for (i = h & mask; m->slots[i].key; i = (i + 1) & mask)
		if (m->slots[i].hash == h && strcmp(m->slots[i].key, key) == 0)
			return m->slots[i].val;
	m->slots[i].key = key;
	m->slots[i].hash = h;
	m->slots[i].val = val;
	m->n++;
	return -1;
}

static int
map_put(MgGraph *g, StrMap *m, const char *key, int val)
{
	return map_put_h(g, m, key, hash_str(key), val);
}

/* Bitsets over revisions */

static Bits
bits_new(MgGraph *g)
{
	return arena_alloc(&g->arena, sizeof(uint64_t) * ((g->n + 63) / 64 + 1));
}

#define BIT_SET(b, i)	((b)[(i) >> 6] |= ((uint64_t) 1) << ((i) & 63))
#define BIT_CLR(b, i)	((b)[(i) >> 6] &= ~(((uint64_t) 1) << ((i) & 63)))
#define BIT_TEST(b, i)	(((b)[(i) >> 6] >> ((i) & 63)) & 1)

/* A fresh mark generation for a walk */
static unsigned
new_stamp(MgGraph *g)
{
	if (++g->stamp == 0)
	{
		memset(g->mark, 0, sizeof(unsigned) * g->n);
		g->stamp = 1;
	}
	return g->stamp;
}

/* ----------------------------------------------------------------
 * String building and errors
 * ----------------------------------------------------------------
 */

#if defined(__GNUC__) || defined(__clang__)
#define MG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MG_PRINTF(f, a)
#endif

typedef struct Buf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	MgGraph    *g;
} Buf;

static void
buf_init(Buf *b, MgGraph *g)
{
	b->g = g;
	b->cap = 128;
	b->len = 0;
	b->data = arena_alloc(&g->arena, b->cap);
}

static void
buf_reserve(Buf *b, size_t extra)
{
	if (b->len + extra + 1 > b->cap)
	{
		size_t		ncap = b->cap * 2;
		char	   *nd;

		while (b->len + extra + 1 > ncap)
			ncap *= 2;
		nd = arena_alloc(&b->g->arena, ncap);
		memcpy(nd, b->data, b->len + 1);
		b->data = nd;
		b->cap = ncap;
	}
}

static void buf_printf(Buf *b, const char *fmt,...) MG_PRINTF(2, 3);
static char *gprintf(MgGraph *g, const char *fmt,...) MG_PRINTF(2, 3);

static void
buf_printf(Buf *b, const char *fmt,...)
{
	va_list		ap;
	int			need;
	char		probe[1];

	va_start(ap, fmt);
	need = vsnprintf(probe, sizeof(probe), fmt, ap);
	va_end(ap);
	buf_reserve(b, (size_t) need);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t) need + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) need;
}

static char *
gprintf(MgGraph *g, const char *fmt,...)
{
	va_list		ap;
	int			need;
	char		probe[1];
	char	   *s;

	va_start(ap, fmt);
	need = vsnprintf(probe, sizeof(probe), fmt, ap);
	va_end(ap);
	s = arena_alloc(&g->arena, (size_t) need + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t) need + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* Print a user string for a message: truncated if very long */
#define SHOWN_MAX 80
static const char *
shown(MgGraph *g, const char *s)
{
	size_t		len = strlen(s);
	int			cut = SHOWN_MAX;

	if (len <= SHOWN_MAX)
		return s;
	/* cut on a character boundary: never inside a UTF-8 sequence */
	while (cut > 0 && ((unsigned char) s[cut] & 0xc0) == 0x80)
		cut--;
	return gprintf(g, "%.*s...", cut, s);
}

static bool
set_error(MgGraph *g, MgError *err, MgErrCode code, char *message,
		  char *detail, char *hint)
{
	(void) g;
	err->code = code;
	err->message = message;
	err->detail = detail;
	err->hint = hint;
	return false;
}

/* Comma-separated list of revision ids, with "and" before the last */
static char *
id_list(MgGraph *g, const int *items, int n)
{
	Buf			b;
	int			shown_n = n > 20 ? 20 : n;

	buf_init(&b, g);
	for (int i = 0; i < shown_n; i++)
	{
		if (i > 0)
			buf_printf(&b, i == n - 1 ? " and " : ", ");
		buf_printf(&b, "\"%s\"", g->revs[items[i]].id);
	}
	if (shown_n < n)
		buf_printf(&b, " and %d more", n - shown_n);
	return b.data;
}

/* ----------------------------------------------------------------
 * Construction
 * ----------------------------------------------------------------
 */

MgGraph *
mg_graph_new_in(MgAllocFn alloc_fn, MgFreeFn free_fn, void *ctx)
{
	Arena		a;
	MgGraph    *g;

	a.head = NULL;
	a.alloc_fn = alloc_fn ? alloc_fn : default_alloc;
	a.free_fn = free_fn ? free_fn : default_free;
	a.ctx = ctx;
	g = arena_alloc(&a, sizeof(MgGraph));
	g->arena = a;
	return g;
}

MgGraph *
mg_graph_new(void)
{
	return mg_graph_new_in(NULL, NULL, NULL);
}

void
mg_graph_free(MgGraph *g)
{
	Arena		a;

	if (g == NULL)
		return;
	a = g->arena;
	arena_free(&a);
}

void *
mg_graph_alloc(MgGraph *g, size_t size)
{
	return arena_alloc(&g->arena, size);
}

char *
mg_graph_strdup(MgGraph *g, const char *s)
{
	size_t		len = strlen(s);
	char	   *p = arena_alloc(&g->arena, len + 1);

	memcpy(p, s, len + 1);
	return p;
}

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

static void inherit_labels(MgGraph *g);

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
 * mg_graph_mark, mg_graph_release
 *		A finished graph kept for several uses (the backend keeps one per
 *		catalog state) takes a mark once it is complete; after each use,
 *		release gives back what the use allocated (plans, lists, strings).
 *		mg_graph_mark first computes what the graph computes lazily, so
 *		that nothing a later use relies on is allocated after the mark.
 */
void
mg_graph_mark(MgGraph *g, MgArenaMark *m)
{
	if (g->finished)
		inherit_labels(g);
	arena_mark(&g->arena, m);
}

void
mg_graph_release(MgGraph *g, const MgArenaMark *m)
{
	Arena		a = g->arena;	/* the graph itself lives in the arena */

	arena_release(&a, m);
	g->arena = a;
	/* the label list kept by mg_rev_labels was allocated after the mark */
	g->lcache = NULL;
	g->lcache_cap = 0;
	g->lcache_n = 0;
	g->lcache_top = -1;
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

static bool
valid_name(const char *s, size_t maxlen)
{
	size_t		len = 0;

	for (; *s; s++, len++)
	{
		char		c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return len >= 1 && len <= maxlen;
}

/* Words of the target grammar cannot name a revision or a branch */
bool
mg_reserved_name(const char *s)
{
	return strcmp(s, "base") == 0 || strcmp(s, "head") == 0 ||
		strcmp(s, "heads") == 0 || strcmp(s, "current") == 0;
}

bool
mg_valid_id(const char *s)
{
	return s != NULL && valid_name(s, MG_MAX_ID_LEN) && !mg_reserved_name(s);
}

bool
mg_valid_label(const char *s)
{
	return s != NULL && valid_name(s, MG_MAX_LABEL_LEN) && !mg_reserved_name(s);
}

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

int
mg_strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * mg_check_name: see mg_core.h.  The words of each kind, its limit and its
 * DETAIL are in one table so that a message can only be written once.
 */
bool
mg_check_name(MgNameKind kind, const char *s, size_t len, const char *owner,
			  MgNameProblem *p)
{
	static const struct
	{
		const char *what;
		size_t		max;
		const char *detail;
	}			kinds[] =
	{
		[MG_NAME_REVISION] = {"revision id", MG_MAX_ID_LEN,
		"A revision id is 1 to %d letters, digits or underscores."},
		[MG_NAME_DOWN_REVISION] = {"down_revision", MG_MAX_ID_LEN,
		"A down_revision is a revision id: 1 to %d letters, digits or underscores."},
		[MG_NAME_DEPENDENCY] = {"dependency", MG_MAX_LABEL_LEN,
		"A dependency is a revision id or a branch label: 1 to %d letters, digits or underscores."},
		[MG_NAME_BRANCH_LABEL] = {"branch label", MG_MAX_LABEL_LEN,
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
	if (legal && !mg_reserved_name(s))
		return true;

	cut = mg_clip(s, len, MG_SHOWN_MAX);
	more = (size_t) cut < len ? "..." : "";
	if (legal)
	{
		p->code = MG_E_RESERVED_NAME;
		if (owner)
			snprintf(p->message, sizeof(p->message),
					 "%s \"%s\" in revision \"%.*s\" is a reserved word",
					 kinds[kind].what, s, MG_MAX_ID_LEN, owner);
		else
			snprintf(p->message, sizeof(p->message),
					 "%s \"%s\" is a reserved word", kinds[kind].what, s);
		snprintf(p->detail, sizeof(p->detail), "%s",
				 "\"base\", \"head\", \"heads\" and \"current\" are words of the target grammar.");
	}
	else
	{
		p->code = MG_E_INVALID_NAME;
		if (owner)
			snprintf(p->message, sizeof(p->message),
					 "invalid %s \"%.*s%s\" in revision \"%.*s\"",
					 kinds[kind].what, cut, s, more, MG_MAX_ID_LEN, owner);
		else
			snprintf(p->message, sizeof(p->message), "invalid %s \"%.*s%s\"",
					 kinds[kind].what, cut, s, more);
		snprintf(p->detail, sizeof(p->detail), kinds[kind].detail,
				 (int) kinds[kind].max);
	}
	return false;
}

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
				gprintf(g, "%c%s. %s", toupper((unsigned char) np->message[0]),
						np->message + 1, np->detail));
}

/*
 * find_cycle
 *		Kahn's algorithm over the parent edges (down only, or down + deps).
 *		Revisions left over lie on or above a cycle; following left-over
 *		parents from one of them must come back, which names one cycle.
 *		On success fills the topological position of every revision.
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

	/*
	 * In-degree: distinct predecessors, as the child lists hold each
	 * predecessor once (allnext leaves out a dependency that is also a
	 * parent).
	 */
	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];

		MG_POLL_TICK(tick);
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

			MG_POLL_TICK(tick);
			if (--indeg[c] == 0)
				queue[qt++] = c;
		}
	}
	if (qt == g->n)
		return false;

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

			MG_POLL_TICK(tick);
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
	return true;
}

static char *
cycle_text(MgGraph *g, IntVec *cycle)
{
	Buf			b;

	/* a long cycle shows its first and last revisions, as id_list caps lists */
	buf_init(&b, g);
	for (int i = 0; i < cycle->n; i++)
	{
		if (cycle->n > 20 && i == 10)
		{
			buf_printf(&b, "... (%d more) -> ", cycle->n - 20);
			i = cycle->n - 10;
		}
		buf_printf(&b, "%s -> ", g->revs[cycle->v[i]].id);
	}
	buf_printf(&b, "%s", g->revs[cycle->v[0]].id);
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

	for (int i = 0; i < g->n; i++)
		for (int j = 0; j < g->revs[i].deps.n; j++)
		{
			MG_POLL_TICK(tick);
			vec_push(g, &users[g->revs[i].deps.v[j]], i);
		}

	for (int d = 0; d < g->n; d++)
	{
		unsigned	st;
		int			sp = 0;
		int			last = -1;

		MG_POLL_TICK(tick);
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

			MG_POLL_TICK(tick);
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

		MG_POLL_TICK(tick);
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

			MG_POLL_TICK(tick);
			if (g->mark[d] != st)
			{
				vec_push(g, &r->norm, d);
				g->mark[d] = st;
			}
		}
	}
}

bool
mg_graph_finish(MgGraph *g, MgError *err)
{
	uint32_t   *hashes;
	unsigned	tick = 0;
	MgNameProblem np;

	g->mark = arena_alloc(&g->arena, sizeof(unsigned) * (g->n + 1));
	g->stack = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	g->stamp = 0;
	map_init(g, &g->ids, g->n);
	map_init(g, &g->keys, g->n);
	g->hl_rev = -1;
	g->lcache_top = -1;

	/* hashes of the ids, computed once for both maps */
	hashes = arena_alloc(&g->arena, sizeof(uint32_t) * (g->n + 1));
	for (int i = 0; i < g->n; i++)
	{
		hashes[i] = hash_str(g->revs[i].id);
		MG_POLL_TICK(tick);
	}

	/* ids: format and uniqueness */
	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];
		int			prev;

		MG_POLL_TICK(tick);
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
		prev = map_put_h(g, &g->ids, r->id, hashes[i], i);
		if (prev >= 0)
		{
			add_problem(g, MG_E_DUPLICATE,
						gprintf(g, "revision \"%s\" is defined more than once", r->id),
						gprintf(g, "Revision \"%s\" is defined more than once.", r->id));
		}
		else
			map_put_h(g, &g->keys, r->id, hashes[i], i);
	}

	/*
	 * branch labels share the namespace of ids; the label arrays are sized
	 * once, for all the labels declared
	 */
	{
		size_t		total = 0;

		for (int i = 0; i < g->n; i++)
		{
			total += (size_t) g->revs[i].nlabels;
			MG_POLL_TICK(tick);
		}
		g->label_names = arena_alloc(&g->arena, sizeof(char *) * (total + 1));
		g->label_rev = arena_alloc(&g->arena, sizeof(int) * (total + 1));
		map_init(g, &g->label_index, total > (size_t) (INT32_MAX / 4) ?
				 INT32_MAX / 4 : (int) total);
	}
	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];

		for (int j = 0; j < r->nlabels; j++)
		{
			const char *l = r->labels[j];
			int			prev;

			MG_POLL_TICK(tick);

			if (!mg_check_name(MG_NAME_BRANCH_LABEL, l, strlen(l), r->id, &np))
			{
				add_name_problem(g, &np);
				continue;
			}
			prev = map_put(g, &g->keys, l, i);
			if (prev >= 0)
			{
				add_problem(g, MG_E_DUPLICATE,
							gprintf(g, "branch label \"%s\" of revision \"%s\" is already used by revision \"%s\"",
									l, r->id, g->revs[prev].id),
							map_get(&g->ids, l) >= 0 ?
							gprintf(g, "Branch label \"%s\" of revision \"%s\" is the id of revision \"%s\".",
									l, r->id, g->revs[prev].id) :
							gprintf(g, "Branch label \"%s\" of revision \"%s\" is also declared by revision \"%s\".",
									l, r->id, g->revs[prev].id));
				continue;
			}
			if (map_put(g, &g->label_index, l, g->nlabel_names) < 0)
			{
				g->label_names[g->nlabel_names] = l;
				g->label_rev[g->nlabel_names] = i;
				g->nlabel_names++;
			}
		}
	}

	/*
	 * resolve down_revisions and depends_on; the first down_revision of the
	 * revision MG_AHEAD places on is hashed (and its slot fetched) early
	 */
	for (int i = 0; i < MG_AHEAD && i < g->n; i++)
		if (g->revs[i].ndown_ids > 0)
			hashes[i] = hash_str(g->revs[i].down_ids[0]);
	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];
		int			k = i + MG_AHEAD;
		unsigned	st = new_stamp(g);	/* marks the parents taken */

		MG_POLL_TICK(tick);
		if (k < g->n && g->revs[k].ndown_ids > 0)
		{
			hashes[k] = hash_str(g->revs[k].down_ids[0]);
			map_prefetch(&g->ids, hashes[k]);
		}
		for (int j = 0; j < r->ndown_ids; j++)
		{
			const char *d = r->down_ids[j];
			int			p = map_get_h(&g->ids, d, j == 0 ? hashes[i] : hash_str(d));

			MG_POLL_TICK(tick);

			if (strcmp(d, r->id) == 0)
			{
				add_problem(g, MG_E_CYCLE,
							gprintf(g, "revision \"%s\" is its own down_revision", r->id),
							gprintf(g, "Revision \"%s\" lists itself in down_revisions.", r->id));
			}
			else if (p < 0)
			{
				add_problem(g, MG_E_UNDEFINED,
							gprintf(g, "down_revision \"%s\" of revision \"%s\" does not exist",
									shown(g, d), r->id),
							gprintf(g, "Revision \"%s\" has down_revision \"%s\", which is not registered.",
									r->id, shown(g, d)));
			}
			else if (g->mark[p] == st)
			{
				add_problem(g, MG_E_DUPLICATE,
							gprintf(g, "down_revision \"%s\" is listed twice in revision \"%s\"", d, r->id),
							gprintf(g, "Revision \"%s\" lists down_revision \"%s\" more than once.", r->id, d));
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

			MG_POLL_TICK(tick);

			if (strcmp(d, r->id) == 0 || p == i)
			{
				add_problem(g, MG_E_CYCLE,
							gprintf(g, "revision \"%s\" depends on itself", r->id),
							gprintf(g, "Revision \"%s\" lists itself in depends_on.", r->id));
			}
			else if (p < 0)
			{
				add_problem(g, MG_E_UNDEFINED,
							gprintf(g, "dependency \"%s\" of revision \"%s\" does not exist",
									shown(g, d), r->id),
							gprintf(g, "Revision \"%s\" depends on \"%s\", which is neither a registered revision nor a branch label.",
									r->id, shown(g, d)));
			}
			else if (g->mark[p] != st)
			{
				g->mark[p] = st;
				vec_push(g, &r->deps, p);
			}
		}
	}

	/* allnext: children through down or deps, in map order */
	for (int i = 0; i < g->n; i++)
	{
		Rev		   *r = &g->revs[i];
		unsigned	st = new_stamp(g);

		MG_POLL_TICK(tick);
		for (int j = 0; j < r->down.n; j++)
		{
			vec_push(g, &g->revs[r->down.v[j]].allnext, i);
			g->mark[r->down.v[j]] = st;
		}
		for (int j = 0; j < r->deps.n; j++)
		{
			MG_POLL_TICK(tick);
			if (g->mark[r->deps.v[j]] != st)
				vec_push(g, &g->revs[r->deps.v[j]].allnext, i);
		}
	}

	/* cycles: through down_revisions first, then with dependencies */
	{
		IntVec		cycle = {0};

		if (find_cycle(g, false, &cycle))
		{
			char	   *t = cycle_text(g, &cycle);

			add_problem(g, MG_E_CYCLE,
						gprintf(g, "revisions form a cycle: %s", t),
						gprintf(g, "Revisions form a cycle through down_revisions: %s.", t));
		}
		else if (find_cycle(g, true, &cycle))
		{
			char	   *t = cycle_text(g, &cycle);

			add_problem(g, MG_E_CYCLE,
						gprintf(g, "revisions form a dependency cycle: %s", t),
						gprintf(g, "Revisions form a cycle through down_revisions and depends_on: %s.", t));
		}
	}

	if (g->nproblems > 0)
	{
		Buf			b;

		buf_init(&b, g);
		for (int i = 0; i < g->nproblems; i++)
		{
			if (i >= 50)
			{
				buf_printf(&b, "\n%d more problems.", g->nproblems - i);
				break;
			}
			buf_printf(&b, "%s%s", i ? "\n" : "", g->problems[i].sentence);
		}
		return set_error(g, err, g->problems[0].code, g->problems[0].message,
						 b.data, NULL);
	}

	normalize_deps(g);

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
	g->finished = true;
	return true;
}

/* ----------------------------------------------------------------
 * Accessors
 * ----------------------------------------------------------------
 */

int
mg_graph_size(const MgGraph *g)
{
	return g->n;
}

int
mg_lookup(const MgGraph *g, const char *id)
{
	return map_get(&g->ids, id);
}

const char *
mg_rev_id(const MgGraph *g, int rev)
{
	return g->revs[rev].id;
}

const char *
mg_rev_message(const MgGraph *g, int rev)
{
	return g->revs[rev].message;
}

int
mg_rev_tag(const MgGraph *g, int rev)
{
	return g->revs[rev].tag;
}

MgList
mg_rev_down(const MgGraph *g, int rev)
{
	return vec_list(g->revs[rev].down);
}

MgList
mg_rev_deps(const MgGraph *g, int rev)
{
	return vec_list(g->revs[rev].deps);
}

int
mg_rev_dep_names(const MgGraph *g, int rev, const char *const **names)
{
	*names = (const char *const *) g->revs[rev].dep_names;
	return g->revs[rev].ndep_names;
}

MgList
mg_rev_normalized_down(const MgGraph *g, int rev)
{
	return vec_list(g->revs[rev].norm);
}

MgList
mg_rev_children(const MgGraph *g, int rev)
{
	return vec_list(g->revs[rev].next);
}

bool
mg_rev_is_head(const MgGraph *g, int rev)
{
	return g->revs[rev].next.n == 0;
}

bool
mg_rev_is_real_head(const MgGraph *g, int rev)
{
	return g->revs[rev].allnext.n == 0;
}

bool
mg_rev_is_branch_point(const MgGraph *g, int rev)
{
	return g->revs[rev].next.n > 1;
}

bool
mg_rev_is_merge_point(const MgGraph *g, int rev)
{
	return g->revs[rev].down.n > 1;
}

MgList
mg_heads(const MgGraph *g)
{
	return vec_list(g->heads);
}

MgList
mg_real_heads(const MgGraph *g)
{
	return vec_list(g->real_heads);
}

MgList
mg_bases(const MgGraph *g)
{
	return vec_list(g->bases);
}

/* ----------------------------------------------------------------
 * Walks
 * ----------------------------------------------------------------
 */

typedef enum EdgeKind
{
	E_DOWN,						/* versioned down_revisions */
	E_NORM,						/* normalized down revisions */
	E_NEXT,						/* children through down */
	E_ALLNEXT					/* children through down or deps */
} EdgeKind;

static IntVec *
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

/* Add to set everything reachable from starts (inclusive) */
static void
closure(MgGraph *g, const int *starts, int n, EdgeKind k, Bits set)
{
	int			sp = 0;
	unsigned	tick = 0;

	for (int i = 0; i < n; i++)
		if (starts[i] >= 0 && !BIT_TEST(set, starts[i]))
		{
			BIT_SET(set, starts[i]);
			g->stack[sp++] = starts[i];
		}
	while (sp > 0)
	{
		IntVec	   *e = edges(g, g->stack[--sp], k);

		MG_POLL_TICK(tick);
		for (int j = 0; j < e->n; j++)
			if (!BIT_TEST(set, e->v[j]))
			{
				BIT_SET(set, e->v[j]);
				g->stack[sp++] = e->v[j];
			}
	}
}

static Bits
closure_of(MgGraph *g, const int *starts, int n, EdgeKind k)
{
	Bits		set = bits_new(g);

	closure(g, starts, n, k, set);
	return set;
}

/*
 * walk_down_to
 *		Does a walk from x through normalized down revisions reach target
 *		(x itself included)?  The walk skips revisions placed before target
 *		in the topological order, which cannot lead to it, and revisions
 *		outside within (if given).  Returns 1 or 0, or -1 when it gave up
 *		after visiting budget revisions (budget < 0: no limit).
 */
static int
walk_down_to(MgGraph *g, int x, int target, Bits within, int budget)
{
	unsigned	st;
	int			sp = 0;
	int			limit = g->revs[target].topo;

	if (x == target)
		return 1;
	if (g->revs[x].topo < limit)
		return 0;
	st = new_stamp(g);
	g->mark[x] = st;
	g->stack[sp++] = x;
	while (sp > 0)
	{
		IntVec	   *e = &g->revs[g->stack[--sp]].norm;

		MG_POLL_TICK(mg_poll_counter);
		for (int j = 0; j < e->n; j++)
		{
			int			p = e->v[j];

			if (p == target)
				return 1;
			if (g->mark[p] == st || g->revs[p].topo < limit ||
				(within && !BIT_TEST(within, p)))
				continue;
			if (budget >= 0 && --budget < 0)
				return -1;
			g->mark[p] = st;
			g->stack[sp++] = p;
		}
	}
	return 0;
}

/* Is anc an ancestor of x, or x itself (through normalized down revisions)? */
static bool
is_ancestor(MgGraph *g, int anc, int x)
{
	return walk_down_to(g, x, anc, NULL, -1) == 1;
}

/*
 * Lineage of one revision: its ancestors and descendants, with or without
 * dependency edges.  "Shares lineage with b" is membership in this set.
 */
static Bits
lineage_of(MgGraph *g, int rev, bool with_deps)
{
	Bits		set = bits_new(g);

	closure(g, &rev, 1, with_deps ? E_NORM : E_DOWN, set);
	BIT_CLR(set, rev);
	closure(g, &rev, 1, with_deps ? E_ALLNEXT : E_NEXT, set);
	return set;
}

/* ----------------------------------------------------------------
 * Branch label inheritance (Alembic's _add_branches)
 * ----------------------------------------------------------------
 */

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
static void
inherit_labels(MgGraph *g)
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

		MG_POLL_TICK(tick);
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

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * Visit the ancestors of top through down_revisions (top included); with
 * out, store their declared labels there, else count them.
 */
static size_t
ancestor_labels(MgGraph *g, int top, const char **out)
{
	unsigned	st = new_stamp(g);
	unsigned	tick = 0;
	int			sp = 0;
	size_t		n = 0;

	g->mark[top] = st;
	g->stack[sp++] = top;
	while (sp > 0)
	{
		Rev		   *r = &g->revs[g->stack[--sp]];

		MG_POLL_TICK(tick);
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

	inherit_labels(g);
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
			qsort(g->lcache, n, sizeof(char *), cmp_strp);
		g->lcache_n = (int) n;
		g->lcache_top = top;
	}
	*labels = g->lcache_n > 0 ? g->lcache : NULL;
	return g->lcache_n;
}

/*
 * has_label
 *		Does rev carry label?  Its declarer must be an ancestor of ltop[rev];
 *		the descendants of the last declarer asked about are kept, as the
 *		callers test one label on many revisions.
 */
static bool
has_label(MgGraph *g, int rev, const char *label)
{
	int			li = map_get(&g->label_index, label);
	int			d;

	if (li < 0)
		return false;
	inherit_labels(g);
	d = g->label_rev[li];
	if (g->hl_rev != d)
	{
		g->hl_rev = -1;
		memset(g->hl_desc, 0, sizeof(uint64_t) * ((g->n + 63) / 64 + 1));
		closure(g, &d, 1, E_NEXT, g->hl_desc);
		g->hl_rev = d;
	}
	return BIT_TEST(g->hl_desc, g->ltop[rev]);
}

bool
mg_rev_has_label(MgGraph *g, int rev, const char *label)
{
	return has_label(g, rev, label);
}

/* ----------------------------------------------------------------
 * Symbol resolution (Alembic's get_revision / get_revisions)
 * ----------------------------------------------------------------
 */

/* Result of resolving a revision; MG_NONE means "base" (nothing) */
#define R_BASE	(-2)			/* the pseudo revision "base" of a walk */

static bool resolve_ident(MgGraph *g, const char *text, const char *branch,
						  int *out, MgError *err);

/*
 * resolve_branch
 *		The revision a branch name stands for: the declarer of a label, a
 *		revision id, or a unique prefix.
 */
static bool
resolve_branch(MgGraph *g, const char *branch, int *out, MgError *err)
{
	int			r = map_get(&g->keys, branch);

	if (r >= 0)
	{
		*out = r;
		return true;
	}
	if (!resolve_ident(g, branch, NULL, out, err))
		return set_error(g, err, MG_E_UNDEFINED,
						 gprintf(g, "branch \"%s\" does not exist", shown(g, branch)),
						 gprintf(g, "No branch label, revision id or unique id prefix matches \"%s\".",
								 shown(g, branch)),
						 NULL);
	return true;
}

/*
 * filter_lineage
 *		Keep the revisions of list that share lineage with the branch.
 */
static bool
filter_lineage(MgGraph *g, IntVec *list, const char *branch, bool with_deps,
			   MgError *err)
{
	int			b;
	Bits		lin;
	int			k = 0;

	if (!resolve_branch(g, branch, &b, err))
		return false;
	lin = lineage_of(g, b, with_deps);
	BIT_SET(lin, b);
	for (int i = 0; i < list->n; i++)
		if (list->v[i] >= 0 && BIT_TEST(lin, list->v[i]))
			list->v[k++] = list->v[i];
	list->n = k;
	return true;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
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
		if (!resolve_branch(g, branch, &branch_rev, err))
			return false;
		lin = lineage_of(g, branch_rev, false);
		BIT_SET(lin, branch_rev);
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
			if (lin && !BIT_TEST(lin, g->keys.slots[i].val))
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
			return set_error(g, err, MG_E_UNDEFINED,
							 gprintf(g, "revision \"%s\" does not exist", shown(g, text)),
							 branch ?
							 gprintf(g, "No revision id, branch label or unique id prefix in the lineage of branch \"%s\" matches \"%s\".",
									 shown(g, branch), shown(g, text)) :
							 gprintf(g, "No revision id, branch label or unique id prefix matches \"%s\".",
									 shown(g, text)),
							 len < 4 ?
							 gprintf(g, "Prefixes match only revision ids and labels longer than three characters.") :
							 NULL);
		if (ncands > 1)
		{
			Buf			b;
			int			shown_n = ncands > 10 ? 10 : ncands;

			qsort(cands, ncands, sizeof(char *), cmp_str);
			buf_init(&b, g);
			buf_printf(&b, "Prefix \"%s\" matches ", shown(g, text));
			for (int i = 0; i < shown_n; i++)
				buf_printf(&b, "%s\"%s\"", i == 0 ? "" : (i == ncands - 1 ? " and " : ", "),
						   cands[i]);
			if (shown_n < ncands)
				buf_printf(&b, " and %d more", ncands - shown_n);
			buf_printf(&b, ".");
			return set_error(g, err, MG_E_AMBIGUOUS,
							 gprintf(g, "revision prefix \"%s\" is ambiguous", shown(g, text)),
							 b.data,
							 gprintf(g, "Give more characters of the revision id."));
		}
		rev = map_get(&g->keys, cands[0]);
	}

	if (lin && !BIT_TEST(lin, rev))
		return set_error(g, err, MG_E_INVALID_TARGET,
						 gprintf(g, "revision \"%s\" is not a member of branch \"%s\"",
								 g->revs[rev].id, shown(g, branch)),
						 gprintf(g, "Revision \"%s\" is neither an ancestor nor a descendant of revision \"%s\".",
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

static char *
dup_range(MgGraph *g, const char *s, size_t len)
{
	char	   *p = arena_alloc(&g->arena, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static char *
multiple_heads_hint(MgGraph *g)
{
	return gprintf(g, "Use \"heads\" to target all heads, or \"<branch>@head\" to target the head of one branch.");
}

/* get_current_head(branch) */
static bool
current_head(MgGraph *g, const char *branch, const char *argument, IntVec *out,
			 MgError *err)
{
	IntVec		heads = {0};

	for (int i = 0; i < g->heads.n; i++)
		vec_push(g, &heads, g->heads.v[i]);
	if (branch && !filter_lineage(g, &heads, branch, false, err))
		return false;
	if (heads.n > 1)
		return set_error(g, err, MG_E_MULTIPLE_HEADS,
						 gprintf(g, "target \"%s\" matches several head revisions", shown(g, argument)),
						 gprintf(g, "The heads are %s.", id_list(g, heads.v, heads.n)),
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
	return set_error(g, err, MG_E_INVALID_TARGET,
					 gprintf(g, "invalid target \"%s\"", shown(g, argument)),
					 gprintf(g, "A branch name and a revision must stand on both sides of \"@\", as in \"<branch>@head\"."),
					 NULL);
}

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
		res->branch = dup_range(g, sym, (size_t) (at - sym));
		sym = at + 1;
	}
	if (*sym == '\0')
		return set_error(g, err, MG_E_INVALID_TARGET,
						 gprintf(g, "target must not be empty"), NULL, NULL);
	if (strcmp(sym, "heads") == 0)
	{
		if (res->branch)
		{
			for (int i = 0; i < g->heads.n; i++)
				vec_push(g, &res->revs, g->heads.v[i]);
			return filter_lineage(g, &res->revs, res->branch, false, err);
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

/* Parse an optionally signed decimal; false if not an integer */
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
 * get_revisions
 *		All revisions a symbol names; "-N" walks down from each head.
 */
static bool
get_revisions(MgGraph *g, const char *sym, IntVec *out, MgError *err)
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

			if (res.branch && !has_label(g, h, res.branch))
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

/* get_revision: at most one revision; MG_NONE for base */
static bool
get_revision(MgGraph *g, const char *sym, int *out, MgError *err)
{
	Resolved	res;

	if (!resolve_number(g, sym, sym, &res, err))
		return false;
	if (res.text == NULL)
	{
		if (res.revs.n > 1)
			return set_error(g, err, MG_E_MULTIPLE_HEADS,
							 gprintf(g, "target \"%s\" matches several head revisions", shown(g, sym)),
							 gprintf(g, "The heads are %s.", id_list(g, res.revs.v, res.revs.n)),
							 multiple_heads_hint(g));
		*out = res.revs.n ? res.revs.v[0] : MG_NONE;
		return true;
	}
	return resolve_ident(g, res.text, res.branch, out, err);
}

/*
 * walk
 *		Alembic's _walk: |steps| steps up (children through down, filtered by
 *		branch) or down (down_revisions; below a base is R_BASE).  Walking
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

		if (!resolve_branch(g, branch, &b, err))
			return false;
		lin = lineage_of(g, b, false);
		BIT_SET(lin, b);
	}
	for (long s = 0; s < nsteps; s++)
	{
		IntVec	   *src;

		MG_POLL_TICK(mg_poll_counter);
		cand.n = 0;
		if (steps > 0)
		{
			if (cur == R_BASE)
				src = &g->bases;
			else
				src = cur == MG_NONE ? &g->bases : &g->revs[cur].next;
			for (int i = 0; i < src->n; i++)
				if (lin == NULL || BIT_TEST(lin, src->v[i]))
					vec_push(g, &cand, src->v[i]);
		}
		else
		{
			if (cur != R_BASE)
			{
				src = cur == MG_NONE ? &g->heads : &g->revs[cur].down;
				for (int i = 0; i < src->n; i++)
					vec_push(g, &cand, src->v[i]);
				if (cand.n == 0)
					vec_push(g, &cand, R_BASE);
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
			return set_error(g, err, MG_E_INVALID_TARGET,
							 gprintf(g, "relative target \"%s\" is ambiguous", shown(g, argument)),
							 cur >= 0 ?
							 gprintf(g, "Walking %s from revision \"%s\" reaches %s.",
									 steps > 0 ? "up" : "down", g->revs[cur].id,
									 id_list(g, cand.v, cand.n)) :
							 gprintf(g, "Walking %s from %s reaches %s.",
									 steps > 0 ? "up" : "down",
									 steps > 0 ? "base" : "the heads",
									 id_list(g, cand.v, cand.n)),
							 gprintf(g, "Name a revision on one branch, for example \"<branch>@+1\" or \"<revision>-1\"."));
		cur = cand.v[0];
	}
	*out = cur;
	return true;
}

/* DETAIL for a relative walk that leaves the graph */
static char *
steps_detail(MgGraph *g, long n, const char *where, const char *from)
{
	const char *start = from ? gprintf(g, "\"%s\"", shown(g, from)) : "the current revision";

	if (n == 1)
		return gprintf(g, "No revision lies %s %s.", where, start);
	return gprintf(g, "Fewer than %ld revisions lie %s %s.", n, where, start);
}

/* The relative-target pattern (?:(.+?)@)?(\w+)?((?:\+|-)\d+), anchored */
typedef struct Relative
{
	const char *branch;			/* NULL if absent */
	const char *symbol;			/* NULL if absent */
	const char *number;			/* the signed number as written */
	long		n;
} Relative;

static bool
is_word(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_';
}

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
	rel->symbol = p > s && num > s ? dup_range(g, s, (size_t) (num - s)) : NULL;
	rel->number = dup_range(g, num, (size_t) (p - num));
	rel->n = *num == '-' ? -v : v;
	return true;
}

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
			rel->branch = dup_range(g, s, (size_t) (at - s));
			*matched = true;
			break;
		}
	}
	if (!*matched && match_tail(g, s, rel, &overflow))
		*matched = true;
	if (*matched && overflow)
		return set_error(g, err, MG_E_INVALID_TARGET,
						 gprintf(g, "relative step count in \"%s\" is out of range", shown(g, s)),
						 NULL, NULL);
	return true;
}

/* ----------------------------------------------------------------
 * Overlap checks and the topological sort
 * ----------------------------------------------------------------
 */

/*
 * check_overlap
 *		No revision of list may be an ancestor of another one (Alembic's
 *		check=True walks).  rows selects the wording.
 */
static bool
check_overlap(MgGraph *g, const IntVec *list, bool rows, MgError *err)
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

			closure(g, e->v, e->n, E_NORM, below);
		}
	for (int i = 0; i < list->n && a < 0; i++)
		if (list->v[i] >= 0 && BIT_TEST(below, list->v[i]))
			a = list->v[i];
	if (a < 0)
		return true;

	/* name a member above it (the slow search runs only on error) */
	for (int j = 0; j < list->n && b < 0; j++)
		if (list->v[j] >= 0 && list->v[j] != a && is_ancestor(g, a, list->v[j]))
			b = list->v[j];
	if (rows)
		return set_error(g, err, MG_E_STATE,
						 gprintf(g, "version table lists revision \"%s\" and its ancestor \"%s\"",
								 g->revs[b].id, g->revs[a].id),
						 gprintf(g, "Revision \"%s\" is an ancestor of revision \"%s\"; migrate_version must hold only the current heads.",
								 g->revs[a].id, g->revs[b].id),
						 gprintf(g, "Use migrate_stamp() to set the version table to the intended heads."));
	return set_error(g, err, MG_E_INVALID_TARGET,
					 gprintf(g, "requested revision \"%s\" overlaps with requested revision \"%s\"",
							 g->revs[b].id, g->revs[a].id),
					 gprintf(g, "Revision \"%s\" is an ancestor of revision \"%s\".",
							 g->revs[a].id, g->revs[b].id),
					 NULL);
}

/*
 * topo_sort
 *		Alembic's _topological_sort, in the same order but without its
 *		quadratic cost.  todo is the set to order, heads the starting points.
 *		Output is tips first (reverse it for upgrades).
 *
 *		Alembic keeps, for each current head ("slot"), the set of its
 *		ancestors, and before emitting a candidate looks for the first other
 *		slot whose set contains it, that is, the first slot whose revision
 *		lies above the candidate.
 *
 *		For upgrade and downgrade sets (full_ancestry false), every revision
 *		not yet emitted lies below some slot, and a path from the candidate
 *		up to a slot runs through revisions not yet emitted.  So: the
 *		candidate is blocked exactly when one of its children is still to
 *		be emitted (pending[] counts them), and only then a walk up through
 *		such revisions finds the slots above it.  A walk happens at a join
 *		of lines, not at every step.
 *
 *		History ranges with a lower end need not have that shape (the range
 *		may reach a revision only through revisions outside it), so there
 *		(full_scope given) each slot keeps its ancestors within todo as a
 *		sorted array, found by walks through full_scope (the revisions above
 *		the lower end and below the upper end, where every path between two
 *		range members runs), and cnt[v] counts the slots holding v.  A plain step down a line (one down_revision, no
 *		dependencies) keeps the slot's set; other steps recompute it.
 */
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
	Bits		todo;
	bool		full;
	Bits		scope;			/* full_ancestry: where ancestor walks may go */
	int		   *cnt;			/* full_ancestry: slots holding each revision */
	int		   *pending;		/* otherwise: children still to be emitted */
	int		   *slot_id;		/* slot id of each revision that is a slot */
} TopoState;

/* Parents through down_revisions or dependencies (the inverse of allnext) */
#define FOREACH_PARENT(g, x, p, body) \
	do { \
		Rev		   *fp_r = &(g)->revs[(x)]; \
		for (int fp_k = 0; fp_k < fp_r->down.n + fp_r->deps.n; fp_k++) \
		{ \
			int			p; \
			if (fp_k < fp_r->down.n) \
				p = fp_r->down.v[fp_k]; \
			else if (vec_contains(&fp_r->down, fp_r->deps.v[fp_k - fp_r->down.n])) \
				continue; \
			else \
				p = fp_r->deps.v[fp_k - fp_r->down.n]; \
			body; \
		} \
	} while (0)

/*
 * first_slot_above
 *		Among the slots whose revision lies above cand, the one created first;
 *		-1 if none.  Walks up through revisions still to be emitted.
 */
static int
first_slot_above(TopoState *ts, const unsigned char *in_cur, int cand)
{
	MgGraph    *g = ts->g;
	unsigned	st = new_stamp(g);
	int			sp = 0;
	int			best = -1;

	g->mark[cand] = st;
	g->stack[sp++] = cand;
	while (sp > 0)
	{
		IntVec	   *e = &g->revs[g->stack[--sp]].allnext;

		MG_POLL_TICK(mg_poll_counter);
		for (int j = 0; j < e->n; j++)
		{
			int			c = e->v[j];

			if (g->mark[c] == st || !BIT_TEST(ts->todo, c))
				continue;
			g->mark[c] = st;
			if (in_cur[c] && (best < 0 || ts->slot_id[c] < ts->slot_id[best]))
				best = c;
			g->stack[sp++] = c;
		}
	}
	return best;
}

static int
cmp_int(const void *a, const void *b)
{
	int			x = *(const int *) a,
				y = *(const int *) b;

	return (x > y) - (x < y);
}

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

/* Collect the slot's ancestors within todo (the slot's revision included) */
static void
slot_fill(TopoState *ts, Slot *s)
{
	MgGraph    *g = ts->g;
	unsigned	st = new_stamp(g);
	int			sp = 0;

	slot_release(ts, s);
	g->mark[s->rev] = st;
	g->stack[sp++] = s->rev;
	vec_push(g, &s->members, s->rev);
	while (sp > 0)
	{
		IntVec	   *e = &g->revs[g->stack[--sp]].norm;

		MG_POLL_TICK(mg_poll_counter);
		for (int j = 0; j < e->n; j++)
		{
			int			p = e->v[j];

			if (g->mark[p] == st)
				continue;
			g->mark[p] = st;
			if (BIT_TEST(ts->todo, p))
			{
				vec_push(g, &s->members, p);
				g->stack[sp++] = p;
			}
			else if (ts->full && BIT_TEST(ts->scope, p))
				g->stack[sp++] = p;
		}
	}
	qsort(s->members.v, s->members.n, sizeof(int), cmp_int);
	for (int i = 0; i < s->members.n; i++)
		ts->cnt[s->members.v[i]]++;
	s->filled = true;
}

static void
topo_sort(MgGraph *g, Bits todo, const int *heads, int nheads,
		  Bits full_scope, IntVec *out)
{
	bool		full_ancestry = full_scope != NULL;
	TopoState	ts;
	Slot	   *slots;			/* every slot ever made; index = id */
	int			nmade = 0;
	int			capslots = nheads + 4;
	int			first = -1,		/* live slots, a list in creation order */
				last = -1,
				nlive = 0;
	bool		with_sets = false;
	int			i;
	int		   *hs;
	int			nh = 0;
	unsigned char *in_cur;

	ts.g = g;
	ts.todo = todo;
	ts.full = full_ancestry;
	ts.scope = full_scope;
	ts.cnt = NULL;
	ts.pending = NULL;
	ts.slot_id = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	in_cur = arena_alloc(&g->arena, g->n + 1);
	if (full_ancestry)
		ts.cnt = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	else
	{
		ts.pending = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
		for (int x = 0; x < g->n; x++)
			if (BIT_TEST(todo, x))
				FOREACH_PARENT(g, x, p, if (BIT_TEST(todo, p)) ts.pending[p]++);
	}

	slots = arena_alloc(&g->arena, sizeof(Slot) * capslots);

#define NEW_SLOT(revision) \
	do { \
		if (nmade == capslots) \
		{ \
			Slot	   *ns_; \
			capslots *= 2; \
			ns_ = arena_alloc(&g->arena, sizeof(Slot) * capslots); \
			memcpy(ns_, slots, sizeof(Slot) * nmade); \
			slots = ns_; \
		} \
		memset(&slots[nmade], 0, sizeof(Slot)); \
		slots[nmade].rev = (revision); \
		slots[nmade].id = nmade; \
		slots[nmade].prev = last; \
		slots[nmade].next = -1; \
		if (last >= 0) \
			slots[last].next = nmade; \
		else \
			first = nmade; \
		last = nmade; \
		ts.slot_id[(revision)] = nmade; \
		in_cur[(revision)] = 1; \
		nmade++; \
		nlive++; \
	} while (0)

	/* cur = sorted({h in heads if h in todo}, key=map order) */
	hs = arena_alloc(&g->arena, sizeof(int) * (nheads + 1));
	for (int k = 0; k < nheads; k++)
		if (heads[k] >= 0 && BIT_TEST(todo, heads[k]))
			hs[nh++] = heads[k];
	qsort(hs, nh, sizeof(int), cmp_int);
	for (int k = 0; k < nh; k++)
		if (k == 0 || hs[k] != hs[k - 1])
			NEW_SLOT(hs[k]);
	if (full_ancestry && nlive > 1)
	{
		with_sets = true;
		for (int k = first; k >= 0; k = slots[k].next)
			slot_fill(&ts, &slots[k]);
	}

	i = first;
	while (nlive > 0)
	{
		int			cand = slots[i].rev;
		int			j = -1;
		Rev		   *r;
		IntVec		add = {0};

		MG_POLL_TICK(mg_poll_counter);
		if (with_sets && ts.cnt[cand] > 1)
		{
			for (int k = first; k >= 0; k = slots[k].next)
				if (k != i && slot_has(&slots[k], cand))
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

			for (int k = first; k >= 0 && !settled; k = slots[k].next)
			{
				int			res;

				if (k == i)
					continue;
				res = walk_down_to(g, slots[k].rev, cand, ts.todo, 64);
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
				int			above = first_slot_above(&ts, in_cur, cand);

				if (above >= 0)
					j = ts.slot_id[above];
			}
		}
		if (j >= 0)
		{
			i = j;
			continue;
		}

		if (BIT_TEST(todo, cand))
		{
			vec_push(g, out, cand);
			BIT_CLR(todo, cand);
			if (!full_ancestry)
				FOREACH_PARENT(g, cand, p, if (BIT_TEST(todo, p)) ts.pending[p]--);
		}

		r = &g->revs[cand];
		for (int k = 0; k < r->norm.n; k++)
		{
			int			p = r->norm.v[k];

			if (BIT_TEST(todo, p) && !in_cur[p] && !vec_contains(&add, p))
				vec_push(g, &add, p);
		}
		in_cur[cand] = 0;
		if (add.n == 0)
		{
			/* unlink; carry on with the previous slot, or the first */
			Slot	   *sl = &slots[i];
			int			prev = sl->prev;

			slot_release(&ts, sl);
			if (sl->prev >= 0)
				slots[sl->prev].next = sl->next;
			else
				first = sl->next;
			if (sl->next >= 0)
				slots[sl->next].prev = sl->prev;
			else
				last = sl->prev;
			nlive--;
			i = prev >= 0 ? prev : first;
		}
		else if (r->deps.n == 0 && r->down.n == 1)
		{
			/* plain move down a line: the slot's set stays right */
			slots[i].rev = add.v[0];
			ts.slot_id[add.v[0]] = i;
			in_cur[add.v[0]] = 1;
		}
		else
		{
			int			first_new = nmade;

			slots[i].rev = add.v[0];
			ts.slot_id[add.v[0]] = i;
			in_cur[add.v[0]] = 1;
			for (int k = 1; k < add.n; k++)
				NEW_SLOT(add.v[k]);
			if (full_ancestry && (with_sets || nlive > 1))
			{
				if (!with_sets)
				{
					/* start keeping sets: fill every slot */
					with_sets = true;
					for (int k = first; k >= 0; k = slots[k].next)
						slot_fill(&ts, &slots[k]);
				}
				else
				{
					slot_fill(&ts, &slots[i]);
					for (int k = first_new; k < nmade; k++)
						slot_fill(&ts, &slots[k]);
				}
			}
		}
	}
#undef NEW_SLOT
}

/* ----------------------------------------------------------------
 * Version-table maintenance (Alembic's HeadMaintainer)
 * ----------------------------------------------------------------
 */

typedef struct Heads
{
	IntVec		rows;			/* current rows */
	int		   *pos;			/* per revision: index in rows + 1, or 0 */
	IntVec		ops;			/* kind, a, b triples of the current step */
} Heads;

static bool
heads_has(const Heads *h, int x)
{
	return x >= 0 && h->pos[x] != 0;
}

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

static void
push_op(MgGraph *g, Heads *h, MgOpKind kind, int a, int b)
{
	vec_push(g, &h->ops, (int) kind);
	vec_push(g, &h->ops, a);
	vec_push(g, &h->ops, b);
}

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
 *		consistent rule of ALEMBIC.md 5.2).
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
	s->nops = h->ops.n / 3;
	s->ops = arena_alloc(&g->arena, sizeof(MgOp) * (s->nops + 1));
	for (int i = 0; i < s->nops; i++)
	{
		s->ops[i].kind = (MgOpKind) h->ops.v[3 * i];
		s->ops[i].a = h->ops.v[3 * i + 1];
		s->ops[i].b = h->ops.v[3 * i + 2];
	}
	h->ops.n = 0;
}

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

bool
mg_resolve_rows(MgGraph *g, const char *const *ids, int n, MgList *rows,
				MgError *err)
{
	int		   *items = arena_alloc(&g->arena, sizeof(int) * (n + 1));

	for (int i = 0; i < n; i++)
	{
		int			r = map_get(&g->ids, ids[i]);

		if (r < 0)
			return set_error(g, err, MG_E_STATE,
							 gprintf(g, "version table contains unknown revision \"%s\"", shown(g, ids[i])),
							 gprintf(g, "Revision \"%s\" is listed in migrate_version but is not registered.",
									 shown(g, ids[i])),
							 gprintf(g, "Register the revision, or reset the version table with migrate_stamp(..., purge => true)."));
		items[i] = r;
	}
	rows->items = items;
	rows->n = n;
	return true;
}

static IntVec
list_vec(MgList l)
{
	IntVec		v;

	v.v = l.items;
	v.n = l.n;
	v.cap = l.n;
	return v;
}

/* Alembic's _parse_upgrade_target */
static bool
parse_upgrade_target(MgGraph *g, const IntVec *rows, const char *target,
					 bool no_overwalk, IntVec *targets, MgError *err)
{
	Relative	rel;
	bool		matched;
	int			rev;
	bool		over;

	if (!match_relative(g, target, &rel, err, &matched))
		return false;
	if (!matched)
		return get_revisions(g, target, targets, err);

	if (rel.n > 0)
	{
		if (rel.symbol == NULL)
		{
			IntVec		start = {0};

			for (int i = 0; i < rows->n; i++)
				vec_push(g, &start, rows->v[i]);
			if (rel.branch)
			{
				if (!filter_lineage(g, &start, rel.branch, false, err))
					return false;
				if (start.n == 0 && rows->n > 0)
				{
					/* tips of the applied part of the branch */
					Bits		app = closure_of(g, rows->v, rows->n, E_NORM);
					IntVec		active = {0};
					Bits		below = bits_new(g);

					for (int i = 0; i < g->n; i++)
						if (BIT_TEST(app, i))
							vec_push(g, &active, i);
					if (!filter_lineage(g, &active, rel.branch, false, err))
						return false;
					for (int i = 0; i < active.n; i++)
						for (int k = 0; k < g->revs[active.v[i]].norm.n; k++)
							BIT_SET(below, g->revs[active.v[i]].norm.v[k]);
					for (int i = 0; i < active.n; i++)
						if (!BIT_TEST(below, active.v[i]))
							vec_push(g, &start, active.v[i]);
				}
			}
			if (start.n > 1)
				return set_error(g, err, MG_E_INVALID_TARGET,
								 gprintf(g, "relative upgrade \"%s\" is ambiguous with several current heads",
										 shown(g, target)),
								 gprintf(g, "The current heads are %s.", id_list(g, start.v, start.n)),
								 gprintf(g, "Use \"<branch>@+N\" or \"<revision>+N\" to choose one branch."));
			if (!walk(g, start.n ? start.v[0] : MG_NONE, rel.n, rel.branch,
					  no_overwalk, target, &rev, &over, err))
				return false;
			if (over)
				return set_error(g, err, MG_E_INVALID_TARGET,
								 gprintf(g, "relative target \"%s\" goes beyond the head revisions", shown(g, target)),
								 steps_detail(g, rel.n, "above", NULL),
								 NULL);
			vec_push(g, targets, rev);
			return true;
		}
		if (!get_revision(g, rel.symbol, &rev, err))
			return false;
		if (!walk(g, rev, rel.n, rel.branch, no_overwalk, target, &rev, &over, err))
			return false;
		if (over)
			return set_error(g, err, MG_E_INVALID_TARGET,
							 gprintf(g, "relative target \"%s\" goes beyond the head revisions", shown(g, target)),
							 steps_detail(g, rel.n, "above", rel.symbol),
							 NULL);
		if (rev >= 0)
			vec_push(g, targets, rev);
		return true;
	}

	if (rel.symbol == NULL)
		return set_error(g, err, MG_E_INVALID_TARGET,
						 gprintf(g, "relative upgrade target \"%s\" must be positive", shown(g, target)),
						 gprintf(g, "\"%s\" would not move up from the current revisions.", shown(g, target)),
						 gprintf(g, "Use migrate_downgrade() to move down."));
	{
		const char *sym = rel.branch ? gprintf(g, "%s@%s", rel.branch, rel.symbol) : rel.symbol;

		if (!get_revision(g, sym, &rev, err))
			return false;
		if (!walk(g, rev, rel.n, NULL, no_overwalk, target, &rev, &over, err))
			return false;
		if (over)
			return set_error(g, err, MG_E_INVALID_TARGET,
							 gprintf(g, "relative target \"%s\" goes below base", shown(g, target)),
							 steps_detail(g, -rel.n, "below", rel.symbol),
							 NULL);
		if (rev >= 0)
			vec_push(g, targets, rev);
		return true;
	}
}

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
		return set_error(g, err, MG_E_INVALID_TARGET,
						 gprintf(g, "upgrade target \"%s\" cannot be a range", shown(g, target)),
						 NULL,
						 gprintf(g, "Ranges are accepted by migrate_history() only."));
	if (!check_overlap(g, &rows, true, err))
		return false;
	if (!parse_upgrade_target(g, &rows, target, true, &targets, err))
		return false;
	if (!check_overlap(g, &targets, false, err))
		return false;

	required = closure_of(g, targets.v, targets.n, E_NORM);
	applied = closure_of(g, rows.v, rows.n, E_NORM);
	needs = bits_new(g);
	for (int i = 0; i < g->n; i++)
		if (BIT_TEST(required, i) && !BIT_TEST(applied, i))
			BIT_SET(needs, i);

	topo_sort(g, needs, targets.v, targets.n, NULL, &order);

	plan_init(g, plan, &h, rowlist);
	for (int k = order.n - 1; k >= 0; k--)
	{
		update_for_upgrade(g, &h, order.v[k]);
		plan_add_step(g, plan, &cap, MG_UPGRADE, order.v[k], &h);
	}
	plan_finish(plan, &h);
	return true;
}

/* Alembic's _parse_downgrade_target; *target is MG_NONE for base */
static bool
parse_downgrade_target(MgGraph *g, const IntVec *rows, const char *target,
					   const char **branch, int *out, MgError *err)
{
	Relative	rel;
	bool		matched;
	bool		over;
	int			rev;

	*branch = NULL;
	if (!match_relative(g, target, &rel, err, &matched))
		return false;
	if (matched)
	{
		if (rel.n >= 0)
		{
			if (rel.symbol == NULL)
				return set_error(g, err, MG_E_INVALID_TARGET,
								 gprintf(g, "relative downgrade target \"%s\" must be negative", shown(g, target)),
								 gprintf(g, "\"%s\" would not move down from the current revisions.", shown(g, target)),
								 gprintf(g, "Use migrate_upgrade() to move up."));
			if (!get_revision(g, rel.symbol, &rev, err))
				return false;
			if (!walk(g, rev, rel.n, rel.branch, true, target, &rev, &over, err))
				return false;
			if (over)
				return set_error(g, err, MG_E_INVALID_TARGET,
								 gprintf(g, "relative target \"%s\" goes beyond the head revisions", shown(g, target)),
								 steps_detail(g, rel.n, "above", rel.symbol),
								 NULL);
			*branch = rel.branch;
			*out = rev == R_BASE ? MG_NONE : rev;
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
					if (!filter_lineage(g, &sl, br, false, err))
						return false;
					if (sl.n == 0)
					{
						MgList		cur = mg_current(g, (MgList)
						{
							rows->v, rows->n
						});

						for (int i = 0; i < cur.n; i++)
							vec_push(g, &sl, cur.items[i]);
						if (!filter_lineage(g, &sl, br, false, err))
							return false;
					}
					if (sl.n != 1)
						return set_error(g, err, MG_E_INVALID_TARGET,
										 gprintf(g, "relative downgrade \"%s\" does not select one current revision", shown(g, target)),
										 sl.n == 0 ?
										 gprintf(g, "No current revision belongs to branch \"%s\".", shown(g, br)) :
										 gprintf(g, "Current revisions %s belong to branch \"%s\".",
												 id_list(g, sl.v, sl.n), shown(g, br)),
										 gprintf(g, "Name the revision to start from, as in \"<revision>-1\"."));
					symbol = g->revs[sl.v[0]].id;
				}
				else
				{
					if (rows->n == 0)
						return set_error(g, err, MG_E_INVALID_TARGET,
										 gprintf(g, "relative target \"%s\" goes below base", shown(g, target)),
										 gprintf(g, "The version table is empty."),
										 NULL);
					if (rows->n > 1)
						return set_error(g, err, MG_E_INVALID_TARGET,
										 gprintf(g, "relative downgrade \"%s\" is ambiguous with several current heads",
												 shown(g, target)),
										 gprintf(g, "The current heads are %s.", id_list(g, rows->v, rows->n)),
										 gprintf(g, "Use \"<branch>@-N\" or \"<revision>-N\" to choose one branch."));
					symbol = g->revs[rows->v[0]].id;
					br = symbol;
				}
			}
			if (!get_revision(g, br ? gprintf(g, "%s@%s", br, symbol) : symbol, &start, err))
				return false;
			if (!walk(g, start, rel.n, NULL, true, target, &rev, &over, err))
				return false;
			if (over)
				return set_error(g, err, MG_E_INVALID_TARGET,
								 gprintf(g, "relative target \"%s\" goes below base", shown(g, target)),
								 steps_detail(g, -rel.n, "below", symbol),
								 NULL);
			*branch = br;
			*out = rev == R_BASE ? MG_NONE : rev;
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
			*branch = dup_range(g, target, (size_t) (at - target));
			symbol = at + 1;
		}
		if (!get_revision(g, symbol, &rev, err))
			return false;
		*out = rev;
		return true;
	}
}

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
		return set_error(g, err, MG_E_INVALID_TARGET,
						 gprintf(g, "downgrade target \"%s\" cannot be a range", shown(g, target)),
						 NULL,
						 gprintf(g, "Ranges are accepted by migrate_history() only."));
	if (!check_overlap(g, &rows, true, err))
		return false;
	if (!parse_downgrade_target(g, &rows, target, &branch, &trev, err))
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

		if (!resolve_branch(g, branch, &b, err))
			return false;
		anc = closure_of(g, &b, 1, E_DOWN);
		for (int i = 0; i < roots.n; i++)
			if (BIT_TEST(anc, roots.v[i]))
				roots.v[k++] = roots.v[i];
		roots.n = k;
		if (roots.n == 0)
			return set_error(g, err, MG_E_INVALID_TARGET,
							 gprintf(g, "cannot downgrade to \"%s\"", shown(g, target)),
							 gprintf(g, "No revision above the target belongs to branch \"%s\".", shown(g, branch)),
							 NULL);
	}

	down = closure_of(g, roots.v, roots.n, E_ALLNEXT);
	active = closure_of(g, rows.v, rows.n, E_NORM);
	for (int i = 0; i < g->n; i++)
	{
		if (BIT_TEST(down, i) && !BIT_TEST(active, i))
			BIT_CLR(down, i);
		if (BIT_TEST(down, i))
			ndown++;
	}
	if (trev >= 0 && ndown == 0 && !vec_contains(&rows, trev))
		return set_error(g, err, MG_E_INVALID_TARGET,
						 gprintf(g, "cannot downgrade to \"%s\"", shown(g, target)),
						 rows.n == 0 ?
						 gprintf(g, "Revision \"%s\" is not applied: the version table is empty.", g->revs[trev].id) :
						 gprintf(g, "Revision \"%s\" is not below the current heads %s.",
								 g->revs[trev].id, id_list(g, rows.v, rows.n)),
						 gprintf(g, "A downgrade target must be an applied revision or \"base\"."));

	topo_sort(g, down, rows.v, rows.n, NULL, &order);

	/* applied children of every revision, for update_for_downgrade */
	children = arena_alloc(&g->arena, sizeof(int) * (g->n + 1));
	for (int i = 0; i < g->n; i++)
		if (BIT_TEST(active, i))
			for (int k = 0; k < g->revs[i].norm.n; k++)
				children[g->revs[i].norm.v[k]]++;

	plan_init(g, plan, &h, rowlist);
	for (int k = 0; k < order.n; k++)
	{
		if (!heads_has(&h, order.v[k]))
			return set_error(g, err, MG_E_STATE,
							 gprintf(g, "cannot downgrade revision \"%s\"", g->revs[order.v[k]].id),
							 gprintf(g, "Revision \"%s\" is applied but is not a current head.", g->revs[order.v[k]].id),
							 NULL);
		update_for_downgrade(g, &h, children, order.v[k]);
		plan_add_step(g, plan, &cap, MG_DOWNGRADE, order.v[k], &h);
	}
	plan_finish(plan, &h);
	return true;
}

/* ----------------------------------------------------------------
 * Stamp (Alembic's _stamp_revs and StampStep)
 * ----------------------------------------------------------------
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
		Bits		one = lineage_of(g, shares.v[i], true);

		for (int w = 0; w < (g->n + 63) / 64; w++)
			lin[w] |= one[w];
		BIT_SET(lin, shares.v[i]);
	}
	for (int i = 0; i < rows->n; i++)
		if (BIT_TEST(lin, rows->v[i]) && !vec_contains(filtered, rows->v[i]))
			vec_push(g, filtered, rows->v[i]);
	return true;
}

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
	for (int t = 0; t < ntargets; t++)
	{
		Relative	rel;
		bool		matched;

		if (strchr(targets[t], ':'))
			return set_error(g, err, MG_E_INVALID_TARGET,
							 gprintf(g, "stamp target \"%s\" cannot be a range", shown(g, targets[t])),
							 NULL, NULL);
		if (!match_relative(g, targets[t], &rel, err, &matched))
			return false;
		if (matched)
			return set_error(g, err, MG_E_INVALID_TARGET,
							 gprintf(g, "stamp target \"%s\" cannot be relative", shown(g, targets[t])),
							 gprintf(g, "migrate_stamp() accepts revisions, prefixes, labels, \"heads\", \"head\", \"base\" and \"<branch>@head\" or \"<branch>@base\"."),
							 NULL);
	}
	for (int t = 0; t < ntargets; t++)
		if (!stamp_lineage_filter(g, &rows, targets[t], &filtered, err))
			return false;
	for (int t = 0; t < ntargets; t++)
	{
		IntVec		one = {0};

		if (!get_revisions(g, targets[t], &one, err))
			return false;
		for (int i = 0; i < one.n; i++)
			vec_push(g, &dests, one.v[i]);
	}
	if (dests.n == 0)
		vec_push(g, &dests, MG_NONE);

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
			if (is_ancestor(g, dest, filtered.v[i]))
				desc = true;
			else if (is_ancestor(g, filtered.v[i], dest))
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

/* ----------------------------------------------------------------
 * Listings
 * ----------------------------------------------------------------
 */

MgList
mg_current(MgGraph *g, MgList rows)
{
	Bits		app = closure_of(g, rows.items, rows.n, E_NORM);
	IntVec		out = {0};

	for (int i = 0; i < g->n; i++)
	{
		bool		tip = true;

		if (!BIT_TEST(app, i))
			continue;
		for (int j = 0; j < g->revs[i].next.n && tip; j++)
			if (BIT_TEST(app, g->revs[i].next.v[j]))
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
 *		cycles), following the references that do resolve; unknown rows are
 *		ignored.  Used while a set of revisions is being registered.
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
	for (int i = 0; i < nrows; i++)
	{
		int			r = map_get(&g->ids, row_ids[i]);

		if (r >= 0 && !BIT_TEST(seen, r))
		{
			BIT_SET(seen, r);
			g->stack[sp++] = r;
		}
	}
	while (sp > 0)
	{
		Rev		   *r = &g->revs[g->stack[--sp]];

		MG_POLL_TICK(mg_poll_counter);
		for (int k = 0; k < 2; k++)
		{
			IntVec	   *e = k == 0 ? &r->down : &r->deps;

			for (int j = 0; j < e->n; j++)
				if (!BIT_TEST(seen, e->v[j]))
				{
					BIT_SET(seen, e->v[j]);
					g->stack[sp++] = e->v[j];
				}
		}
	}
	return BIT_TEST(seen, target);
}

bool *
mg_applied(MgGraph *g, MgList rows)
{
	Bits		app = closure_of(g, rows.items, rows.n, E_NORM);
	bool	   *out = arena_alloc(&g->arena, sizeof(bool) * (g->n + 1));

	for (int i = 0; i < g->n; i++)
		out[i] = BIT_TEST(app, i);
	return out;
}

bool
mg_show(MgGraph *g, const char *symbol, MgList *out, MgError *err)
{
	IntVec		v = {0};
	IntVec		res = {0};

	if (!get_revisions(g, symbol, &v, err))
		return false;
	for (int i = 0; i < v.n; i++)
		if (v.v[i] >= 0)
			vec_push(g, &res, v.v[i]);
	*out = vec_list(res);
	return true;
}

static bool
range_error(MgGraph *g, const char *lower, const char *upper, const char *what,
			MgError *err)
{
	return set_error(g, err, MG_E_INVALID_TARGET,
					 gprintf(g, "history range \"%s:%s\" does not follow one line of descent",
							 shown(g, lower), shown(g, upper)),
					 strcmp(what, "base") == 0 ?
					 gprintf(g, "The start of the range walks down to base, which is not a revision.") :
					 gprintf(g, "Revision \"%s\" is not an ancestor of the end of the range.", what),
					 NULL);
}

/*
 * mg_history
 *		Alembic's walk_revisions(base, head): the range's required set minus
 *		what lies below its lower end, restricted to descendants of the lower
 *		end, in topological order (newest first).
 */
bool
mg_history(MgGraph *g, MgList rowlist, const char *range, MgList *out,
		   MgError *err)
{
	IntVec		rows = list_vec(rowlist);
	const char *lower = "base";
	const char *upper = "heads";
	bool		lower_current = false,
				upper_current = false;
	IntVec		targets = {0};
	IntVec		current = {0};
	Bits		required;
	Bits		below;
	Bits		needs;
	Bits		scope = NULL;
	IntVec		order = {0};

	if (range)
	{
		const char *colon = strchr(range, ':');

		if (colon == NULL || strchr(colon + 1, ':'))
			return set_error(g, err, MG_E_INVALID_TARGET,
							 gprintf(g, "invalid history range \"%s\"", shown(g, range)),
							 gprintf(g, "A range has the form \"[start]:[end]\"."),
							 NULL);
		if (colon > range)
			lower = dup_range(g, range, (size_t) (colon - range));
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
			if (!get_revisions(g, lower, &lowrows, err))
				return false;
			for (int i = 0; i < lowrows.n; i++)
			{
				if (lowrows.v[i] == R_BASE)
					return range_error(g, lower, upper, "base", err);
				if (lowrows.v[i] >= 0)
					lowrows.v[k++] = lowrows.v[i];
			}
			lowrows.n = k;
		}
		if (!parse_upgrade_target(g, &lowrows, upper, false, &targets, err))
			return false;
	}

	/* "label@..." as lower end keeps the targets carrying that label */
	if (!lower_current && strchr(lower, '@'))
	{
		const char *at = strchr(lower, '@');
		const char *branch = dup_range(g, lower, (size_t) (at - lower));
		int			b = map_get(&g->keys, branch);
		int			k = 0;

		if (b >= 0 && strcmp(g->revs[b].id, branch) == 0)
		{
			const char **labels;
			int			nl = mg_rev_labels(g, b, &labels);

			if (nl != 1)
				return set_error(g, err, MG_E_INVALID_TARGET,
								 gprintf(g, "revision \"%s\" does not name one branch", branch),
								 gprintf(g, "Revision \"%s\" carries %d branch labels.", branch, nl),
								 gprintf(g, "Use a branch label before \"@\"."));
			branch = labels[0];
		}
		for (int i = 0; i < targets.n; i++)
			if (targets.v[i] >= 0 && has_label(g, targets.v[i], branch))
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
	if (!check_overlap(g, &targets, false, err))
		return false;
	required = closure_of(g, targets.v, targets.n, E_NORM);

	/* the lower end */
	if (lower_current)
		current = rows;
	else if (!get_revisions(g, lower, &current, err))
		return false;
	for (int i = 0; i < current.n; i++)
	{
		/* a relative start landing on base itself names no revision */
		if (current.v[i] == R_BASE)
			return range_error(g, lower, upper, "base", err);
		if (current.v[i] >= 0 && !BIT_TEST(required, current.v[i]))
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
			return set_error(g, err, MG_E_INVALID_TARGET,
							 gprintf(g, "relative range start \"%s\" is ambiguous", shown(g, lower)),
							 gprintf(g, "The end of the range has several revisions: %s.",
									 id_list(g, targets.v, targets.n)),
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
	if (!check_overlap(g, &current, false, err))
		return false;
	below = closure_of(g, current.v, current.n, E_NORM);
	needs = bits_new(g);
	for (int i = 0; i < g->n; i++)
		if (BIT_TEST(required, i) && !BIT_TEST(below, i))
			BIT_SET(needs, i);
	/* inclusive: the lower end itself */
	for (int i = 0; i < current.n; i++)
		BIT_SET(needs, current.v[i]);
	if (current.n > 0)
	{
		Bits		desc = closure_of(g, current.v, current.n, E_NEXT);

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
	topo_sort(g, needs, targets.v, targets.n, scope, &order);
	*out = vec_list(order);
	return true;
}
