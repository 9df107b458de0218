/*-------------------------------------------------------------------------
 *
 * migrations.c
 *	  SQL-callable functions of the migrations extension.
 *
 * Functions that change migration state (register, upgrade, downgrade,
 * stamp) first take the extension's advisory lock, then read the catalog,
 * so concurrent callers run one after the other and each sees what the
 * previous one committed.  Everything runs in the caller's transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "common/keywords.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/scanner.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "access/tupdesc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/resowner.h"
#include "utils/memutils.h"

#include "mg_backend.h"

PG_MODULE_MAGIC;

/* migrations.lock_timeout: lock_timeout of each step's body, 0 for none */
int			mg_step_lock_timeout = 0;

/*
 * The text of a migrations.lock_timeout set before the library was loaded
 * that is not a valid value, or NULL.  Any later assignment clears it.
 */
char	   *mg_bad_lock_timeout = NULL;

static void
mg_assign_lock_timeout(int newval, void *extra)
{
	mg_bad_lock_timeout = NULL;
}

void		_PG_init(void);

/* The core's interrupt hook: a cancel or timeout ends a long graph build */
static void
mg_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

void
_PG_init(void)
{
	const char *early;
	char	   *early_copy = NULL;

	mg_interrupt_hook = mg_check_interrupts;

	/* a placeholder's value, which DefineCustomIntVariable only warns about */
	early = GetConfigOption("migrations.lock_timeout", true, false);
	if (early != NULL)
		early_copy = MemoryContextStrdup(TopMemoryContext, early);
	DefineCustomIntVariable("migrations.lock_timeout",
							"Sets the lock_timeout of each migration step.",
							"A step whose body waits longer than this for a lock fails, "
							"so that it does not hold up every query queued behind it. "
							"0 leaves the session's lock_timeout in force.",
							&mg_step_lock_timeout,
							0, 0, INT_MAX,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, mg_assign_lock_timeout, NULL);
	/* issue 10, item 6: PGC_SUSET, so only a superuser can let the history go */
	DefineCustomBoolVariable("migrations.allow_drop",
							 "Allows dropping the extension while it holds migration history.",
							 "When off, DROP EXTENSION migrations, DROP SCHEMA ... CASCADE of its "
							 "schema and DROP OWNED BY its owner are refused while the extension's "
							 "tables hold any row.",
							 &mg_allow_drop,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	MarkGUCPrefixReserved("migrations");
	if (early_copy != NULL)
	{
		int			val;

		if (!parse_int(early_copy, &val, GUC_UNIT_MS, NULL) || val < 0)
			mg_bad_lock_timeout = early_copy;
	}
}

/* SQL-callable functions */
PG_FUNCTION_INFO_V1(migrate_register);
PG_FUNCTION_INFO_V1(migrate_check);
PG_FUNCTION_INFO_V1(migrate_upgrade);
PG_FUNCTION_INFO_V1(migrate_downgrade);
PG_FUNCTION_INFO_V1(migrate_stamp);
PG_FUNCTION_INFO_V1(migrate_heads);
PG_FUNCTION_INFO_V1(migrate_current);
PG_FUNCTION_INFO_V1(migrate_history);
PG_FUNCTION_INFO_V1(migrate_branches);
PG_FUNCTION_INFO_V1(migrate_resolve);
PG_FUNCTION_INFO_V1(migrate_state);

/*
 * Helpers
 */

static void
connect_spi(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

static void
finish_spi(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/* Changes are refused on a standby, with a pointer to the primary */
static void
check_writable(const char *funcname)
{
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot run %s() during recovery", funcname),
				 errdetail("This server is a standby, and migration state can only change on the primary."),
				 errhint("Connect to the primary server and run %s() there.", funcname)));
}

/* A non-null, non-empty text argument */
static char *
target_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	char	   *s;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (s[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", argname),
				 errhint("Use \"heads\" for every head, or \"base\" for the state before the first revision.")));
	return s;
}

/*
 * init_text_srf
 *		Materialized-mode setup for a function returning SETOF text, whose
 *		result is not a row type.
 */
static void
init_text_srf(FunctionCallInfo fcinfo)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext old;
	TupleDesc	desc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	old = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	desc = CreateTemplateTupleDesc(1);
	TupleDescInitEntry(desc, (AttrNumber) 1, "revision", TEXTOID, -1, 0);
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap((rsinfo->allowedModes & SFRM_Materialize_Random) != 0,
											  false, work_mem);
	rsinfo->setDesc = desc;
	MemoryContextSwitchTo(old);
}

/* Inherited branch labels of a revision as a text[] datum */
static Datum
labels_datum(MgGraph *g, int rev)
{
	const char **labels;
	int			n = mg_rev_labels(g, rev, &labels);

	return mg_cstring_array(labels, n);
}

static Datum
message_datum(MgGraph *g, int rev, bool *isnull)
{
	const char *m = mg_rev_message(g, rev);

	*isnull = (m == NULL);
	return m ? CStringGetTextDatum(m) : (Datum) 0;
}

/*
 * Register
 */

/* Elements of a text[] argument; NULL elements are refused */
static int
array_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
		  char ***items)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	if (PG_ARGISNULL(argno))
	{
		*items = NULL;
		return 0;
	}
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(argno), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, &n);
	*items = palloc(sizeof(char *) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain null elements", argname)));
		(*items)[i] = TextDatumGetCString(elems[i]);
	}
	return n;
}

