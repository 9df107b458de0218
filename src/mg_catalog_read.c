/*-------------------------------------------------------------------------
 *
 * mg_catalog_read.c
 *	  The catalog layer's reading of the revisions and the version table
 *	  into an MgCatalog (mg_load_state), with the revision graph kept
 *	  between calls of a backend, and the bodies a plan runs
 *	  (mg_load_bodies).
 *
 * It must not write anything, decide what a call may do, nor run bodies;
 * the rest of the catalog layer (the statements that write, the rights
 * they run with, the lock) is mg_catalog.c, whose private helpers it
 * shares through mg_catalog_int.h.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupmacs.h"
#include "access/xact.h"
#include "catalog/pg_am.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "mg_backend.h"
#include "mg_catalog_int.h"

/* Arena blocks of a graph come from the memory context given as ctx */
static void *
mg_backend_alloc(void *ctx, size_t size)
{
	return MemoryContextAllocHuge((MemoryContext) ctx, size);
}

/* ... and go back to it (pfree finds the context itself) */
static void
mg_backend_free(void *ctx, void *ptr)
{
	(void) ctx;					/* pfree finds the context itself */
	pfree(ptr);
}

/*
 * Reading the revisions
 *
 * The graph is built from every row of migrate_revision that the reading
 * snapshot sees, in registration (seq) order.  Large histories make this
 * the main cost of planning, so the rows are read with a plain heap scan
 * rather than a query, and the finished graph is kept for the next call of
 * the same backend while the rows it was built from are unchanged.
 *
 * "Unchanged" is decided by a fingerprint of the visible row versions: the
 * position and inserting transaction of each tuple the snapshot sees.  Rows
 * are never changed in place, so any insert, update or delete (committed by
 * anyone, or made by the calling transaction itself) changes the set, and
 * so the fingerprint; a rolled-back change restores the old set and the old
 * graph stays right.  The scan that computes it reads no column.
 *
 * The kept graph is shared by the calls of one backend, one at a time: a
 * call that finds it in use (a function called from a migration body) builds
 * a graph of its own.  Whatever a call allocates in the kept graph's arena is
 * given back when the call's memory goes away, error or not.
 */
typedef struct GraphCache
{
	Oid			relid;			/* migrate_revision */
	Oid			relfilenode;
	uint64		fingerprint;
	uint64		ntuples;
	MemoryContext context;		/* holds everything below */
	MgGraph    *graph;			/* NULL: nothing kept */
	bool	   *transactional;
	bool	   *has_downgrade;
	MgArenaMark mark;			/* the graph as built */
	bool		in_use;
	uint64		generation;		/* number of the build that made it */
} GraphCache;

static GraphCache graph_cache;

/*
 * Builds of a graph to keep so far in this backend.  Each build and each
 * reuse says so at DEBUG1 with the generation, so that a test can tell a
 * hit of the kept graph from a rebuild (sql/graph_cache.sql).
 */
static uint64 graph_generation = 0;

/* Ends a call's use of the kept graph (memory context reset callback) */
static void
graph_cache_done(void *arg)
{
	(void) arg;
	if (graph_cache.graph != NULL)
		mg_graph_release(graph_cache.graph, &graph_cache.mark);
	graph_cache.in_use = false;
}

/* Let the call use the kept graph until its memory goes (graph_cache_done) */
static void
graph_cache_use(MgCatalog *cat)
{
	MemoryContextCallback *cb;

	cb = MemoryContextAlloc(cat->context, sizeof(MemoryContextCallback));
	cb->func = graph_cache_done;
	cb->arg = NULL;
	MemoryContextRegisterResetCallback(cat->context, cb);
	graph_cache.in_use = true;
	cat->graph = graph_cache.graph;
	cat->transactional = graph_cache.transactional;
	cat->has_downgrade = graph_cache.has_downgrade;
	cat->valid = true;
}

/* The columns the graph needs, and where they are in migrate_revision */
enum
{
	COL_REVISION,
	COL_DOWN,
	COL_DEPS,
	COL_LABELS,
	COL_MESSAGE,
	COL_TRANSACTIONAL,
	COL_DOWNGRADE,
	COL_SEQ,
	NUM_COLS
};

