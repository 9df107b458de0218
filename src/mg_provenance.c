/*-------------------------------------------------------------------------
 *
 * mg_provenance.c
 *	  Provenance: the body checksum of a revision, the session id of the
 *	  log, the failed-attempt entry point, and the check of the graph at
 *	  commit (issue 15, items 5 and 9).
 *
 * The checksum is sha256 (PostgreSQL's own cryptohash code) over an
 * encoding of the bodies that cannot be read two ways: for each body that
 * is present, in the order upgrade, downgrade, verify, its name, a colon,
 * its length in bytes in decimal, a colon and its bytes (in the database
 * encoding).  An absent body (NULL) adds nothing, so a revision without a
 * verify body keeps the checksum it had before verify bodies existed; an
 * empty body ("downgrade:0:") differs from an absent one.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "commands/extension.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

#include "mg_backend.h"

PG_FUNCTION_INFO_V1(migrate_checksum);
PG_FUNCTION_INFO_V1(migrate_session_id);
PG_FUNCTION_INFO_V1(migrate_log_failure);

/* Feed one named body to the hash, as the header comment describes */
static void
checksum_part(pg_cryptohash_ctx *ctx, const char *name, const char *body)
{
	char		head[64];
	size_t		len;

	if (body == NULL)
		return;
	len = strlen(body);
	snprintf(head, sizeof(head), "%s:%zu:", name, len);
	if (pg_cryptohash_update(ctx, (const uint8 *) head, strlen(head)) < 0 ||
		pg_cryptohash_update(ctx, (const uint8 *) body, len) < 0)
		elog(ERROR, "could not compute %s hash: %s", "SHA256",
			 pg_cryptohash_error(ctx));
}

/*
 * mg_body_checksum
 *		The checksum of a revision's bodies (upgrade is never NULL), as a
 *		palloc'd bytea of PG_SHA256_DIGEST_LENGTH bytes.
 */
bytea *
mg_body_checksum(const char *upgrade, const char *downgrade, const char *verify)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	bytea	   *result = palloc(VARHDRSZ + PG_SHA256_DIGEST_LENGTH);

	if (pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize %s context: %s", "SHA256",
			 pg_cryptohash_error(ctx));
	checksum_part(ctx, "upgrade", upgrade);
	checksum_part(ctx, "downgrade", downgrade);
	checksum_part(ctx, "verify", verify);
	if (pg_cryptohash_final(ctx, (uint8 *) VARDATA(result),
							PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not finalize %s context: %s", "SHA256",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	SET_VARSIZE(result, VARHDRSZ + PG_SHA256_DIGEST_LENGTH);
	return result;
}

/*
 * migrate_checksum(upgrade, downgrade, verify)
 *		The checksum migrate_register stores; NULL without an upgrade body.
 */
Datum
migrate_checksum(PG_FUNCTION_ARGS)
{
	const char *body[3];

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	for (int i = 0; i < 3; i++)
		body[i] = PG_ARGISNULL(i) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(i));
	PG_RETURN_BYTEA_P(mg_body_checksum(body[0], body[1], body[2]));
}

/*
 * migrate_session_id()
 *		The session's id as log_line_prefix's %c prints it: the backend's
 *		start time (seconds since the epoch) and its pid, in hex.  Unlike
 *		the pid alone, it is not reused by a later session.
 */
Datum
migrate_session_id(PG_FUNCTION_ARGS)
{
	char		buf[64];

	snprintf(buf, sizeof(buf), "%lx.%x", (long) MyStartTime, MyProcPid);
	PG_RETURN_TEXT_P(cstring_to_text(buf));
}

/*
 * migrate_log_failure(direction, revision, sqlstate, error)
 *		Log a failed attempt: pg_migrate calls it in a transaction of its
 *		own after the failed one rolled back, so that the attempt leaves a
 *		trace.  direction is what was attempted (upgrade, downgrade or
 *		stamp); revision the one whose step failed, NULL when the failure
 *		came before any step; sqlstate and error the server's error.  The
 *		row is written by the catalog layer (mg_log_failure) with the same
 *		provenance as a step's row.
 */