static void
duplicate_name(const char *revision, const char *item, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DUPLICATE_OBJECT),
			 errmsg("%s \"%s\" is listed twice in revision \"%s\"",
					what, item, revision)));
}

static int
cmp_cstring_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
check_names(const char *revision, char **items, int n, const char *what,
			bool label)
{
	for (int i = 0; i < n; i++)
	{
		if (mg_reserved_name(items[i]))
			ereport(ERROR,
					(errcode(ERRCODE_RESERVED_NAME),
					 errmsg("%s \"%s\" in revision \"%s\" is a reserved word", what,
							items[i], revision),
					 errdetail("\"base\", \"head\", \"heads\" and \"current\" are words of the target grammar.")));
		if (label ? !mg_valid_label(items[i]) : !mg_valid_id(items[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid %s \"%.80s%s\" in revision \"%s\"", what,
							items[i], strlen(items[i]) > 80 ? "..." : "", revision),
					 errdetail("A %s is 1 to %d letters, digits or underscores.",
							   what, label ? MG_MAX_LABEL_LEN : MG_MAX_ID_LEN)));
		/* short lists: pairwise; long ones (wide merges) are sorted below */
		for (int j = 0; j < i && n <= 32; j++)
			if (strcmp(items[i], items[j]) == 0)
				duplicate_name(revision, items[i], what);
	}
	if (n > 32)
	{
		char	  **sorted = palloc(sizeof(char *) * n);

		memcpy(sorted, items, sizeof(char *) * n);
		qsort(sorted, n, sizeof(char *), cmp_cstring_ptr);
		for (int i = 1; i < n; i++)
			if (strcmp(sorted[i], sorted[i - 1]) == 0)
				duplicate_name(revision, sorted[i], what);
		pfree(sorted);
	}
}

static bool
same_list(Datum stored, bool isnull, char **items, int n)
{
	Datum	   *elems;
	bool	   *nulls;
	int			m;

	if (isnull)
		return n == 0;
	deconstruct_array(DatumGetArrayTypeP(stored), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, &m);
	if (m != n)
		return false;
	for (int i = 0; i < n; i++)
		if (nulls[i] || strcmp(TextDatumGetCString(elems[i]), items[i]) != 0)
			return false;
	return true;
}

static bool
same_text(HeapTuple tup, TupleDesc desc, int col, const char *value)
{
	char	   *stored = SPI_getvalue(tup, desc, col);

	if (stored == NULL || value == NULL)
		return stored == NULL && value == NULL;
	return strcmp(stored, value) == 0;
}

/* Add what to a comma-separated list of changes unless same */
static void
note_change(StringInfo list, bool same, const char *what)
{
	if (same)
		return;
	if (list->len > 0)
		appendStringInfoString(list, ", ");
	appendStringInfoString(list, what);
}

/*
 * What migrate_register knows about the applied set
 *
 * Whether a revision is applied decides what registering it may change.
 * Working that out means building the whole graph, and a load that edits
 * thousands of unapplied bodies would build it once per revision.  But no
 * registration that migrate_register allows changes the applied set: the
 * set is what the version rows reach through the parents and dependencies
 * of applied revisions, which stay as they are, and the names those resolve
 * through cannot gain a second holder (new_names_check).  So the facts are
 * worked out once and kept for the rest of the transaction, for as long as
 * nothing else writes the catalog (mg_catalog_generation counts every write
 * this backend makes or lets through; other sessions wait for the advisory
 * lock), no subtransaction rolls back, and the extension stays the same.
 *
 * The facts are exact where the graph is complete.  While a transaction
 * registers a set of revisions the graph may lack parents registered later;
 * references that do not resolve are then skipped.
 */

/* flags of a name in AppliedFacts.names */
#define NAME_DEP		0x01	/* named by the depends_on of an applied revision */
#define NAME_PENDING	0x02	/* a version row or a parent of an applied
								 * revision that is not registered */

typedef struct FactName
{
	char		key[MG_MAX_LABEL_LEN + 1];
	int			flags;
} FactName;

typedef struct AppliedFacts
{
	bool		valid;
	LocalTransactionId lxid;
	uint64		generation;
	Oid			relid;			/* migrate_revision */
	MemoryContext context;
	HTAB	   *applied;		/* ids of applied revisions (FactName) */
	HTAB	   *names;			/* FactName */
	int64		max_applied_seq;
} AppliedFacts;

static AppliedFacts facts;

/*
 * Registration order of the current transaction: the seq of the revision
 * registered last (see migrate_register).
 */
static LocalTransactionId last_lxid = InvalidLocalTransactionId;
static int64 last_seq = 0;

static void
facts_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		facts.valid = false;
}

/* The entry of a name, or NULL (no registrable name is longer than a label) */
static FactName *
fact_find(HTAB *h, const char *name)
{
	if (strlen(name) > MG_MAX_LABEL_LEN)
		return NULL;
	return hash_search(h, name, HASH_FIND, NULL);
}

static int
fact_flags(const char *name)
{
	FactName   *f = fact_find(facts.names, name);

	return f ? f->flags : 0;
}

static void
fact_add_name(const char *name, int flag)
{
	FactName   *f;
	bool		found;

	if (strlen(name) > MG_MAX_LABEL_LEN)
		return;
	f = hash_search(facts.names, name, HASH_ENTER, &found);
	if (!found)
		f->flags = 0;
	f->flags |= flag;
}