static const char *const col_names[NUM_COLS] = {
	"revision", "down_revisions", "depends_on", "branch_labels", "message",
	"transactional", "downgrade", "seq"
};

/* One row as read, before it is added to the graph in seq order */
typedef struct RevRow
{
	int64		seq;
	MgRevInput	in;
	bool		transactional;
	bool		has_downgrade;
} RevRow;

typedef struct SeqIndex
{
	int64		seq;
	uint32		index;
} SeqIndex;

/* qsort comparator of SeqIndex by seq */
static int
cmp_seq(const void *a, const void *b)
{
	int64		x = ((const SeqIndex *) a)->seq;
	int64		y = ((const SeqIndex *) b)->seq;

	return x < y ? -1 : x > y;
}

/*
 * The rows' indexes in seq order.  seq is unique and usually dense (rows
 * only move in the heap when they are updated), so a table indexed by seq
 * sorts in linear time; a sparse or odd range is sorted the usual way.
 */
static uint32 *
seq_order(const RevRow *rows, uint64 n)
{
	uint32	   *order = palloc_extended(sizeof(uint32) * (n + 1), MCXT_ALLOC_HUGE);
	int64		lo = PG_INT64_MAX;
	int64		hi = PG_INT64_MIN;
	uint64		k = 0;

	for (uint64 i = 0; i < n; i++)
	{
		lo = Min(lo, rows[i].seq);
		hi = Max(hi, rows[i].seq);
	}
	/* differences in unsigned arithmetic: no overflow with any seq */
	if (n > 0 && (uint64) hi - (uint64) lo < 4 * n + 1024)
	{
		uint64		range = (uint64) hi - (uint64) lo + 1;
		int64	   *slot = palloc_extended(sizeof(int64) * range, MCXT_ALLOC_HUGE);
		bool		unique = true;

		for (uint64 j = 0; j < range; j++)
			slot[j] = -1;
		for (uint64 i = 0; i < n && unique; i++)
		{
			int64	   *s = &slot[(uint64) rows[i].seq - (uint64) lo];

			unique = *s < 0;
			*s = (int64) i;
		}
		if (unique)
		{
			for (uint64 j = 0; j < range; j++)
				if (slot[j] >= 0)
					order[k++] = (uint32) slot[j];
			pfree(slot);
			return order;
		}
		pfree(slot);
	}
	{
		SeqIndex   *si = palloc_extended(sizeof(SeqIndex) * (n + 1), MCXT_ALLOC_HUGE);

		for (uint64 i = 0; i < n; i++)
		{
			si[i].seq = rows[i].seq;
			si[i].index = (uint32) i;
		}
		qsort(si, n, sizeof(SeqIndex), cmp_seq);
		for (uint64 i = 0; i < n; i++)
			order[i] = si[i].index;
		pfree(si);
	}
	return order;
}

