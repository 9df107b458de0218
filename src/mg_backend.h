/*-------------------------------------------------------------------------
 *
 * mg_backend.h
 *	  Declarations shared by the backend files of the migrations extension.
 *
 * The backend is layered, each layer calling only the ones below it:
 *
 *   migrations.c, mg_register.c  the SQL-callable functions: arguments,
 *                                policy, result rows
 *   mg_run.c                     the executor: runs a plan (upgrade,
 *                                downgrade or stamp) step by step
 *   mg_execute.c                 runs one revision body through SPI
 *   mg_catalog.c,                the catalog layer: every SQL statement on
 *   mg_catalog_read.c            the extension's tables, the kept graph,
 *                                the guard triggers
 *   mg_core.h                    the revision graph, with no server code
 *
 * mg_guard.c (the drop guard, an event trigger) stands apart; it reads the
 * catalogs of PostgreSQL, not the extension's tables.
 *
 * This header must declare nothing a single file could keep static.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_BACKEND_H
#define MG_BACKEND_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/tuplestore.h"

#include "mg_core.h"

/* Names of catalog objects */
#define MG_EXTENSION_NAME	"migrations"
#define MG_REVISION_TABLE	"migrate_revision"
#define MG_VERSION_TABLE	"migrate_version"
#define MG_LOG_TABLE		"migrate_log"
#define MG_ALEMBIC_TABLE	"migrate_alembic_version"

/* Key of the transaction-level advisory lock that serializes changes */
#define MG_ADVISORY_LOCK_KEY	((int64) MG_ADVISORY_LOCK_KEY_VALUE)

/*
 * MgCatalog: what one call read from the catalog (mg_load_state).  It is
 * only read after the load; a run's buffers live in MgRun.
 */
typedef struct MgCatalog
{
	MemoryContext context;		/* holds everything below */
	MgGraph    *graph;			/* may be the backend's kept graph */
	char	  **row_ids;		/* migrate_version rows, sorted */
	int			nrows;
	MgList		rows;			/* resolved rows (valid if rows_resolved) */
	bool		rows_resolved;
	bool		valid;			/* the graph passed validation */
	bool	   *transactional;	/* per revision tag */
	bool	   *has_downgrade;	/* per revision tag */
} MgCatalog;

/*
 * MgPendingWrites: the version rows and log rows of a run not yet written.
 * Filled by mg_pending_version_op and mg_pending_log_step, written by
 * mg_pending_flush (all in mg_catalog.c); the caller only holds it.
 */
typedef struct MgPendingWrites
{
	MgGraph    *graph;
	MemoryContext context;		/* the catalog snapshot's */
	bool	   *vinit;			/* per revision: a row as last written */
	bool	   *vset;			/* per revision: a row now */
	struct MgLogRow *log_rows;	/* log rows not yet written */
	int			nlog;
	int			caplog;
} MgPendingWrites;

/* A revision as migrate_register is asked to store it */
typedef struct MgRevisionDef
{
	const char *revision;
	char	  **down;
	int			ndown;
	char	  **deps;
	int			ndeps;
	char	  **labels;
	int			nlabels;
	const char *message;		/* NULL for none */
	const char *upgrade;
	const char *downgrade;		/* NULL for none */
	bool		transactional;
	const char *source;			/* NULL for none */
	const char *verify;			/* NULL for none (mg_revision_set_verify) */
} MgRevisionDef;

/* A stored revision, as read for update (NULL array elements read as "") */
typedef struct MgStoredRevision
{
	char	  **down;
	int			ndown;
	char	  **deps;
	int			ndeps;
	char	  **labels;
	int			nlabels;
	char	   *message;
	char	   *upgrade;
	char	   *downgrade;
	char	   *source;
	bool		transactional;
	int64		seq;
} MgStoredRevision;

/* mg_catalog_read.c: reading */
#define MG_LOAD_ROWS		0x01	/* resolve the version rows */
#define MG_LOAD_FOR_CHANGE	0x02	/* read with a new snapshot */
#define MG_LOAD_LENIENT		0x04	/* keep an invalid graph */
extern void mg_load_state(MgCatalog *cat, int flags);
extern void mg_load_bodies(MgCatalog *cat, const MgPlan *plan,
						   char ***bodies_out);
