/*-------------------------------------------------------------------------
 *
 * mg_core.h
 *	  The revision-graph core of the migrations extension.
 *
 * This code has no server dependencies: it is linked into the backend
 * module, the pg_migrate client, the unit tests and the fuzzers.  Its
 * sources are CORE_SRCS of src/core.mk; they share the private header
 * mg_core_int.h, which also says which file owns what.  Callers include
 * this header only.  It builds
 * a revision graph with Alembic 1.8's semantics, validates it, resolves
 * targets, plans upgrade/downgrade/stamp steps and computes the
 * version-table changes of each step.  Functions report failures through an
 * MgError; the caller turns that into an ereport() or a message on stderr.
 *
 * Memory: every allocation made for a graph comes from the graph's arena,
 * whose blocks come from the graph's allocator (a memory context in the
 * backend, malloc elsewhere).  mg_graph_free() releases everything at once.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_CORE_H
#define MG_CORE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The transaction-level advisory lock that serializes changes of migration
 * state (the backend's migrate_* functions and pg_migrate load): "migrat".
 */
#define MG_ADVISORY_LOCK_KEY_VALUE	0x6d6967726174LL

#define MG_MAX_ID_LEN		32
#define MG_MAX_LABEL_LEN	64

/* Pseudo revision indexes */
#define MG_NONE		(-1)		/* nothing: below every base ("base") */

/* Error categories; the backend maps each to a SQLSTATE */
typedef enum MgErrCode
{
	MG_OK = 0,
	MG_E_INVALID_NAME,			/* malformed revision id or branch label */
	MG_E_RESERVED_NAME,			/* a word of the target grammar used as a name */
	MG_E_DUPLICATE,				/* id or label used twice */
	MG_E_UNDEFINED,				/* reference or target that does not exist */
	MG_E_AMBIGUOUS,				/* prefix matching several revisions */
	MG_E_MULTIPLE_HEADS,		/* "head" with several heads */
	MG_E_CYCLE,					/* cycle through down_revisions or depends_on */
	MG_E_INVALID_TARGET,		/* target that cannot be used for the command */
	MG_E_STATE					/* version table inconsistent with the graph */
} MgErrCode;

typedef struct MgError
{
	MgErrCode	code;
	char	   *message;		/* primary message, PostgreSQL style */
	char	   *detail;			/* complete sentence(s), or NULL */
	char	   *hint;			/* complete sentence, or NULL */
} MgError;

/*
 * Where a graph's arena blocks come from: alloc_fn(ctx, size) and
 * free_fn(ctx, ptr).  NULL functions mean malloc and free.
 */
typedef void *(*MgAllocFn) (void *ctx, size_t size);
typedef void (*MgFreeFn) (void *ctx, void *ptr);

/* One revision as handed to the graph builder */
typedef struct MgRevInput
{
	const char *id;
	const char *const *down;	/* down_revisions, may be NULL if ndown = 0 */
	int			ndown;
	const char *const *deps;	/* depends_on entries (ids or labels) */
	int			ndeps;
	const char *const *labels;	/* branch labels declared here */
	int			nlabels;
	const char *message;		/* may be NULL */
	int			tag;			/* caller's data (e.g. row number), kept */
} MgRevInput;

typedef struct MgGraph MgGraph;

/* A list of revision indexes */
typedef struct MgList
{
	int		   *items;
	int			n;
} MgList;

/* Version-table operations */
typedef enum MgOpKind
{
	MG_OP_INSERT,				/* INSERT a */
	MG_OP_DELETE,				/* DELETE a */
	MG_OP_UPDATE				/* UPDATE a -> b */
} MgOpKind;

typedef struct MgOp
{
	MgOpKind	kind;
	int			a;
	int			b;
} MgOp;

typedef enum MgDirection
{
	MG_UPGRADE,
	MG_DOWNGRADE,
	MG_STAMP
} MgDirection;

/* One planned step and the version-table changes made after it */
typedef struct MgStep
{
	MgDirection direction;
	int			rev;			/* revision run; for stamp: destination or
								 * MG_NONE */
	int			nops;
	MgOp	   *ops;
} MgStep;