/* Work the facts out from the catalog as the caller (holding the lock) sees it */
static void
facts_build(Oid relid)
{
	static bool callback_set = false;
	MgState		state;
	MgGraph    *g;
	int			n;
	bool	   *applied;
	int		   *stack;
	int			sp = 0;
	int			napplied = 0;
	Datum	   *ids;
	HASHCTL		ctl;
	StringInfoData sql;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		values[1];
	int			ret;

	if (!callback_set)
	{
		RegisterSubXactCallback(facts_subxact_callback, NULL);
		callback_set = true;
	}
	facts.valid = false;
	if (facts.context != NULL)
		MemoryContextDelete(facts.context);
	facts.context = AllocSetContextCreate(TopMemoryContext, "migrations applied facts",
										  ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = MG_MAX_LABEL_LEN + 1;
	ctl.entrysize = sizeof(FactName);
	ctl.hcxt = facts.context;
	facts.applied = hash_create("migrations applied revisions", 1024, &ctl,
								HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	facts.names = hash_create("migrations applied names", 1024, &ctl,
							  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	facts.max_applied_seq = 0;

	mg_load_state(&state, MG_LOAD_FOR_CHANGE | MG_LOAD_LENIENT);
	g = state.graph;
	n = mg_graph_size(g);
	applied = palloc0(sizeof(bool) * (n + 1));
	stack = palloc(sizeof(int) * (n + 1));
	for (int i = 0; i < state.nrows; i++)
	{
		int			r = mg_lookup(g, state.row_ids[i]);

		if (r < 0)
			fact_add_name(state.row_ids[i], NAME_PENDING);
		else if (!applied[r])
		{
			applied[r] = true;
			stack[sp++] = r;
		}
	}
	while (sp > 0)
	{
		int			r = stack[--sp];
		MgList		edges[2];

		edges[0] = mg_rev_down(g, r);
		edges[1] = mg_rev_deps(g, r);
		for (int k = 0; k < 2; k++)
			for (int j = 0; j < edges[k].n; j++)
				if (!applied[edges[k].items[j]])
				{
					applied[edges[k].items[j]] = true;
					stack[sp++] = edges[k].items[j];
				}
		CHECK_FOR_INTERRUPTS();
	}
	ids = palloc(sizeof(Datum) * (n + 1));
	for (int r = 0; r < n; r++)
	{
		const char *const *deps;
		int			ndeps;

		if (!applied[r])
			continue;
		(void) hash_search(facts.applied, mg_rev_id(g, r), HASH_ENTER, NULL);
		ids[napplied++] = CStringGetTextDatum(mg_rev_id(g, r));
		ndeps = mg_rev_dep_names(g, r, &deps);
		for (int j = 0; j < ndeps; j++)
			fact_add_name(deps[j], NAME_DEP);
	}

	if (napplied > 0)
	{
		const char *rev = mg_qualified(MG_REVISION_TABLE);

		/*
		 * The highest seq of an applied revision, and the parents of
		 * applied revisions that are not registered (the graph skips them)
		 */
		values[0] = PointerGetDatum(construct_array(ids, napplied, TEXTOID, -1,
													false, TYPALIGN_INT));
		initStringInfo(&sql);
		appendStringInfo(&sql,
						 "SELECT pg_catalog.max(seq)::pg_catalog.text FROM %s"
						 " WHERE revision OPERATOR(pg_catalog.=) ANY ($1)"
						 " UNION ALL"
						 " (SELECT d.d FROM %s AS r, pg_catalog.unnest(r.down_revisions) AS d(d)"
						 "  WHERE r.revision OPERATOR(pg_catalog.=) ANY ($1)"
						 "  EXCEPT SELECT revision FROM %s)",
						 rev, rev, rev);
		ret = SPI_execute_with_args(sql.data, 1, argtypes, values, NULL, false, 0);
		if (ret != SPI_OK_SELECT || SPI_processed < 1)
			elog(ERROR, "could not read %s: %s", MG_REVISION_TABLE,
				 SPI_result_code_string(ret));
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

			if (i == 0)
				facts.max_applied_seq = v ? pg_strtoint64(v) : 0;
			else if (v)
				fact_add_name(v, NAME_PENDING);
		}
		SPI_freetuptable(SPI_tuptable);
		pfree(sql.data);
	}
	pfree(applied);
	pfree(stack);
	pfree(ids);
	MemoryContextDelete(state.context);

	facts.lxid = MyProc->lxid;
	facts.generation = mg_catalog_generation;
	facts.relid = relid;
	facts.valid = true;
}

/* The facts, worked out again unless they still hold */
static void
facts_require(Oid relid)
{
	if (!facts.valid || facts.lxid != MyProc->lxid ||
		facts.generation != mg_catalog_generation || facts.relid != relid)
		facts_build(relid);
}

static bool
facts_is_applied(const char *revision)
{
	return fact_find(facts.applied, revision) != NULL;
}

/*
 * A name a registration gives a revision (its id when it is new, or a
 * branch label it did not carry) must not be one through which an applied
 * revision's depends_on resolves: the dependency would then resolve to
 * another revision, and which revisions are applied would change.
 */
static void
new_names_check(const char *revision, const char *name, bool is_label)
{
	if (!(fact_flags(name) & NAME_DEP))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 is_label ?
			 errmsg("cannot give revision \"%s\" branch label \"%s\"", revision, name) :
			 errmsg("cannot register revision \"%s\"", revision),
			 errdetail("An applied revision depends on \"%s\", and a second revision of that name would change what it depends on, and so which revisions are applied.",
					   name),
			 errhint("Choose another name, or downgrade below the revisions that depend on \"%s\" first.",
					 name)));
}