/* A 64-bit mixing function (SplitMix64's finalizer) */
static inline uint64
mix64(uint64 x)
{
	x ^= x >> 30;
	x *= UINT64CONST(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64CONST(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/*
 * mg_rows_fingerprint
 *		Fingerprint of the row versions of rel that snap sees (see above);
 *		counts them too.  Also used by the snapshot check (mg_catalog.c).
 */
uint64
mg_rows_fingerprint(Relation rel, Snapshot snap, uint64 *ntuples)
{
	TableScanDesc scan = table_beginscan(rel, snap, 0, NULL);
	HeapTuple	tup;
	uint64		fp = 0;
	uint64		n = 0;

	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		uint64		pos = ((uint64) ItemPointerGetBlockNumber(&tup->t_self) << 16) |
			ItemPointerGetOffsetNumber(&tup->t_self);
		uint64		xmin = HeapTupleHeaderGetRawXmin(tup->t_data);

		fp = mix64(fp ^ mix64(pos ^ (xmin << 40) ^ (xmin >> 24)));
		n++;
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	*ntuples = n;
	return fp;
}

/* A text datum as a string in the graph's arena */
static const char *
graph_text(MgGraph *g, Datum d)
{
	struct varlena *v = (struct varlena *) DatumGetPointer(d);
	struct varlena *plain = pg_detoast_datum_packed(v);
	size_t		len = VARSIZE_ANY_EXHDR(plain);
	char	   *s = mg_graph_alloc(g, len + 1);

	memcpy(s, VARDATA_ANY(plain), len);
	s[len] = '\0';
	if (plain != v)
		pfree(plain);
	return s;
}

/* The elements of a text[] datum as strings in the graph's arena */
static int
graph_text_array(MgGraph *g, Datum d, bool isnull, const char *const **items)
{
	ArrayType  *arr;
	const char **out;
	bits8	   *bitmap;
	char	   *p;
	int			n;

	*items = NULL;
	if (isnull)
		return 0;
	arr = DatumGetArrayTypeP(d);
	n = ARR_NDIM(arr) == 0 ? 0 : ArrayGetNItems(ARR_NDIM(arr), ARR_DIMS(arr));
	if (n > 0)
	{
		/* the walk deconstruct_array makes, without its copies */
		out = mg_graph_alloc(g, sizeof(char *) * n);
		bitmap = ARR_NULLBITMAP(arr);
		/* ARR_DATA_PTR, spelled out (the macro mixes signedness) */
		if (ARR_HASNULL(arr))
			p = (char *) arr + arr->dataoffset;
		else
			p = (char *) arr + ARR_OVERHEAD_NONULLS(ARR_NDIM(arr));
		for (int i = 0; i < n; i++)
		{
			if (bitmap && !(bitmap[i / 8] & (1 << (i % 8))))
				out[i] = "";
			else
			{
				out[i] = graph_text(g, PointerGetDatum(p));
				p = att_addlength_pointer(p, -1, p);
				p = (char *) att_align_nominal(p, TYPALIGN_INT);
			}
		}
		*items = out;
	}
	if ((Pointer) arr != DatumGetPointer(d))
		pfree(arr);
	return n;
}

/*
 * build_graph
 *		Build the graph of the rows of rel (migrate_revision, a plain heap)
 *		that snap sees, with a heap scan rather than a query: every string
 *		goes straight into the graph's arena, allocated in cxt, and the rows
 *		are added in seq order (seq_order when the heap is not).  expected
 *		is the number of rows, as counted by rows_fingerprint.  Sets *graph
 *		and the per-revision flags, indexed by tag; returns whether the
 *		graph is valid (mg_graph_finish fills err otherwise).  Cost: one
 *		scan, O(rows) plus the core's validation.
 */
static bool
build_graph(Relation rel, Snapshot snap, MemoryContext cxt, uint64 expected,
			MgGraph **graph, bool **transactional, bool **has_downgrade,
			MgError *err)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			attnum[NUM_COLS];
	MemoryContext rowcxt;
	MemoryContext old;
	TableScanDesc scan;
	HeapTuple	tup;
	Datum	   *vals;
	bool	   *nulls;
	RevRow	   *rows;
	uint64		cap = expected + 1;
	uint64		n = 0;
	bool		sorted = true;
	uint32	   *order;
	bool	   *tr;
	bool	   *hd;
	MgGraph    *g;

	for (int c = 0; c < NUM_COLS; c++)
	{
		attnum[c] = -1;
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped && strcmp(NameStr(att->attname), col_names[c]) == 0)
				attnum[c] = i;
		}
		if (attnum[c] < 0)
			elog(ERROR, "column \"%s\" of %s not found", col_names[c],
				 MG_REVISION_TABLE);
	}

	/*
	 * Strings go straight into the graph's arena; the rows themselves only
	 * wait there for the sort by seq.
	 */
	g = mg_graph_new_in(mg_backend_alloc, mg_backend_free, cxt);
	rows = MemoryContextAllocHuge(cxt, sizeof(RevRow) * cap);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "migrations row",
								   ALLOCSET_SMALL_SIZES);
	vals = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	scan = table_beginscan(rel, snap, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		RevRow	   *r;

		if (n == cap)
		{
			cap *= 2;
			rows = repalloc_huge(rows, sizeof(RevRow) * cap);
		}
		r = &rows[n++];
		memset(r, 0, sizeof(RevRow));
		old = MemoryContextSwitchTo(rowcxt);
		heap_deform_tuple(tup, desc, vals, nulls);
		r->seq = nulls[attnum[COL_SEQ]] ? 0 : DatumGetInt64(vals[attnum[COL_SEQ]]);
		if (n > 1 && r->seq < rows[n - 2].seq)
			sorted = false;
		r->in.id = nulls[attnum[COL_REVISION]] ? "" :
			graph_text(g, vals[attnum[COL_REVISION]]);
		r->in.ndown = graph_text_array(g, vals[attnum[COL_DOWN]],
									   nulls[attnum[COL_DOWN]], &r->in.down);
		r->in.ndeps = graph_text_array(g, vals[attnum[COL_DEPS]],
									   nulls[attnum[COL_DEPS]], &r->in.deps);
		r->in.nlabels = graph_text_array(g, vals[attnum[COL_LABELS]],
										 nulls[attnum[COL_LABELS]], &r->in.labels);
		r->in.message = nulls[attnum[COL_MESSAGE]] ? NULL :
			graph_text(g, vals[attnum[COL_MESSAGE]]);
		r->transactional = nulls[attnum[COL_TRANSACTIONAL]] ? true :
			DatumGetBool(vals[attnum[COL_TRANSACTIONAL]]);
		/* only the null bit: the body itself is not read (nor detoasted) */
		r->has_downgrade = !nulls[attnum[COL_DOWNGRADE]];
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
		CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	MemoryContextDelete(rowcxt);
	pfree(vals);
	pfree(nulls);
	order = sorted ? NULL : seq_order(rows, n);

	mg_graph_reserve(g, (int) n);
	tr = MemoryContextAllocHuge(cxt, sizeof(bool) * (n + 1));
	hd = MemoryContextAllocHuge(cxt, sizeof(bool) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		RevRow	   *r = &rows[order ? order[i] : i];

		r->in.tag = (int) i;
		tr[i] = r->transactional;
		hd[i] = r->has_downgrade;
		mg_graph_add_owned(g, &r->in);
	}
	if (order)
		pfree(order);
	pfree(rows);
	*graph = g;
	*transactional = tr;
	*has_downgrade = hd;
	return mg_graph_finish(g, err);
}