Datum
migrate_log_failure(PG_FUNCTION_ARGS)
{
	const char *direction;
	const char *revision = NULL;
	const char *sqlstate;
	const char *error;

	mg_check_writable("migrate_log_failure");
	mg_refuse_in_step("migrate_log_failure");
	if (PG_ARGISNULL(0) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("direction, sqlstate and error must not be null")));
	direction = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strcmp(direction, "upgrade") != 0 && strcmp(direction, "downgrade") != 0 &&
		strcmp(direction, "stamp") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized direction \"%s\"", direction),
				 errhint("Use upgrade, downgrade or stamp.")));
	sqlstate = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (strlen(sqlstate) != 5 || strspn(sqlstate, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid SQLSTATE code \"%s\"", sqlstate),
				 errdetail("A SQLSTATE code is five digits or upper-case letters.")));
	if (!PG_ARGISNULL(1))
	{
		MgNameProblem np;

		revision = text_to_cstring(PG_GETARG_TEXT_PP(1));
		if (!mg_check_name(MG_NAME_REVISION, revision, strlen(revision), NULL, &np))
		{
			MgError		err;

			err.code = np.code;
			err.message = np.message;
			err.detail = np.detail;
			err.hint = NULL;
			mg_report(&err);
		}
	}
	error = text_to_cstring(PG_GETARG_TEXT_PP(3));

	mg_connect_spi();
	mg_lock_changes();
	mg_log_failure(direction, revision, sqlstate, error);
	mg_finish_spi();
	PG_RETURN_VOID();
}

/*
 * The check of the graph at commit
 *
 * Registration is order-free inside a transaction: a revision may name
 * parents registered later.  So the graph is validated when the
 * transaction commits, once: every write of migrate_revision passes the
 * catalog guard (mg_catalog.c), which calls mg_graph_check_at_commit; a
 * transaction callback then validates the whole graph at pre-commit, as
 * migrate_check() does, and its error aborts the commit.  A transaction
 * that registers 10,000 revisions costs one validation.
 *
 * Why a transaction callback and not a deferred constraint trigger: every
 * write of the extension runs as a security-restricted operation with the
 * owner's rights, and PostgreSQL refuses to queue a deferred trigger event
 * there ("cannot fire deferred trigger within security-restricted
 * operation").  XACT_EVENT_PRE_COMMIT comes after the deferred triggers
 * and before the commit's point of no return: an error raised there
 * aborts the transaction like any error (postgres_fdw sends its remote
 * COMMIT at the same point).  The check only reads the extension's
 * tables, under a snapshot of its own.  A superuser who disables the
 * guard (ALTER TABLE ... DISABLE TRIGGER ALL) disables this check too.
 */
static LocalTransactionId check_lxid = InvalidLocalTransactionId;

/* Validate the graph and the version table; errors abort the commit */
static void
graph_check_xact_callback(XactEvent event, void *arg)
{
	MgCatalog	cat;

	if (event != XACT_EVENT_PRE_COMMIT && event != XACT_EVENT_PRE_PREPARE)
		return;
	if (check_lxid != MyProc->lxid)
		return;
	check_lxid = InvalidLocalTransactionId;
	/* dropped in the same transaction: nothing left to check */
	if (!OidIsValid(get_extension_oid(MG_EXTENSION_NAME, true)))
		return;
	PushActiveSnapshot(GetTransactionSnapshot());
	mg_connect_spi();
	mg_load_state(&cat, MG_LOAD_ROWS | MG_LOAD_FOR_CHANGE);
	mg_finish_spi();
	PopActiveSnapshot();
}

/*
 * mg_graph_check_at_commit
 *		The current transaction writes migrate_revision: validate the graph
 *		when it commits.
 */
void
mg_graph_check_at_commit(void)
{
	static bool registered = false;

	/*
	 * The extension's own scripts (the checksums filled in by the update
	 * to 0.4) change no graph, and must work on a database that already
	 * holds an invalid one, so that a load can repair it afterwards.
	 */
	if (creating_extension)
		return;
	if (!registered)
	{
		RegisterXactCallback(graph_check_xact_callback, NULL);
		registered = true;
	}
	check_lxid = MyProc->lxid;
}