/*
 * The longest body the parser always takes: a string constant, quoted
 * identifier or dollar-quoted string of 2^29 bytes or more makes the
 * scanner ask for a 1 GB buffer, beyond what palloc allows, and a token is
 * never longer than the body.
 */
#define MG_BODY_ALWAYS_SCANS	((Size) 1 << 29)

/*
 * check_body_runnable
 *		Refuse a body the server can never run because one of its tokens is
 *		too long for PostgreSQL's parser.  Bodies too short to hold such a
 *		token are not looked at; longer ones go through the parser's own
 *		scanner, in a subtransaction (other errors, such as a syntax error,
 *		are left to the step that runs the body, as for any body).
 */
static void
check_body_runnable(const char *revision, const char *which, const char *body)
{
	Size		len = strlen(body);
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	if (len <= MG_BODY_ALWAYS_SCANS + 1)
		return;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		core_yy_extra_type yyextra;
		core_YYSTYPE yylval;
		YYLTYPE		yylloc;
		core_yyscan_t scanner;

		scanner = scanner_init(body, &yyextra, &ScanKeywords, ScanKeywordTokens);
		while (core_yylex(&yylval, &yylloc, scanner) != 0)
			CHECK_FOR_INTERRUPTS();
		scanner_finish(scanner);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	if (edata == NULL || edata->sqlerrcode == ERRCODE_SYNTAX_ERROR)
		return;
	if (edata->sqlerrcode != ERRCODE_INTERNAL_ERROR || edata->message == NULL ||
		strncmp(edata->message, "invalid memory alloc request size", 33) != 0)
		ReThrowError(edata);
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("%s body of revision \"%s\" is too long to run", which, revision),
			 errdetail("The body holds a string constant, quoted identifier or dollar-quoted string of 512 MB or more, more than PostgreSQL's parser can read in one token, so no step could ever run it."),
			 errhint("Load such data from a file on the server (COPY ... FROM 'file'), or split it over several statements.")));
}

/* Error context of migrate_register: where the revision came from */
typedef struct RegisterContext
{
	const char *revision;
	const char *source;
} RegisterContext;

static void
register_error_callback(void *arg)
{
	RegisterContext *rc = (RegisterContext *) arg;

	errcontext("registering revision \"%s\" from \"%s\"", rc->revision, rc->source);
}

/* The seq a RETURNING seq statement returned */
static int64
returned_seq(void)
{
	bool		isnull;
	int64		seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &isnull));

	SPI_freetuptable(SPI_tuptable);
	return seq;
}

/* Elements of a stored text[] as C strings */
static int
stored_list(Datum stored, bool isnull, char ***items)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	*items = NULL;
	if (isnull)
		return 0;
	deconstruct_array(DatumGetArrayTypeP(stored), TEXTOID, -1, false,
					  TYPALIGN_INT, &elems, &nulls, &n);
	*items = palloc(sizeof(char *) * (n + 1));
	for (int i = 0; i < n; i++)
		(*items)[i] = nulls[i] ? "" : TextDatumGetCString(elems[i]);
	return n;
}

/* Whether label is among items */
static bool
list_has(char **items, int n, const char *label)
{
	for (int i = 0; i < n; i++)
		if (strcmp(items[i], label) == 0)
			return true;
	return false;
}

/*
 * migrate_register
 *		Store one revision, or update a stored one.  Returns "added",
 *		"updated" or "unchanged".  References are not checked here (parents
 *		may be registered later in the same transaction): migrate_check()
 *		and every command validate the whole graph.
 *
 *		Registration order (seq) breaks ties in step order.  Within a
 *		transaction, revisions that are not applied take the order of the
 *		calls, after every applied revision: registering an unapplied
 *		revision that comes before the one registered last (or before an
 *		applied one) moves it to the end.  pg_migrate load registers in
 *		file order, so the same files give the same order whatever was
 *		loaded before.  Applied revisions keep their place.
 *
 *		The statements on migrate_revision run with the extension owner's
 *		rights (mg_catalog_execute); registered_by names the caller.
 */