typedef struct MgPlan
{
	int			nsteps;
	MgStep	   *steps;
	MgList		final_rows;		/* version table after all steps */
} MgPlan;

/*
 * Interrupt hook: the core's long loops (graph building, validation, label
 * inheritance, walks, planning) call MG_CHECK_INTERRUPTS(), which calls
 * mg_interrupt_hook when it is set.  The backend points it at a function
 * that runs CHECK_FOR_INTERRUPTS(), so that a cancel request or a
 * statement_timeout ends a long call (the error unwinds through the core,
 * whose memory belongs to a memory context); the client leaves it NULL.
 */
typedef void (*MgInterruptHook) (void);
extern MgInterruptHook mg_interrupt_hook;

#define MG_CHECK_INTERRUPTS() \
	do { \
		if (mg_interrupt_hook) \
			mg_interrupt_hook(); \
	} while (0)

/* Graph construction */
extern MgGraph *mg_graph_new(void);
extern MgGraph *mg_graph_new_in(MgAllocFn alloc_fn, MgFreeFn free_fn, void *ctx);
extern void mg_graph_free(MgGraph *g);
extern void *mg_graph_alloc(MgGraph *g, size_t size);
extern char *mg_graph_strdup(MgGraph *g, const char *s);
extern void mg_graph_add(MgGraph *g, const MgRevInput *in);
extern void mg_graph_add_owned(MgGraph *g, const MgRevInput *in);
extern void mg_graph_reserve(MgGraph *g, int n);

/* Marks in a graph's arena (see mg_graph_mark) */
typedef struct MgArenaMark
{
	unsigned long seq;
	struct ArenaBlock *head;
	size_t		used;
} MgArenaMark;

extern void mg_graph_mark(MgGraph *g, MgArenaMark *m);
extern void mg_graph_release(MgGraph *g, const MgArenaMark *m);

/*
 * Validate and index the graph.  Returns false when the graph is invalid;
 * err then describes the first problem and err->detail lists all of them.
 * No other function may be called on an invalid graph.
 */
extern bool mg_graph_finish(MgGraph *g, MgError *err);

/* Validation of single names (no graph needed) */
extern bool mg_valid_id(const char *s);
extern bool mg_valid_label(const char *s);
extern bool mg_reserved_name(const char *s);	/* base, head, heads, current */

/*
 * The one rule for names, with its messages.  Every path that accepts a
 * name (the graph builder, migrate_register, the revision-file parser,
 * pg_migrate new) checks it with mg_check_name, so that one condition gets
 * one error code and one text everywhere.
 *
 * kind says what the name is; it decides the length limit (MG_MAX_ID_LEN
 * for revision ids and down_revisions, MG_MAX_LABEL_LEN for branch labels
 * and dependencies, which may name a label) and the words of the message.
 * s and len are the name as given (len bytes, which may include a NUL: a
 * NUL is not a legal character).  owner, when not NULL, is the revision the
 * name belongs to; the message then names it.
 *
 * Returns true when the name is legal.  Otherwise fills *p: code is
 * MG_E_RESERVED_NAME for a word of the target grammar and MG_E_INVALID_NAME
 * for anything else; message and detail are complete texts in PostgreSQL's
 * style, with the name clipped on a character boundary (mg_clip).  No
 * memory is allocated.
 */
typedef enum MgNameKind
{
	MG_NAME_REVISION,			/* a revision's own id */
	MG_NAME_DOWN_REVISION,		/* an entry of down_revisions */
	MG_NAME_DEPENDENCY,			/* an entry of depends_on */
	MG_NAME_BRANCH_LABEL		/* a declared branch label */
} MgNameKind;

#define MG_NAME_TEXT_LEN	320

typedef struct MgNameProblem
{
	MgErrCode	code;
	char		message[MG_NAME_TEXT_LEN];
	char		detail[MG_NAME_TEXT_LEN];
} MgNameProblem;

extern bool mg_check_name(MgNameKind kind, const char *s, size_t len,
						  const char *owner, MgNameProblem *p);

/*
 * The one truncation rule for user strings shown in messages: the number
 * of leading bytes of s (len bytes long) to print so that at most max bytes
 * are shown and no UTF-8 sequence is cut.  Callers print "%.*s" with the
 * result and append "..." when it is less than len.
 */