/*
 * build_graph_spi
 *		The same as build_graph through a query, for a migrate_revision that
 *		is not a plain heap or has row-level security in force: the query
 *		sees what the caller may see.  The graph is not kept.  with
 *		for_change the query takes a new snapshot (read-write mode).
 */
static bool
build_graph_spi(MgCatalog *cat, bool for_change, MgError *err)
{
	StringInfoData sql;
	MemoryContext rowcxt;
	MgGraph    *g;
	uint64		n;
	int			ret;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT revision, down_revisions, depends_on, branch_labels,"
					 " message, transactional, downgrade IS NOT NULL"
					 " FROM %s ORDER BY seq",
					 mg_qualified(MG_REVISION_TABLE));
	ret = SPI_execute(sql.data, !for_change, 0);
	mg_spi_check(ret, SPI_OK_SELECT, "SELECT on " MG_REVISION_TABLE);

	g = cat->graph = mg_graph_new_in(mg_backend_alloc, mg_backend_free,
									   cat->context);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "migrations row",
								   ALLOCSET_SMALL_SIZES);
	n = SPI_processed;
	mg_graph_reserve(g, (int) n);
	cat->transactional = MemoryContextAllocHuge(cat->context, sizeof(bool) * (n + 1));
	cat->has_downgrade = MemoryContextAllocHuge(cat->context, sizeof(bool) * (n + 1));
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(rowcxt);
		MgRevInput	in;
		char	  **down,
				  **deps,
				  **labels;
		Datum		vals[7];
		bool		nulls[7];

		/* one pass over the tuple instead of one lookup per column */
		heap_deform_tuple(tup, desc, vals, nulls);
		memset(&in, 0, sizeof(in));
		in.id = TextDatumGetCString(vals[0]);
		in.ndown = mg_text_array_items(vals[1], nulls[1], &down);
		in.down = (const char *const *) down;
		in.ndeps = mg_text_array_items(vals[2], nulls[2], &deps);
		in.deps = (const char *const *) deps;
		in.nlabels = mg_text_array_items(vals[3], nulls[3], &labels);
		in.labels = (const char *const *) labels;
		in.message = nulls[4] ? NULL : TextDatumGetCString(vals[4]);
		in.tag = (int) i;
		cat->transactional[i] = nulls[5] ? true : DatumGetBool(vals[5]);
		cat->has_downgrade[i] = !nulls[6] && DatumGetBool(vals[6]);
		mg_graph_add(g, &in);
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
	SPI_freetuptable(SPI_tuptable);
	pfree(sql.data);
	return mg_graph_finish(g, err);
}