Datum
migrate_register(PG_FUNCTION_ARGS)
{
	char	   *revision;
	char	  **down,
			  **labels,
			  **deps;
	int			ndown,
				nlabels,
				ndeps;
	char	   *upgrade;
	char	   *downgrade = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	char	   *message = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	bool		transactional;
	char	   *source = PG_ARGISNULL(8) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(8));
	StringInfoData sql;
	const char *revtable;
	Oid			relid;
	Oid			argtypes[12] = {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTOID, TEXTOID, TEXTOID, BOOLOID, TEXTOID, NAMEOID, BOOLOID,
	BOOLOID};
	Datum		values[12];
	char		nulls[12];
	const char *result;
	int64		seq;
	bool		moved = false;
	bool		applied = false;
	bool		pending = false;
	int			ret;
	static MgKeptPlan select_plan,
				insert_plan,
				update_plan;
	ErrorContextCallback errcb;
	RegisterContext regctx;

	check_writable("migrate_register");
	mg_refuse_in_step("migrate_register");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("revision must not be null")));
	revision = text_to_cstring(PG_GETARG_TEXT_PP(0));

	/* errors about a revision loaded from a file name the file */
	if (source != NULL)
	{
		regctx.revision = revision;
		regctx.source = source;
		errcb.callback = register_error_callback;
		errcb.arg = &regctx;
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;
	}

	if (mg_reserved_name(revision))
		ereport(ERROR,
				(errcode(ERRCODE_RESERVED_NAME),
				 errmsg("revision id \"%s\" is a reserved word", revision),
				 errdetail("\"base\", \"head\", \"heads\" and \"current\" are words of the target grammar.")));
	if (!mg_valid_id(revision))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid revision id \"%.80s%s\"", revision,
						strlen(revision) > 80 ? "..." : ""),
				 errdetail("A revision id is 1 to %d letters, digits or underscores.",
						   MG_MAX_ID_LEN)));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("down_revisions of revision \"%s\" must not be null", revision),
				 errhint("Use '{}' for a base revision.")));
	ndown = array_arg(fcinfo, 1, "down_revisions", &down);
	check_names(revision, down, ndown, "down_revision", false);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("upgrade of revision \"%s\" must not be null", revision)));
	upgrade = text_to_cstring(PG_GETARG_TEXT_PP(2));
	nlabels = array_arg(fcinfo, 5, "branch_labels", &labels);
	check_names(revision, labels, nlabels, "branch label", true);
	ndeps = array_arg(fcinfo, 6, "depends_on", &deps);
	check_names(revision, deps, ndeps, "dependency", true);

	/* a self-reference needs no other revision to be wrong */
	for (int i = 0; i < ndown; i++)
		if (strcmp(down[i], revision) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("revision \"%s\" is its own down_revision", revision),
					 errdetail("Revision \"%s\" lists itself in down_revisions.", revision)));
	for (int i = 0; i < ndeps; i++)
		if (strcmp(deps[i], revision) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("revision \"%s\" depends on itself", revision),
					 errdetail("Revision \"%s\" lists itself in depends_on.", revision)));
	if (PG_ARGISNULL(7))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("transactional of revision \"%s\" must not be null", revision)));
	transactional = PG_GETARG_BOOL(7);
	check_body_runnable(revision, "upgrade", upgrade);
	if (downgrade != NULL)
		check_body_runnable(revision, "downgrade", downgrade);

	connect_spi();
	mg_lock_changes();
	revtable = mg_qualified(MG_REVISION_TABLE);
	relid = mg_catalog_relid(MG_REVISION_TABLE);
	facts_require(relid);

	values[0] = CStringGetTextDatum(revision);
	values[1] = mg_cstring_array((const char *const *) down, ndown);
	values[2] = mg_cstring_array((const char *const *) deps, ndeps);
	values[3] = mg_cstring_array((const char *const *) labels, nlabels);
	values[4] = message ? CStringGetTextDatum(message) : (Datum) 0;
	values[5] = CStringGetTextDatum(upgrade);
	values[6] = downgrade ? CStringGetTextDatum(downgrade) : (Datum) 0;
	values[7] = BoolGetDatum(transactional);
	values[8] = source ? CStringGetTextDatum(source) : (Datum) 0;
	values[9] = mg_current_role_datum();
	memset(nulls, ' ', sizeof(nulls));
	nulls[4] = message ? ' ' : 'n';
	nulls[6] = downgrade ? ' ' : 'n';
	nulls[8] = source ? ' ' : 'n';

	/* FOR UPDATE needs the right to update: with the owner's rights */
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "SELECT down_revisions, depends_on, branch_labels, message,"
					 " upgrade, downgrade, transactional, source, seq"
					 " FROM %s WHERE revision OPERATOR(pg_catalog.=) $1 FOR UPDATE",
					 revtable);
	ret = mg_catalog_execute(mg_kept_plan(&select_plan, sql.data, 1, argtypes),
							 values, nulls, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "could not read %s: %s", MG_REVISION_TABLE,
			 SPI_result_code_string(ret));

	if (SPI_processed == 0)
	{
		pending = (fact_flags(revision) & NAME_PENDING) != 0;

		SPI_freetuptable(SPI_tuptable);
		new_names_check(revision, revision, false);
		for (int i = 0; i < nlabels; i++)
			new_names_check(revision, labels[i], true);
		resetStringInfo(&sql);
		appendStringInfo(&sql,
						 "INSERT INTO %s (revision, down_revisions, depends_on,"
						 " branch_labels, message, upgrade, downgrade, transactional,"
						 " source, registered_by, seq)"
						 " SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
						 " COALESCE(pg_catalog.max(seq), 0) OPERATOR(pg_catalog.+) 1 FROM %s"
						 " RETURNING seq",
						 revtable, revtable);
		ret = mg_catalog_execute(mg_kept_plan(&insert_plan, sql.data, 10, argtypes),
								 values, nulls, 0);
		if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "could not insert into %s: %s", MG_REVISION_TABLE,
				 SPI_result_code_string(ret));
		seq = returned_seq();
		result = "added";
		/* registering a name a version row or applied revision waits for */
		if (pending)
			facts.valid = false;
	}
	else
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		bool		same_graph,
					same_bodies,
					same_meta;
		char	  **old_labels;
		int			nold_labels;
		StringInfoData changed;

		applied = facts_is_applied(revision);
		initStringInfo(&changed);
		note_change(&changed, same_list(SPI_getbinval(tup, desc, 1, &isnull), isnull, down, ndown),
					"down_revisions");
		note_change(&changed, same_list(SPI_getbinval(tup, desc, 2, &isnull), isnull, deps, ndeps),
					"depends_on");
		note_change(&changed, same_list(SPI_getbinval(tup, desc, 3, &isnull), isnull, labels, nlabels),
					"branch_labels");
		same_graph = changed.len == 0;
		note_change(&changed, same_text(tup, desc, 5, upgrade), "upgrade body");
		note_change(&changed, same_text(tup, desc, 6, downgrade), "downgrade body");
		note_change(&changed, DatumGetBool(SPI_getbinval(tup, desc, 7, &isnull)) == transactional,
					"transactional flag");
		same_bodies = changed.len == 0;
		same_meta = same_text(tup, desc, 4, message) && same_text(tup, desc, 8, source);
		seq = DatumGetInt64(SPI_getbinval(tup, desc, 9, &isnull));
		nold_labels = stored_list(SPI_getbinval(tup, desc, 3, &isnull), isnull,
								  &old_labels);
		SPI_freetuptable(SPI_tuptable);

		if (applied && !(same_graph && same_bodies))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot change applied revision \"%s\"", revision),
					 errdetail("Revision \"%s\" is applied to this database, and the new definition changes its %s.",
							   revision, changed.data),
					 errhint("Write a new revision for the new change, or downgrade below \"%s\" first.",
							 revision)));
		for (int i = 0; i < nlabels; i++)
			if (!list_has(old_labels, nold_labels, labels[i]))
				new_names_check(revision, labels[i], true);

		/* an unapplied revision follows the ones registered before it */
		if (!applied)
		{
			int64		floor = facts.max_applied_seq;

			if (last_lxid == MyProc->lxid && last_seq > floor)
				floor = last_seq;
			moved = seq < floor;
		}

		if (same_graph && same_bodies && same_meta)
			result = "unchanged";
		else
			result = "updated";
		if (moved || strcmp(result, "updated") == 0)
		{
			values[10] = BoolGetDatum(strcmp(result, "updated") == 0);
			values[11] = BoolGetDatum(moved);
			resetStringInfo(&sql);
			appendStringInfo(&sql,
							 "UPDATE %s SET down_revisions = $2, depends_on = $3,"
							 " branch_labels = $4, message = $5, upgrade = $6,"
							 " downgrade = $7, transactional = $8, source = $9,"
							 " registered_at = CASE WHEN $11 THEN pg_catalog.clock_timestamp()"
							 "  ELSE registered_at END,"
							 " registered_by = CASE WHEN $11 THEN $10 ELSE registered_by END,"
							 " seq = CASE WHEN $12 THEN (SELECT pg_catalog.max(m.seq)"
							 "  OPERATOR(pg_catalog.+) 1 FROM %s AS m) ELSE seq END"
							 " WHERE revision OPERATOR(pg_catalog.=) $1"
							 " RETURNING seq",
							 revtable, revtable);
			ret = mg_catalog_execute(mg_kept_plan(&update_plan, sql.data, 12, argtypes),
									 values, nulls, 0);
			if (ret != SPI_OK_UPDATE_RETURNING || SPI_processed != 1)
				elog(ERROR, "could not update %s: %s", MG_REVISION_TABLE,
					 SPI_result_code_string(ret));
			seq = returned_seq();
		}
	}
	/* the registration kept the facts true (see above) */
	if (facts.valid)
		facts.generation = mg_catalog_generation;
	if (!applied && !pending)
	{
		last_lxid = MyProc->lxid;
		last_seq = seq;
	}
	finish_spi();
	if (source != NULL)
		error_context_stack = errcb.previous;
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