extern bool mg_catalog_has_verify(void);
extern void mg_load_verifies(MgCatalog *cat, const MgPlan *plan,
							 char ***verifies_out);

/* mg_catalog.c: identity, lock, errors */
extern Oid	mg_extension_row(Oid extoid, Oid *owner);
extern void mg_lock_changes(void);
extern Oid	mg_catalog_relid(const char *relname);
extern uint64 mg_catalog_generation;
extern void mg_report(const MgError *err);

/* mg_catalog.c: migrate_revision */
extern bool mg_revision_lock(const char *revision, MgStoredRevision *out);
extern int64 mg_revision_insert(const MgRevisionDef *def);
extern int64 mg_revision_update(const MgRevisionDef *def, bool changed,
								bool move_to_end);
extern int	mg_revision_applied_extras(const Datum *ids, int nids,
									   int64 *max_seq, char ***missing);
extern void mg_revision_delete(const char *revision);
extern void mg_log_failure(const char *direction, const char *revision,
						   const char *sqlstate, const char *error);
extern bool mg_revision_set_verify(const char *revision, const char *verify);

/* mg_catalog.c: migrate_version and migrate_log */
extern void mg_pending_begin(MgPendingWrites *pw, MgCatalog *cat, MgList rows);
extern void mg_pending_version_op(MgPendingWrites *pw, const MgOp *op);
extern void mg_pending_log_step(MgPendingWrites *pw, const MgStep *step,
								double seconds);
extern void mg_pending_flush(MgPendingWrites *pw);
extern void mg_version_purge(MgCatalog *cat);

/* mg_catalog.c: the kept Alembic version table's setting (issue 13) */
extern bool mg_alembic_setting_read(char **schema, char **table);
extern bool mg_alembic_setting_write(const char *schema, const char *table);

/*
 * mg_alembic_version.c: Alembic's version table kept in step.  Called by
 * the catalog layer wherever migrate_version is written: vset holds a flag
 * per revision of g (NULL: no row).
 */
extern void mg_alembic_version_sync(MgGraph *g, const bool *vset);

/* mg_catalog.c: datums */
extern Datum mg_text_array(MgGraph *g, const int *revs, int n);
extern Datum mg_cstring_array(const char *const *items, int n);

/*
 * mg_run.c: the executor.  One run executes one plan:
 *
 *		mg_run_begin(&run, ...);
 *		for (i = 0; i < plan->nsteps; i++)
 *			mg_run_step(&run, i);
 *		mg_run_flush(&run);
 *
 * mg_run_flush writes the version rows and log rows of the steps run since
 * the last flush; a caller that commits between steps flushes before each
 * commit.
 */
typedef struct MgRun
{
	MgCatalog  *cat;
	const MgPlan *plan;
	MgDirection kind;			/* what the plan does */
	char	  **bodies;			/* per revision, NULL for stamp */
	char	  **verifies;		/* per revision: verify bodies, or NULL */
	MgPendingWrites writes;
	Tuplestorestate *ts;		/* a result row per step run, or NULL */
	TupleDesc	tupdesc;
	MemoryContext stepcxt;		/* reset after each step */
} MgRun;

extern void mg_run_begin(MgRun *run, MgCatalog *cat, const MgPlan *plan,
						 MgDirection kind, MgList rows,
						 Tuplestorestate *ts, TupleDesc tupdesc);
extern void mg_run_step(MgRun *run, int i);
extern void mg_run_flush(MgRun *run);

/* mg_execute.c */
extern void mg_execute_define_gucs(void);
extern void mg_execute_check_settings(void);
extern double mg_execute_body(const char *revision, MgDirection direction,
							  const char *body);
extern void mg_refuse_in_step(const char *funcname);
extern bool mg_step_running(void);

/* mg_provenance.c */
extern bytea *mg_body_checksum(const char *upgrade, const char *downgrade,
							   const char *verify);
extern void mg_graph_check_at_commit(void);

/* mg_guard.c */
extern void mg_guard_define_gucs(void);

/* migrations.c: helpers of the SQL-callable functions */
extern void mg_connect_spi(void);
extern void mg_finish_spi(void);
extern void mg_check_writable(const char *funcname);

#endif							/* MG_BACKEND_H */
