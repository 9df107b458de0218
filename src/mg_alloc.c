/*-------------------------------------------------------------------------
 *
 * mg_alloc.c
 *	  Memory and containers of the revision-graph core: the graph's arena,
 *	  creation and release of a graph, the string map, and the building of
 *	  message texts in the arena.
 *
 * This file owns where the core's memory comes from (an arena of blocks
 * from the graph's allocator) and how messages are put together.  It knows
 * nothing of revisions, Alembic or targets: graph semantics live in the
 * other core files (see mg_core_int.h).  Hot container operations
 * (arena_alloc, vec_push, map lookups, bitsets) are static inline in
 * mg_core_int.h; this file holds the rest.
 *
 *-------------------------------------------------------------------------
 */
#include "mg_core_int.h"

#include <stdarg.h>

/* ----------------------------------------------------------------
 * Arena
 * ----------------------------------------------------------------
 */

MgInterruptHook mg_interrupt_hook = NULL;

/* for loops without a poll counter of their own (mg_poll_tick) */
unsigned	mg_poll_counter = 0;

/* The allocator of mg_graph_new: malloc, and out of memory ends the program */

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

/* The matching free of mg_graph_new */
static void
default_free(void *ctx, void *ptr)
{
	(void) ctx;
	free(ptr);
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

/* Give back everything allocated after mark m (see arena_mark) */
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

/* Free every block of the arena */
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

/* A new empty graph whose memory comes from alloc_fn/free_fn (see mg_core.h) */
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

/* A new empty graph on malloc */
MgGraph *
mg_graph_new(void)
{
	return mg_graph_new_in(NULL, NULL, NULL);
}

/* Free a graph and everything allocated for it */
void
mg_graph_free(MgGraph *g)
{
	Arena		a;

	if (g == NULL)
		return;
	a = g->arena;
	arena_free(&a);
}

/* Memory that lives as long as the graph (zeroed) */
void *
mg_graph_alloc(MgGraph *g, size_t size)
{
	return arena_alloc(&g->arena, size);
}

/* A copy of s that lives as long as the graph */
char *
mg_graph_strdup(MgGraph *g, const char *s)
{
	size_t		len = strlen(s);
	char	   *p = arena_alloc(&g->arena, len + 1);

	memcpy(p, s, len + 1);
	return p;
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
		mg_inherit_labels(g);
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
	/* an error thrown through the interrupt hook may have left a walk open */
	g->walking = false;
}

/* An empty map with room for expected keys at half load */
void
mg_map_init(MgGraph *g, StrMap *m, int expected)
{
	int			cap = 16;

	while (cap < expected * 2)
		cap *= 2;
	m->cap = cap;
	m->n = 0;
	m->slots = arena_alloc(&g->arena, sizeof(MapSlot) * cap);
}


/* Insert key; returns the existing value if present (and does not insert) */
int
mg_map_put_h(MgGraph *g, StrMap *m, const char *key, uint32_t h, int val)
{
	uint32_t	mask;
	uint32_t	i;

	if ((m->n + 1) * 2 > m->cap)
	{
		StrMap		old = *m;

		mg_map_init(g, m, old.cap);
		for (int j = 0; j < old.cap; j++)
			if (old.slots[j].key)
				mg_map_put_h(g, m, old.slots[j].key, old.slots[j].hash,
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

/* mg_map_put_h with the hash computed here */
int
mg_map_put(MgGraph *g, StrMap *m, const char *key, int val)
{
	return mg_map_put_h(g, m, key, hash_str(key), val);
}

/* Bitsets over revisions */

/* An empty growing string in the graph's arena */
void
mg_buf_init(Buf *b, MgGraph *g)
{
	b->g = g;
	b->cap = 128;
	b->len = 0;
	b->data = arena_alloc(&g->arena, b->cap);
}

/* Room for extra more bytes and a terminator */
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

/* Append a formatted text */
void
mg_buf_printf(Buf *b, const char *fmt,...)
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

/* A formatted string in the graph's arena */
char *
mg_gprintf(MgGraph *g, const char *fmt,...)
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

/* The first len bytes of s, as a string in the graph's arena */
char *
mg_dup_range(MgGraph *g, const char *s, size_t len)
{
	char	   *p = arena_alloc(&g->arena, len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/*
 * A user string for a message: s itself, or its first MG_SHOWN_MAX bytes
 * cut on a character boundary (mg_clip) followed by "...".
 */
const char *
mg_shown(MgGraph *g, const char *s)
{
	size_t		len = strlen(s);
	int			cut = mg_clip(s, len, MG_SHOWN_MAX);

	if ((size_t) cut == len)
		return s;
	return mg_gprintf(g, "%.*s...", cut, s);
}

/* Fill err and return false, so that a failing caller can return it */
bool
mg_set_error(MgError *err, MgErrCode code, char *message, char *detail,
			 char *hint)
{
	err->code = code;
	err->message = message;
	err->detail = detail;
	err->hint = hint;
	return false;
}

/*
 * Comma-separated list of revision ids, with "and" before the last, for a
 * DETAIL; more than 20 ids end in "and N more".
 */
char *
mg_id_list(MgGraph *g, const int *items, int n)
{
	Buf			b;
	int			shown_n = n > 20 ? 20 : n;

	mg_buf_init(&b, g);
	for (int i = 0; i < shown_n; i++)
	{
		if (i > 0)
			mg_buf_printf(&b, i == n - 1 ? " and " : ", ");
		mg_buf_printf(&b, "\"%s\"", g->revs[items[i]].id);
	}
	if (shown_n < n)
		mg_buf_printf(&b, " and %d more", n - shown_n);
	return b.data;
}