/*
 * migrate_check
 *		Validate the stored graph and the version table.
 */
Datum
migrate_check(PG_FUNCTION_ARGS)
{
	MgState		state;

	connect_spi();
	mg_load_state(&state, MG_LOAD_ROWS);
	finish_spi();
	PG_RETURN_VOID();
}

/*
 * Upgrade and downgrade
 */
static Datum
run_migration(FunctionCallInfo fcinfo, bool upgrade)
{
	const char *fname = upgrade ? "migrate_upgrade" : "migrate_downgrade";
	char	   *target;
	ReturnSetInfo *rsinfo;
	MgState		state;
	MgPlan		plan;
	MgError		err;
	char	  **bodies;
	bool		ok;
	MemoryContext stepcxt;

	check_writable(fname);
	mg_refuse_in_step(fname);
	target = target_arg(fcinfo, 0, "target");
	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	connect_spi();
	mg_lock_changes();
	mg_load_state(&state, MG_LOAD_ROWS | MG_LOAD_FOR_CHANGE);
	if (upgrade)
		ok = mg_plan_upgrade(state.graph, state.rows, target, &plan, &err);
	else
		ok = mg_plan_downgrade(state.graph, state.rows, target, &plan, &err);
	if (!ok)
		mg_report(&err);
	mg_check_plan(&state, &plan);
	mg_load_bodies(&state, &plan, &bodies);
	stepcxt = AllocSetContextCreate(CurrentMemoryContext, "migrations step",
									ALLOCSET_DEFAULT_SIZES);
	mg_version_defer(&state);
	for (int i = 0; i < plan.nsteps; i++)
	{
		MemoryContext old = MemoryContextSwitchTo(stepcxt);

		CHECK_FOR_INTERRUPTS();
		mg_run_step(&state, &plan.steps[i], bodies[plan.steps[i].rev],
					rsinfo->setResult, rsinfo->setDesc);
		MemoryContextSwitchTo(old);
		MemoryContextReset(stepcxt);
	}
	mg_version_flush(&state);
	mg_log_flush(&state);
	finish_spi();
	return (Datum) 0;
}