#define MG_SHOWN_MAX	80
extern int	mg_clip(const char *s, size_t len, size_t max);

/*
 * The one comparator of C strings for qsort/bsearch over arrays of
 * "const char *" (strcmp order).  Code linked with libpgport uses
 * pg_qsort_strcmp, which is the same.
 */
extern int	mg_strcmp_ptr(const void *a, const void *b);

/* Accessors */
extern int	mg_graph_size(const MgGraph *g);
extern int	mg_lookup(const MgGraph *g, const char *id);	/* exact id, or -1 */
extern const char *mg_rev_id(const MgGraph *g, int rev);
extern const char *mg_rev_message(const MgGraph *g, int rev);
extern int	mg_rev_tag(const MgGraph *g, int rev);
extern MgList mg_rev_down(const MgGraph *g, int rev);
extern MgList mg_rev_deps(const MgGraph *g, int rev);	/* resolved */
/* depends_on as declared (ids or labels) */
extern int	mg_rev_dep_names(const MgGraph *g, int rev, const char *const **names);
extern MgList mg_rev_normalized_down(const MgGraph *g, int rev);
extern MgList mg_rev_children(const MgGraph *g, int rev);	/* nextrev */
extern bool mg_rev_is_head(const MgGraph *g, int rev);
extern bool mg_rev_is_real_head(const MgGraph *g, int rev);
extern bool mg_rev_is_branch_point(const MgGraph *g, int rev);
extern bool mg_rev_is_merge_point(const MgGraph *g, int rev);
/*
 * Inherited branch labels, sorted by name.  The array belongs to the graph
 * and stays valid until the next mg_rev_labels call on it (or
 * mg_graph_release); the strings stay valid as long as the graph.
 */
extern int	mg_rev_labels(MgGraph *g, int rev, const char ***labels);
/* does rev carry branch label (declared or inherited)? */
extern bool mg_rev_has_label(MgGraph *g, int rev, const char *label);

extern MgList mg_heads(const MgGraph *g);	/* all heads, effective included */
extern MgList mg_real_heads(const MgGraph *g);
extern MgList mg_bases(const MgGraph *g);

/*
 * Version table rows are given as strings; a row naming no registered
 * revision is an error (MG_E_STATE).  On success *rows holds the indexes in
 * the given order.
 */
extern bool mg_resolve_rows(MgGraph *g, const char *const *ids, int n,
							MgList *rows, MgError *err);

/* Planning; rows are the current version table */
extern bool mg_plan_upgrade(MgGraph *g, MgList rows, const char *target,
							MgPlan *plan, MgError *err);
extern bool mg_plan_downgrade(MgGraph *g, MgList rows, const char *target,
							  MgPlan *plan, MgError *err);
extern bool mg_plan_stamp(MgGraph *g, MgList rows, const char *const *targets,
						  int ntargets, bool purge, MgPlan *plan, MgError *err);

/*
 * The plan that undoes an upgrade plan: its steps last first, each a
 * downgrade of the same revision whose version-table operations undo the
 * upgrade step's (last first, INSERT and DELETE swapped, UPDATE a -> b
 * becoming b -> a).  start_rows are the rows the upgrade started from,
 * which become the new plan's final_rows.  Memory from the graph's arena.
 */
extern void mg_plan_reverse(MgGraph *g, const MgPlan *up, MgList start_rows,
							MgPlan *down);

/* Revisions of a history range, in "alembic history" order */
extern bool mg_history(MgGraph *g, MgList rows, const char *range,
					   MgList *out, MgError *err);

/* Alembic's "current": branch heads of the applied set */
extern MgList mg_current(MgGraph *g, MgList rows);

/* Applied-ness on a graph that may have failed validation */
extern bool mg_is_applied_lenient(MgGraph *g, const char *const *row_ids,
								  int nrows, const char *id);

/* The applied set of the given rows, as a flag per revision */
extern bool *mg_applied(MgGraph *g, MgList rows);

/* Revisions a symbol resolves to (migrate_show) */
extern bool mg_show(MgGraph *g, const char *symbol, MgList *out, MgError *err);

#endif							/* MG_CORE_H */