/*
 * build_kept_graph
 *		Build the graph (build_graph) into a context of its own, and keep
 *		it for later calls of this backend when it is valid, with the
 *		fingerprint fp and row count it was built from; the kept graph it
 *		replaces is freed first.  An invalid graph goes with the call.
 *		Returns whether the graph is valid.
 */
static bool
build_kept_graph(MgCatalog *cat, Relation rel, Snapshot snap, uint64 fp,
				 uint64 ntuples, MgError *err)
{
	MemoryContext cxt;
	MgGraph    *g;
	bool	   *tr;
	bool	   *hd;
	bool		valid;

	if (graph_cache.context != NULL)
		MemoryContextDelete(graph_cache.context);
	graph_cache.context = NULL;
	graph_cache.graph = NULL;
	graph_generation++;
	elog(DEBUG1, "migrations: building the revision graph of generation " UINT64_FORMAT,
		 graph_generation);

	/* under the call's context until it is kept: an error frees it */
	cxt = AllocSetContextCreate(cat->context, "migrations graph cache",
								ALLOCSET_DEFAULT_SIZES);
	valid = build_graph(rel, snap, cxt, ntuples, &g, &tr, &hd, err);
	if (valid)
	{
		MemoryContextSetParent(cxt, TopMemoryContext);
		graph_cache.context = cxt;
		graph_cache.graph = g;
		graph_cache.transactional = tr;
		graph_cache.has_downgrade = hd;
		graph_cache.relid = RelationGetRelid(rel);
		graph_cache.relfilenode = rel->rd_rel->relfilenode;
		graph_cache.fingerprint = fp;
		graph_cache.ntuples = ntuples;
		graph_cache.generation = graph_generation;
		mg_graph_mark(g, &graph_cache.mark);
		graph_cache_use(cat);
	}
	else
	{
		/* an invalid graph is not kept: it goes with the call */
		cat->graph = g;
		cat->transactional = tr;
		cat->has_downgrade = hd;
	}
	return valid;
}

/*
 * read_revisions
 *		Set cat->graph (and the per-revision flags) from the catalog as
 *		the reading snapshot sees it; returns whether the graph is valid
 *		(err says why not).  The kept graph is used when the fingerprint of
 *		the visible rows is the one it was built from and no other call is
 *		using it; otherwise a graph is built (build_kept_graph, or one of
 *		the call's own when a call from a body finds the kept graph in use,
 *		or build_graph_spi).  Each case says so at DEBUG1.  The caller must
 *		hold SELECT on migrate_revision.  Cost of a hit: one scan of the
 *		table that reads no column.
 */