Datum
migrate_upgrade(PG_FUNCTION_ARGS)
{
	return run_migration(fcinfo, true);
}

Datum
migrate_downgrade(PG_FUNCTION_ARGS)
{
	return run_migration(fcinfo, false);
}

/* qsort comparator: revisions by id, for the graph being stamped */
static MgGraph *sort_graph;

static int
cmp_rev_id(const void *a, const void *b)
{
	return strcmp(mg_rev_id(sort_graph, *(const int *) a),
				  mg_rev_id(sort_graph, *(const int *) b));
}

/*
 * migrate_stamp
 *		Set the version table to the target without running any body.
 *		Returns the version table afterwards.
 */
Datum
migrate_stamp(PG_FUNCTION_ARGS)
{
	char	   *target;
	char	  **targets;
	int			ntargets = 0;
	bool		purge;
	ReturnSetInfo *rsinfo;
	MgState		state;
	MgPlan		plan;
	MgError		err;
	MgList		rows;

	check_writable("migrate_stamp");
	mg_refuse_in_step("migrate_stamp");
	target = target_arg(fcinfo, 0, "target");
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("purge must not be null")));
	purge = PG_GETARG_BOOL(1);
	/* several targets may be given, separated by spaces or commas */
	targets = palloc(sizeof(char *) * (strlen(target) / 2 + 2));
	for (char *tok = strtok(target, " ,\t\n"); tok; tok = strtok(NULL, " ,\t\n"))
		targets[ntargets++] = tok;
	if (ntargets == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target must not be empty")));
	init_text_srf(fcinfo);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	connect_spi();
	mg_lock_changes();
	mg_load_state(&state, (purge ? 0 : MG_LOAD_ROWS) | MG_LOAD_FOR_CHANGE);
	if (purge)
	{
		if (state.nrows > 0)
		{
			mg_version_delete_all();
			mg_log_purge(&state);
		}
		rows.items = NULL;
		rows.n = 0;
	}
	else
		rows = state.rows;
	if (!mg_plan_stamp(state.graph, rows, (const char *const *) targets,
					   ntargets, purge, &plan, &err))
		mg_report(&err);
	for (int i = 0; i < plan.nsteps; i++)
	{
		for (int k = 0; k < plan.steps[i].nops; k++)
			mg_version_op(&state, &plan.steps[i].ops[k]);
		mg_log_step(&state, &plan.steps[i], 0);
	}
	mg_log_flush(&state);
	sort_graph = state.graph;
	qsort(plan.final_rows.items, plan.final_rows.n, sizeof(int), cmp_rev_id);
	for (int i = 0; i < plan.final_rows.n; i++)
	{
		Datum		values[1];
		bool		nulls[1] = {false};

		values[0] = CStringGetTextDatum(mg_rev_id(state.graph, plan.final_rows.items[i]));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * Listings
 */

/*
 * migrate_heads
 *		Heads in registration order, effective heads included.
 */
Datum
migrate_heads(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	MgState		state;
	MgList		heads;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	connect_spi();
	mg_load_state(&state, 0);
	heads = mg_heads(state.graph);
	for (int i = 0; i < heads.n; i++)
	{
		int			r = heads.items[i];
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(mg_rev_id(state.graph, r));
		values[1] = labels_datum(state.graph, r);
		values[2] = BoolGetDatum(!mg_rev_is_real_head(state.graph, r));
		values[3] = message_datum(state.graph, r, &nulls[3]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_current
 *		The branch heads of the applied set (as "alembic current" shows
 *		them), with whether each is stored in migrate_version.
 */
Datum
migrate_current(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	MgState		state;
	MgList		cur;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	connect_spi();
	mg_load_state(&state, MG_LOAD_ROWS);
	cur = mg_current(state.graph, state.rows);
	for (int i = 0; i < cur.n; i++)
	{
		int			r = cur.items[i];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		bool		stored = false;

		for (int k = 0; k < state.rows.n; k++)
			stored |= state.rows.items[k] == r;
		values[0] = CStringGetTextDatum(mg_rev_id(state.graph, r));
		values[1] = labels_datum(state.graph, r);
		values[2] = BoolGetDatum(mg_rev_is_real_head(state.graph, r));
		values[3] = BoolGetDatum(mg_rev_is_head(state.graph, r) &&
								 !mg_rev_is_real_head(state.graph, r));
		values[4] = BoolGetDatum(stored);
		values[5] = message_datum(state.graph, r, &nulls[5]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/* One "alembic history" line */
static char *
history_line(MgGraph *g, int r)
{
	StringInfoData buf;
	MgList		down = mg_rev_down(g, r);
	const char *const *deps;
	int			ndeps = mg_rev_dep_names(g, r, &deps);
	const char **labels;
	int			nlabels = mg_rev_labels(g, r, &labels);
	const char *msg = mg_rev_message(g, r);

	initStringInfo(&buf);
	if (down.n == 0)
		appendStringInfoString(&buf, "<base>");
	for (int i = 0; i < down.n; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "", mg_rev_id(g, down.items[i]));
	if (ndeps > 0)
	{
		appendStringInfoString(&buf, " (");
		for (int i = 0; i < ndeps; i++)
			appendStringInfo(&buf, "%s%s", i ? ", " : "", deps[i]);
		appendStringInfoChar(&buf, ')');
	}
	appendStringInfo(&buf, " -> %s", mg_rev_id(g, r));
	if (nlabels > 0)
	{
		appendStringInfoString(&buf, " (");
		for (int i = 0; i < nlabels; i++)
			appendStringInfo(&buf, "%s%s", i ? ", " : "", labels[i]);
		appendStringInfoChar(&buf, ')');
	}
	if (mg_rev_is_real_head(g, r))
		appendStringInfoString(&buf, " (head)");
	else if (mg_rev_is_head(g, r))
		appendStringInfoString(&buf, " (effective head)");
	if (mg_rev_is_branch_point(g, r))
		appendStringInfoString(&buf, " (branchpoint)");
	if (mg_rev_is_merge_point(g, r))
		appendStringInfoString(&buf, " (mergepoint)");
	appendStringInfo(&buf, ", %s", msg ? msg : "");
	return buf.data;
}

/*
 * migrate_history
 *		Revisions of a range, newest first, in "alembic history" order.
 */
Datum
migrate_history(PG_FUNCTION_ARGS)
{
	char	   *range = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	ReturnSetInfo *rsinfo;
	MgState		state;
	MgList		revs;
	MgError		err;
	bool	   *applied;
	MgGraph    *g;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	connect_spi();
	mg_load_state(&state, MG_LOAD_ROWS);
	g = state.graph;
	if (!mg_history(g, state.rows, range, &revs, &err))
		mg_report(&err);
	applied = mg_applied(g, state.rows);
	for (int i = 0; i < revs.n; i++)
	{
		int			r = revs.items[i];
		Datum		values[11];
		bool		nulls[11];
		const char *const *deps;
		int			ndeps = mg_rev_dep_names(g, r, &deps);
		MgList		down = mg_rev_down(g, r);

		memset(nulls, 0, sizeof(nulls));
		values[0] = CStringGetTextDatum(mg_rev_id(g, r));
		values[1] = mg_text_array(g, down.items, down.n);
		values[2] = mg_cstring_array(deps, ndeps);
		values[3] = labels_datum(g, r);
		values[4] = BoolGetDatum(mg_rev_is_real_head(g, r));
		values[5] = BoolGetDatum(mg_rev_is_head(g, r) && !mg_rev_is_real_head(g, r));
		values[6] = BoolGetDatum(mg_rev_is_branch_point(g, r));
		values[7] = BoolGetDatum(mg_rev_is_merge_point(g, r));
		values[8] = BoolGetDatum(applied[r]);
		values[9] = message_datum(g, r, &nulls[9]);
		values[10] = CStringGetTextDatum(history_line(g, r));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_branches
 *		Branch points (revisions with several children through
 *		down_revisions) and their children.
 */
Datum
migrate_branches(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	MgState		state;
	MgGraph    *g;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	connect_spi();
	mg_load_state(&state, 0);
	g = state.graph;
	for (int r = 0; r < mg_graph_size(g); r++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		MgList		children;

		if (!mg_rev_is_branch_point(g, r))
			continue;
		children = mg_rev_children(g, r);
		values[0] = CStringGetTextDatum(mg_rev_id(g, r));
		values[1] = mg_text_array(g, children.items, children.n);
		values[2] = labels_datum(g, r);
		values[3] = message_datum(g, r, &nulls[3]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_resolve
 *		The revision ids a target names (used by migrate_show).
 */
Datum
migrate_resolve(PG_FUNCTION_ARGS)
{
	char	   *target = target_arg(fcinfo, 0, "target");
	ReturnSetInfo *rsinfo;
	MgState		state;
	MgList		revs;
	MgError		err;

	init_text_srf(fcinfo);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	connect_spi();
	mg_load_state(&state, 0);
	if (!mg_show(state.graph, target, &revs, &err))
		mg_report(&err);
	for (int i = 0; i < revs.n; i++)
	{
		Datum		values[1];
		bool		nulls[1] = {false};

		values[0] = CStringGetTextDatum(mg_rev_id(state.graph, revs.items[i]));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}

/*
 * migrate_state
 *		Per revision: applied, head, stored in the version table.
 */
Datum
migrate_state(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo;
	MgState		state;
	MgGraph    *g;
	bool	   *applied;
	bool	   *stored;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	connect_spi();
	mg_load_state(&state, MG_LOAD_ROWS);
	g = state.graph;
	applied = mg_applied(g, state.rows);
	stored = palloc0(sizeof(bool) * (mg_graph_size(g) + 1));
	for (int k = 0; k < state.rows.n; k++)
		stored[state.rows.items[k]] = true;
	for (int r = 0; r < mg_graph_size(g); r++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(mg_rev_id(g, r));
		values[1] = BoolGetDatum(applied[r]);
		values[2] = BoolGetDatum(mg_rev_is_head(g, r));
		values[3] = BoolGetDatum(stored[r]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	finish_spi();
	return (Datum) 0;
}
