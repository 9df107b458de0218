/*-------------------------------------------------------------------------
 *
 * mg_schema.h
 *	  The schema model that migrate_snapshot() writes and migrate_diff()
 *	  compares, and the pure diff over it (issue 12, items 1, 2 and 7).
 *
 * The model is plain C: no PostgreSQL or libpq type appears here, so the
 * diff (mg_diff.c) links into the backend module and into the unit tests
 * alike.  Catalog reading is mg_snapshot.c (backend, SPI); jsonb -> model
 * parsing and validation is mg_schema_model.c (backend).  Neither may be
 * included by the diff.
 *
 * Names: every "key" of a schema-level object is the SQL spelling of its
 * qualified name as format('%I.%I') writes it (functions add their
 * identity arguments); names of columns, constraints, indexes and
 * triggers are raw (unquoted) and the diff quotes them.  Every array of
 * the model is sorted by name (mgs_model_sort) before the diff runs.
 *
 * Copyright (c) the migrations authors
 *-------------------------------------------------------------------------
 */
#ifndef MG_SCHEMA_H
#define MG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation hook: the backend passes palloc, the unit tests malloc. */
typedef void *(*MgsAllocFn) (void *ctx, size_t size);
typedef struct MgsAlloc
{
	MgsAllocFn	alloc;
	void	   *ctx;
} MgsAlloc;

typedef struct MgsColumn
{
	const char *name;
	int			position;		/* 1-based among the live columns */
	const char *type;			/* format_type() with typmod */
	const char *collation;		/* qualified; NULL: the type's default */
	const char *default_expr;	/* NULL: none (generated: see generated) */
	const char *generated;		/* stored generation expression, or NULL */
	bool		not_null;
	char		identity;		/* 'a', 'd' or 0 */
	const char *comment;
} MgsColumn;

typedef struct MgsConstraint
{
	const char *name;
	char		type;			/* p u c f x */
	const char *definition;		/* pg_get_constraintdef() */
	const char *references;		/* f: key of the referenced table */
	const char *comment;
} MgsConstraint;

/* an index, or a trigger (definition: pg_get_indexdef/pg_get_triggerdef) */
typedef struct MgsDef
{
	const char *name;
	const char *definition;
	const char *comment;
} MgsDef;

typedef struct MgsTable
{
	const char *key;
	char		kind;			/* 'r' table, 'p' partitioned table */
	const char *partition_of;	/* key of the parent, or NULL */
	const char *partition_bound;	/* FOR VALUES ..., with partition_of */
	const char *partition_key;	/* pg_get_partkeydef(), kind 'p' */
	const char *comment;
	MgsColumn  *columns;
	int			ncolumns;
	MgsConstraint *constraints;
	int			nconstraints;
	MgsDef	   *indexes;
	int			nindexes;
	MgsDef	   *triggers;
	int			ntriggers;
	/* from the model's "sizes", never compared: -1 when unknown */
	int64_t		size_bytes;
} MgsTable;

typedef struct MgsSequence
{
	const char *key;
	const char *type;
	const char *start;
	const char *increment;
	const char *min;
	const char *max;
	const char *cache;
	bool		cycle;
	const char *owned_table;	/* key, or NULL */
	const char *owned_column;
	const char *comment;
} MgsSequence;

typedef struct MgsView
{
	const char *key;
	char		kind;			/* 'v' view, 'm' materialized view */
	const char *definition;		/* pg_get_viewdef() */
	const char **depends;		/* keys of the relations it reads */
	int			ndepends;
	MgsDef	   *indexes;		/* materialized views only */
	int			nindexes;
	const char *comment;
} MgsView;

typedef struct MgsEnum
{
	const char *key;
	const char **labels;		/* in sort order, NOT sorted by name */
	int			nlabels;
	const char *comment;
} MgsEnum;

typedef struct MgsDomain
{
	const char *key;
	const char *type;			/* base type, format_type() with typmod */
	const char *collation;		/* qualified; NULL: the base type's */
	const char *default_expr;
	bool		not_null;
	MgsConstraint *constraints; /* CHECK constraints (type 'c') */
	int			nconstraints;
	const char *comment;
} MgsDomain;

/* a composite type: its attributes use MgsColumn (name, position, type,
 * collation; the other fields unused) */
typedef struct MgsComposite
{
	const char *key;
	MgsColumn  *attributes;
	int			nattributes;
	const char *comment;
} MgsComposite;

typedef struct MgsFunction
{
	const char *key;			/* name(identity arguments) */
	char		kind;			/* 'f' function, 'p' procedure */
	const char *result;			/* pg_get_function_result(), NULL for 'p' */
	const char *definition;		/* pg_get_functiondef() */
	const char *comment;
} MgsFunction;

typedef struct MgsExtension
{
	const char *name;			/* raw */
	const char *schema;			/* raw */
	const char *version;
} MgsExtension;

typedef struct MgsSchema
{
	const char *name;			/* raw */
	const char *comment;
} MgsSchema;

typedef struct MgsModel
{
	MgsSchema  *schemas;
	int			nschemas;
	MgsExtension *extensions;
	int			nextensions;
	MgsTable   *tables;
	int			ntables;
	MgsSequence *sequences;
	int			nsequences;
	MgsView    *views;
	int			nviews;
	MgsEnum    *enums;
	int			nenums;
	MgsDomain  *domains;
	int			ndomains;
	MgsComposite *composites;
	int			ncomposites;
	MgsFunction *functions;
	int			nfunctions;
} MgsModel;

/* hazards: NULL is none */
#define MGS_HAZARD_DATA_LOSS	"data_loss"
#define MGS_HAZARD_REWRITE		"table_rewrite"
#define MGS_HAZARD_LONG_LOCK	"long_lock"

typedef struct MgsStep
{
	const char *statement;		/* NULL: a report only (note says what) */
	const char *object;			/* "table public.t", "column public.t.c" ... */
	const char *hazard;			/* one of MGS_HAZARD_*, or NULL */
	const char *note;			/* NULL, or why the step looks as it does */
} MgsStep;

typedef struct MgsSteps
{
	MgsStep    *steps;
	int			nsteps;
	int			cap;
} MgsSteps;

/* sort every name-keyed array of the model (enum labels keep their order) */
extern void mgs_model_sort(MgsModel *m);

/*
 * The statements turning source into target, in execution order.  Both
 * models must be sorted.  Never fails: what it cannot generate is a step
 * with a NULL statement and a note.
 */
extern MgsSteps mgs_diff(const MgsModel *source, const MgsModel *target,
						 const MgsAlloc *a);

/* SQL spelling helpers (also used by the tests) */
extern const char *mgs_quote_ident(const MgsAlloc *a, const char *s);
extern const char *mgs_quote_literal(const MgsAlloc *a, const char *s);

/* is s a qualified name "schema"."name" (with optional "(args)") as the
 * snapshot writes keys?  Used by the parser to refuse hostile keys. */
extern bool mgs_valid_key(const char *s, bool with_args);

#endif							/* MG_SCHEMA_H */
