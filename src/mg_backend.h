/*-------------------------------------------------------------------------
 *
 * mg_backend.h
 *	  Declarations shared by the backend parts of the migrations extension:
 *	  catalog access (mg_catalog.c) and step execution (mg_execute.c).
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_BACKEND_H
#define MG_BACKEND_H

#include "postgres.h"

#include "executor/spi.h"
#include "funcapi.h"
#include "utils/tuplestore.h"

#include "mg_core.h"

/* Names of catalog objects */
#define MG_EXTENSION_NAME	"migrations"
#define MG_REVISION_TABLE	"migrate_revision"
#define MG_VERSION_TABLE	"migrate_version"
#define MG_LOG_TABLE		"migrate_log"

/* Key of the transaction-level advisory lock that serializes changes */
#define MG_ADVISORY_LOCK_KEY	((int64) MG_ADVISORY_LOCK_KEY_VALUE)

/* The stored graph and version table, loaded for one call */
typedef struct MgState
{
	MemoryContext context;		/* holds the graph's arena */
	MgGraph    *graph;
	char	  **row_ids;		/* migrate_version rows, sorted */
	int			nrows;
	MgList		rows;			/* resolved rows (valid if rows_resolved) */
	bool		rows_resolved;
	bool		valid;			/* the graph passed validation */
	/* statements prepared for this call (freed with its SPI connection) */
	SPIPlanPtr	plan_insert;
	SPIPlanPtr	plan_delete;
	SPIPlanPtr	plan_update;
	SPIPlanPtr	plan_log;
	uint64		uses_insert;	/* uses of the plans above (step_plan) */
	uint64		uses_delete;
	uint64		uses_update;
	bool	   *transactional;	/* per revision */
	bool	   *has_downgrade;	/* per revision */
	/* version table kept in memory during a call (mg_version_defer) */
	bool	   *vset;			/* per revision: a row now, or NULL */
	bool	   *vinit;			/* per revision: a row before the call */
	/* log rows of steps not yet written (mg_log_step, mg_log_flush) */
	struct MgLogRow *log_rows;
	int			nlog;
	int			caplog;
} MgState;

/* mg_catalog.c */
extern const char *mg_qualified(const char *relname);
extern void mg_lock_changes(void);
extern uint64 mg_catalog_generation;
extern Oid	mg_catalog_relid(const char *relname);
extern int	mg_catalog_execute(SPIPlanPtr plan, Datum *values, const char *nulls,
							   long tcount);
extern Datum mg_current_role_datum(void);

/* A plan kept across calls, keyed by its statement text */
typedef struct MgKeptPlan
{
	SPIPlanPtr	plan;
	char	   *sql;
	uint64		uses;			/* calls so far (see mg_kept_plan) */
} MgKeptPlan;

extern SPIPlanPtr mg_kept_plan(MgKeptPlan *kp, const char *sql, int nargs,
							   Oid *argtypes);
#define MG_LOAD_ROWS		0x01	/* resolve the version rows */
#define MG_LOAD_FOR_CHANGE	0x02	/* read with a new snapshot */
#define MG_LOAD_LENIENT		0x04	/* keep an invalid graph */
extern void mg_load_state(MgState *state, int flags);
extern void mg_report(const MgError *err);
extern void mg_load_bodies(MgState *state, const MgPlan *plan,
						   char ***bodies_out);
extern void mg_version_op(MgState *state, const MgOp *op);
extern void mg_version_delete_all(void);
extern void mg_version_defer(MgState *state);
extern void mg_version_flush(MgState *state);
extern void mg_log_step(MgState *state, const MgStep *step, double seconds);
extern void mg_log_purge(MgState *state);
extern void mg_log_flush(MgState *state);
extern Datum mg_text_array(MgGraph *g, const int *revs, int n);
extern Datum mg_cstring_array(const char *const *items, int n);

/* migrations.c */
extern int	mg_step_lock_timeout;
extern char *mg_bad_lock_timeout;
extern bool mg_allow_drop;		/* defined in mg_guard.c */

/* mg_execute.c */
extern void mg_refuse_in_step(const char *funcname);
extern bool mg_step_running(void);
extern void mg_check_plan(MgState *state, const MgPlan *plan);
extern void mg_run_step(MgState *state, const MgStep *step, const char *body,
						Tuplestorestate *ts, TupleDesc tupdesc);

#endif							/* MG_BACKEND_H */
