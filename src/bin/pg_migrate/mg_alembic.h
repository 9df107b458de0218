/*-------------------------------------------------------------------------
 *
 * mg_alembic.h
 *	  Alembic revision files (Python) read without Python: their revision
 *	  headers, for "pg_migrate check --alembic" (mg_alembic.c).
 *
 * Like mg_revfile.h, this code needs neither libpq nor the server.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_ALEMBIC_H
#define MG_ALEMBIC_H

#include "mg_revfile.h"

/*
 * Parse the revision headers of one Alembic revision module held in memory
 * (len bytes): revision, down_revision, branch_labels and depends_on, and
 * the docstring's first line as the message.  name is the file's name (for
 * Alembic's legacy "<hex>.py" revision ids), path is used in messages,
 * source is stored.  Returns a revision with an empty upgrade body, or NULL
 * after adding one diagnostic (file and line) to diags.
 */
extern MgRevFile *mg_alembic_parse(const char *path, const char *name,
								   const char *source, const char *buf,
								   size_t len, MgDiags *diags);

/*
 * Parse every revision module of an Alembic version directory (every
 * "*.py" except "__init__*" and ".#*", not recursing, in byte order of
 * names) into set.  Returns false if any file failed; its diagnostics are
 * in diags.
 */
extern bool mg_alembic_add_dir(MgRevSet *set, const char *dir, MgDiags *diags);

#endif							/* MG_ALEMBIC_H */
