/*-------------------------------------------------------------------------
 *
 * mg_catalog_int.h
 *	  Helpers private to the catalog layer (mg_catalog.c, mg_catalog_read.c).
 *	  No other file may include this header.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_CATALOG_INT_H
#define MG_CATALOG_INT_H

#include "utils/acl.h"
#include "utils/rel.h"
#include "utils/snapshot.h"

/* Quoted, schema-qualified name of one of the extension's objects */
extern const char *mg_qualified(const char *relname);

/* OID of one of the extension's tables; with mode, the privilege checked */
extern Oid	mg_catalog_relid_acl(const char *relname, AclMode mode);

/* An SPI result other than expected: an internal error naming what ran */
extern void mg_spi_check(int ret, int expected, const char *what);

/* Elements of a text[] datum as C strings (NULL elements become "") */
extern int	mg_text_array_items(Datum arr, bool isnull, char ***items);

/* Fingerprint and count of the row versions of rel that snap sees */
extern uint64 mg_rows_fingerprint(Relation rel, Snapshot snap, uint64 *ntuples);

#endif							/* MG_CATALOG_INT_H */
