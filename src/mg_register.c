/*-------------------------------------------------------------------------
 *
 * mg_register.c
 *	  migrate_register: storing one revision, and the rules of what a
 *	  registration may change.
 *
 * A registration checks the names it is given (the core's mg_check_name,
 * so that a bad name gets the same error here as through every other
 * path), refuses bodies the server could never run, and refuses changes to
 * an applied revision and names that would change what an applied
 * revision depends on.  What is applied is worked out once per transaction
 * and kept (AppliedFacts below).  The statements on migrate_revision are
 * the catalog layer's (mg_revision_lock, mg_revision_insert,
 * mg_revision_update, mg_revision_applied_extras): this file must not run
 * SQL itself.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "common/keywords.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/scanner.h"
#include "port.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "mg_backend.h"

PG_FUNCTION_INFO_V1(migrate_register);

/*
 * Arguments
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

/*
 * duplicate_name
 *		A name listed twice in one of the lists of revision; kind says
 *		which list.
 */
static void
duplicate_name(const char *revision, const char *item, MgNameKind kind)
{
	switch (kind)
	{
		case MG_NAME_DOWN_REVISION:
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("down_revision \"%s\" is listed twice in revision \"%s\"",
							item, revision)));
			break;
		case MG_NAME_BRANCH_LABEL:
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("branch label \"%s\" is listed twice in revision \"%s\"",
							item, revision)));
			break;
		case MG_NAME_DEPENDENCY:
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("dependency \"%s\" is listed twice in revision \"%s\"",
							item, revision)));
			break;
	}
}

/*
 * check_name
 *		A name must follow the core's one rule for names (mg_check_name),
 *		which gives the error the same code and text as every other path
 *		(the graph builder behind migrate_check, the file parser of
 *		pg_migrate).  owner is the revision the name belongs to, or NULL for
 *		the revision's own id.
 */
static void
check_name(MgNameKind kind, const char *name, const char *owner)
{
	MgNameProblem np;
	MgError		err;

	if (mg_check_name(kind, name, strlen(name), owner, &np))
		return;
	err.code = np.code;
	err.message = np.message;
	err.detail = np.detail;
	err.hint = NULL;
	mg_report(&err);
}

/*
 * check_names
 *		Every name of one list of revision (kind says which) follows the
 *		rule, and none is listed twice.  Short lists are compared pairwise,
 *		long ones (wide merges) sorted first: O(n log n).
 */
static void
check_names(const char *revision, char **items, int n, MgNameKind kind)
{
	for (int i = 0; i < n; i++)
	{
		check_name(kind, items[i], revision);
		for (int j = 0; j < i && n <= 32; j++)
			if (strcmp(items[i], items[j]) == 0)
				duplicate_name(revision, items[i], kind);
	}
	if (n > 32)
	{
		char	  **sorted = palloc(sizeof(char *) * n);

		memcpy(sorted, items, sizeof(char *) * n);
		qsort(sorted, n, sizeof(char *), pg_qsort_strcmp);
		for (int i = 1; i < n; i++)
			if (strcmp(sorted[i], sorted[i - 1]) == 0)
				duplicate_name(revision, sorted[i], kind);
		pfree(sorted);
	}
}

/* Whether two lists of names are the same, in the same order */
static bool
same_names(char **a, int na, char **b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

/* Whether two strings, either of which may be NULL, are the same */
static bool
same_string(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == NULL && b == NULL;
	return strcmp(a, b) == 0;
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

/* A rolled-back subtransaction may have undone what the facts say */
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

/* The NAME_* flags of a name, 0 when it has none */
static int
fact_flags(const char *name)
{
	FactName   *f = fact_find(facts.names, name);

	return f ? f->flags : 0;
}

/* Give a name a NAME_* flag (names longer than a label are never needed) */
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

/*
 * facts_build
 *		Work the facts out from the catalog as the caller (holding the
 *		advisory lock) sees it: load the graph leniently (it may lack
 *		parents registered later in the transaction), walk from the version
 *		rows through parents and dependencies to the applied set, note the
 *		names applied revisions depend on (NAME_DEP), and the version rows
 *		and parents that are not registered (NAME_PENDING), and read the
 *		highest seq of an applied revision (mg_revision_applied_extras).
 *		The facts live in a context of their own under TopMemoryContext.
 *		Cost: one graph load, O(revisions + edges), and one query.
 */
static void
facts_build(Oid relid)
{
	static bool callback_set = false;
	MgCatalog	state;
	MgGraph    *g;
	int			n;
	bool	   *applied;
	int		   *stack;
	int			sp = 0;
	int			napplied = 0;
	Datum	   *ids;
	HASHCTL		ctl;

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
		char	  **missing;
		int			nmissing;

		/*
		 * The highest seq of an applied revision, and the parents of
		 * applied revisions that are not registered (the graph skips them)
		 */
		nmissing = mg_revision_applied_extras(ids, napplied,
											  &facts.max_applied_seq, &missing);
		for (int i = 0; i < nmissing; i++)
			fact_add_name(missing[i], NAME_PENDING);
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

/* Whether the revision is applied (facts_require first) */
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
check_body_runnable(const char *revision, bool upgrade, const char *body)
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
			 upgrade ?
			 errmsg("upgrade body of revision \"%s\" is too long to run", revision) :
			 errmsg("downgrade body of revision \"%s\" is too long to run", revision),
			 errdetail("The body holds a string constant, quoted identifier or dollar-quoted string of 512 MB or more, more than PostgreSQL's parser can read in one token, so no step could ever run it."),
			 errhint("Load such data from a file on the server (COPY ... FROM 'file'), or split it over several statements.")));
}