static bool
read_revisions(MgCatalog *cat, bool for_change, MgError *err)
{
	/* what a query would check first */
	Oid			relid = mg_catalog_relid_acl(MG_REVISION_TABLE, ACL_SELECT);
	Relation	rel;
	Snapshot	snap;
	uint64		fp;
	uint64		ntuples;
	bool		valid;

	rel = table_open(relid, AccessShareLock);
	if (rel->rd_rel->relam != HEAP_TABLE_AM_OID ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		table_close(rel, AccessShareLock);
		elog(DEBUG1, "migrations: building the revision graph through a query");
		return build_graph_spi(cat, for_change, err);
	}

	/*
	 * The snapshot a query would use: with for_change a new one (as SPI's
	 * read-write mode takes), to see what the previous holder of the lock
	 * committed.
	 */
	if (for_change)
	{
		CommandCounterIncrement();
		snap = RegisterSnapshot(GetTransactionSnapshot());
	}
	else
		snap = RegisterSnapshot(GetActiveSnapshot());

	fp = mg_rows_fingerprint(rel, snap, &ntuples);
	if (graph_cache.graph != NULL && !graph_cache.in_use &&
		graph_cache.relid == relid &&
		graph_cache.relfilenode == rel->rd_rel->relfilenode &&
		graph_cache.fingerprint == fp && graph_cache.ntuples == ntuples)
	{
		elog(DEBUG1, "migrations: reusing the revision graph of generation " UINT64_FORMAT,
			 graph_cache.generation);
		graph_cache_use(cat);
		valid = true;
	}
	else if (graph_cache.in_use)
	{
		/* a nested call: a graph of its own, freed with the call */
		elog(DEBUG1, "migrations: building a revision graph for a nested call");
		valid = build_graph(rel, snap, cat->context, ntuples, &cat->graph,
							&cat->transactional, &cat->has_downgrade, err);
	}
	else
		valid = build_kept_graph(cat, rel, snap, fp, ntuples, err);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	return valid;
}

/*
 * mg_load_state
 *		Read every revision (in registration order) and the version table,
 *		and build the graph.  An invalid graph, and with MG_LOAD_ROWS a
 *		version row naming no revision, raises an error, unless
 *		MG_LOAD_LENIENT asks to keep going (cat->valid tells).
 *
 *		MG_LOAD_FOR_CHANGE: the caller holds the advisory lock and will
 *		change state.  The reads then take a new snapshot (as SPI's
 *		read-write mode does), so they see what the previous lock holder
 *		committed; read-only mode would reuse the calling query's snapshot,
 *		taken before the wait.
 */
void
mg_load_state(MgCatalog *cat, int flags)
{
	bool		for_change = (flags & MG_LOAD_FOR_CHANGE) != 0;
	int			save_nestlevel;
	StringInfoData sql;
	MgGraph    *g;
	MgError		err;
	int			ret;

	memset(cat, 0, sizeof(MgCatalog));
	cat->context = AllocSetContextCreate(CurrentMemoryContext,
										   "migrations graph",
										   ALLOCSET_DEFAULT_SIZES);

	/*
	 * Queries on the catalog are plain scans: JIT-compiling them would cost
	 * more than it saves.  The setting is restored below.
	 */
	save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);

	cat->valid = read_revisions(cat, for_change, &err);
	g = cat->graph;
	if (!cat->valid && !(flags & MG_LOAD_LENIENT))
		mg_report(&err);

	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT revision FROM %s ORDER BY revision COLLATE pg_catalog.\"C\"",
					 mg_qualified(MG_VERSION_TABLE));
	ret = SPI_execute(sql.data, !for_change, 0);
	mg_spi_check(ret, SPI_OK_SELECT, "SELECT on " MG_VERSION_TABLE);
	cat->nrows = (int) SPI_processed;
	cat->row_ids = MemoryContextAlloc(cat->context, sizeof(char *) * (cat->nrows + 1));
	for (int i = 0; i < cat->nrows; i++)
		cat->row_ids[i] = MemoryContextStrdup(cat->context,
												SPI_getvalue(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 1));
	SPI_freetuptable(SPI_tuptable);
	pfree(sql.data);
	AtEOXact_GUC(true, save_nestlevel);

	if ((flags & MG_LOAD_ROWS) && cat->valid)
	{
		if (!mg_resolve_rows(g, (const char *const *) cat->row_ids,
							 cat->nrows, &cat->rows, &err))
			mg_report(&err);
		cat->rows_resolved = true;
	}
}

/*
 * mg_load_bodies
 *		Fetch the SQL bodies the plan runs (upgrade or downgrade, by the
 *		direction of its first step), in one query with the caller's
 *		rights.  *bodies_out is indexed by revision, in cat's context; a
 *		revision without a body has NULL (mg_execute_body refuses it).
 */