/* Error context of migrate_register: where the revision came from */
typedef struct RegisterContext
{
	const char *revision;
	const char *source;
} RegisterContext;

/* The context line: which revision, from which file */
static void
register_error_callback(void *arg)
{
	RegisterContext *rc = (RegisterContext *) arg;

	errcontext("registering revision \"%s\" from \"%s\"", rc->revision, rc->source);
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
 *		rights (mg_catalog.c); registered_by names the caller.
 */
Datum
migrate_register(PG_FUNCTION_ARGS)
{
	MgRevisionDef def;
	MgStoredRevision old;
	char	   *revision;
	const char *result;
	int64		seq;
	bool		moved = false;
	bool		applied = false;
	bool		pending = false;
	bool		has_verify;
	ErrorContextCallback errcb;
	RegisterContext regctx;

	mg_check_writable("migrate_register");
	mg_refuse_in_step("migrate_register");
	memset(&def, 0, sizeof(def));
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("revision must not be null")));
	revision = text_to_cstring(PG_GETARG_TEXT_PP(0));
	def.revision = revision;
	def.downgrade = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	def.message = PG_ARGISNULL(4) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(4));
	def.source = PG_ARGISNULL(8) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(8));
	/* verify, the tenth argument, exists from catalog version 0.4 on */
	if (PG_NARGS() > 9 && !PG_ARGISNULL(9))
		def.verify = text_to_cstring(PG_GETARG_TEXT_PP(9));

	/* errors about a revision loaded from a file name the file */
	if (def.source != NULL)
	{
		regctx.revision = revision;
		regctx.source = def.source;
		errcb.callback = register_error_callback;
		errcb.arg = &regctx;
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;
	}

	check_name(MG_NAME_REVISION, revision, NULL);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("down_revisions of revision \"%s\" must not be null", revision),
				 errhint("Use '{}' for a base revision.")));
	def.ndown = array_arg(fcinfo, 1, "down_revisions", &def.down);
	check_names(revision, def.down, def.ndown, MG_NAME_DOWN_REVISION);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("upgrade of revision \"%s\" must not be null", revision)));
	def.upgrade = text_to_cstring(PG_GETARG_TEXT_PP(2));
	def.nlabels = array_arg(fcinfo, 5, "branch_labels", &def.labels);
	check_names(revision, def.labels, def.nlabels, MG_NAME_BRANCH_LABEL);
	def.ndeps = array_arg(fcinfo, 6, "depends_on", &def.deps);
	check_names(revision, def.deps, def.ndeps, MG_NAME_DEPENDENCY);

	/* a self-reference needs no other revision to be wrong */
	for (int i = 0; i < def.ndown; i++)
		if (strcmp(def.down[i], revision) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("revision \"%s\" is its own down_revision", revision),
					 errdetail("Revision \"%s\" lists itself in down_revisions.", revision)));
	for (int i = 0; i < def.ndeps; i++)
		if (strcmp(def.deps[i], revision) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("revision \"%s\" depends on itself", revision),
					 errdetail("Revision \"%s\" lists itself in depends_on.", revision)));
	if (PG_ARGISNULL(7))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("transactional of revision \"%s\" must not be null", revision)));
	def.transactional = PG_GETARG_BOOL(7);
	check_body_runnable(revision, true, def.upgrade);
	if (def.downgrade != NULL)
		check_body_runnable(revision, false, def.downgrade);
	if (def.verify != NULL)
		check_body_runnable(revision, true, def.verify);
	has_verify = mg_catalog_has_verify();

	mg_connect_spi();
	mg_lock_changes();
	facts_require(mg_catalog_relid(MG_REVISION_TABLE));

	if (!mg_revision_lock(revision, &old))
	{
		pending = (fact_flags(revision) & NAME_PENDING) != 0;

		new_names_check(revision, revision, false);
		for (int i = 0; i < def.nlabels; i++)
			new_names_check(revision, def.labels[i], true);
		seq = mg_revision_insert(&def);
		if (has_verify && def.verify != NULL)
			(void) mg_revision_set_verify(revision, def.verify);
		result = "added";
		/* registering a name a version row or applied revision waits for */
		if (pending)
			facts.valid = false;
	}
	else
	{
		bool		same_graph,
					same_bodies,
					same_meta;
		StringInfoData changed;

		applied = facts_is_applied(revision);
		initStringInfo(&changed);
		note_change(&changed, same_names(old.down, old.ndown, def.down, def.ndown),
					"down_revisions");
		note_change(&changed, same_names(old.deps, old.ndeps, def.deps, def.ndeps),
					"depends_on");
		note_change(&changed, same_names(old.labels, old.nlabels, def.labels, def.nlabels),
					"branch_labels");
		same_graph = changed.len == 0;
		note_change(&changed, same_string(old.upgrade, def.upgrade), "upgrade body");
		note_change(&changed, same_string(old.downgrade, def.downgrade), "downgrade body");
		note_change(&changed, old.transactional == def.transactional,
					"transactional flag");
		same_bodies = changed.len == 0;
		same_meta = same_string(old.message, def.message) &&
			same_string(old.source, def.source);
		/* verify may change on an applied revision: it runs on upgrades only */
		if (has_verify && mg_revision_set_verify(revision, def.verify))
			same_meta = false;
		seq = old.seq;

		if (applied && !(same_graph && same_bodies))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot change applied revision \"%s\"", revision),
					 errdetail("Revision \"%s\" is applied to this database, and the new definition changes its %s.",
							   revision, changed.data),
					 errhint("Write a new revision for the new change, or downgrade below \"%s\" first.",
							 revision)));
		for (int i = 0; i < def.nlabels; i++)
			if (!list_has(old.labels, old.nlabels, def.labels[i]))
				new_names_check(revision, def.labels[i], true);

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
			seq = mg_revision_update(&def, strcmp(result, "updated") == 0, moved);
	}
	/* the registration kept the facts true (see above) */
	if (facts.valid)
		facts.generation = mg_catalog_generation;
	if (!applied && !pending)
	{
		last_lxid = MyProc->lxid;
		last_seq = seq;
	}
	mg_finish_spi();
	if (def.source != NULL)
		error_context_stack = errcb.previous;
	PG_RETURN_TEXT_P(cstring_to_text(result));
}