void
mg_load_bodies(MgCatalog *cat, const MgPlan *plan, char ***bodies_out)
{
	MgGraph    *g = cat->graph;
	int			n = mg_graph_size(g);
	char	  **bodies = MemoryContextAllocHuge(cat->context, sizeof(char *) * (n + 1));
	Datum	   *ids;
	int			nids = 0;
	StringInfoData sql;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	bool		upgrade;
	int			ret;

	memset(bodies, 0, sizeof(char *) * (n + 1));
	*bodies_out = bodies;
	if (plan->nsteps == 0)
		return;
	upgrade = plan->steps[0].direction == MG_UPGRADE;
	ids = palloc(sizeof(Datum) * plan->nsteps);
	for (int i = 0; i < plan->nsteps; i++)
		ids[nids++] = CStringGetTextDatum(mg_rev_id(g, plan->steps[i].rev));
	values[0] = PointerGetDatum(construct_array(ids, nids, TEXTOID, -1, false,
												TYPALIGN_INT));

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT revision, %s FROM %s"
					 " WHERE revision OPERATOR(pg_catalog.=) ANY ($1)",
					 upgrade ? "upgrade" : "downgrade",
					 mg_qualified(MG_REVISION_TABLE));
	ret = SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, false, 0);
	mg_spi_check(ret, SPI_OK_SELECT, "SELECT of bodies on " MG_REVISION_TABLE);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *body = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		int			rev = mg_lookup(g, id);

		if (rev >= 0 && body != NULL)
			bodies[rev] = MemoryContextStrdup(cat->context, body);
	}
	SPI_freetuptable(SPI_tuptable);
	pfree(sql.data);
}

/*
 * mg_catalog_has_verify
 *		Does migrate_revision have the verify column (catalog 0.4 and
 *		later)?  The library serves every catalog version, and an older
 *		one, not yet updated, has none: its revisions have no verify
 *		bodies.
 */
bool
mg_catalog_has_verify(void)
{
	return get_attnum(mg_catalog_relid(MG_REVISION_TABLE), "verify") != InvalidAttrNumber;
}

/*
 * mg_load_verifies
 *		Fetch the verify bodies of the revisions an upgrade plan runs, in
 *		one query with the caller's rights, as mg_load_bodies fetches the
 *		bodies.  *verifies_out is indexed by revision, in cat's context,
 *		NULL where a revision has none; it is NULL itself for a plan that
 *		does not upgrade, or when the catalog has no verify column.
 */
void
mg_load_verifies(MgCatalog *cat, const MgPlan *plan, char ***verifies_out)
{
	MgGraph    *g = cat->graph;
	int			n = mg_graph_size(g);
	char	  **verifies;
	Datum	   *ids;
	StringInfoData sql;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	int			ret;

	*verifies_out = NULL;
	if (plan->nsteps == 0 || plan->steps[0].direction != MG_UPGRADE ||
		!mg_catalog_has_verify())
		return;
	verifies = MemoryContextAllocHuge(cat->context, sizeof(char *) * (n + 1));
	memset(verifies, 0, sizeof(char *) * (n + 1));
	ids = palloc(sizeof(Datum) * plan->nsteps);
	for (int i = 0; i < plan->nsteps; i++)
		ids[i] = CStringGetTextDatum(mg_rev_id(g, plan->steps[i].rev));
	values[0] = PointerGetDatum(construct_array(ids, plan->nsteps, TEXTOID, -1,
												false, TYPALIGN_INT));
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT revision, verify FROM %s"
					 " WHERE revision OPERATOR(pg_catalog.=) ANY ($1)"
					 " AND verify IS NOT NULL",
					 mg_qualified(MG_REVISION_TABLE));
	ret = SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, false, 0);
	mg_spi_check(ret, SPI_OK_SELECT, "SELECT of verify bodies on " MG_REVISION_TABLE);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *id = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *body = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		int			rev = mg_lookup(g, id);

		if (rev >= 0 && body != NULL)
			verifies[rev] = MemoryContextStrdup(cat->context, body);
	}
	SPI_freetuptable(SPI_tuptable);
	pfree(sql.data);
	*verifies_out = verifies;
}