PG_FUNCTION_INFO_V1(migrate_unregister);

/*
 * migrate_unregister
 *		Remove a registered revision that is not applied, and log that
 *		(mg_revision_delete).  An applied revision is refused: its body is
 *		what undoes it, so downgrade below it first.  Revisions that name it
 *		as a parent or dependency are not looked at here: the graph is
 *		checked when the transaction commits (migrate_graph_check), so a
 *		branch can be removed in any order within one transaction.
 *		Removing an unapplied revision leaves the applied set as it was,
 *		so the facts stay true.
 */
Datum
migrate_unregister(PG_FUNCTION_ARGS)
{
	char	   *revision;
	MgStoredRevision old;

	mg_check_writable("migrate_unregister");
	mg_refuse_in_step("migrate_unregister");
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("revision must not be null")));
	revision = text_to_cstring(PG_GETARG_TEXT_PP(0));

	mg_connect_spi();
	mg_lock_changes();
	facts_require(mg_catalog_relid(MG_REVISION_TABLE));
	if (!mg_revision_lock(revision, &old))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("revision \"%s\" is not registered", revision)));
	if (facts_is_applied(revision))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot unregister applied revision \"%s\"", revision),
				 errdetail("Revision \"%s\" is applied to this database, and its downgrade is what undoes it.",
						   revision),
				 errhint("Downgrade below \"%s\" first (pg_migrate downgrade, or migrate_downgrade()), then unregister it.",
						 revision)));
	mg_revision_delete(revision);
	if (facts.valid)
		facts.generation = mg_catalog_generation;
	mg_finish_spi();
	PG_RETURN_VOID();
}
