/*-------------------------------------------------------------------------
 *
 * mg_revfile.h
 *	  Revision files: parsing one file (mg_revfile.c), and reading files
 *	  and directories of them (mg_revdir.c).
 *
 * This code has no dependency on libpq or the server: pg_migrate, the unit
 * tests and the fuzzers link it with the graph core.  Every failure becomes
 * an MgDiag naming the file and, where the problem is on a line, the line.
 * The declarations below are grouped by the file that implements them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef MG_REVFILE_H
#define MG_REVFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Header keys, in the order new files write them */
typedef enum MgKey
{
	MG_KEY_REVISION,
	MG_KEY_DOWN_REVISION,
	MG_KEY_BRANCH_LABELS,
	MG_KEY_DEPENDS_ON,
	MG_KEY_MESSAGE,
	MG_KEY_TRANSACTIONAL,
	MG_KEY_UPGRADE,				/* body markers */
	MG_KEY_DOWNGRADE,
	MG_KEY_VERIFY,				/* optional: checks run after the upgrade */
	MG_KEY_COUNT
} MgKey;

/* One problem, in a file and usually on a line of it */
typedef struct MgDiag
{
	char	   *path;
	int			line;			/* 1-based; 0 when not about a line */
	char	   *message;
	char	   *detail;			/* complete sentence(s), or NULL */
	char	   *hint;			/* complete sentence, or NULL */
} MgDiag;

typedef struct MgDiags
{
	MgDiag	   *items;
	int			n;
	int			cap;
} MgDiags;

/* One parsed revision file */
typedef struct MgRevFile
{
	char	   *path;			/* as found, for messages */
	char	   *source;			/* "<directory name>/<path inside it>" */
	char	   *revision;
	char	  **down;			/* down_revision ids; none for a base */
	int			ndown;
	char	  **labels;
	int			nlabels;
	char	  **deps;
	int			ndeps;
	char	   *message;		/* NULL when absent or empty */
	bool		transactional;
	char	   *upgrade;		/* never NULL once parsed */
	char	   *downgrade;		/* NULL: the file has no downgrade section */
	char	   *verify;			/* NULL: the file has no verify section */
	int			line[MG_KEY_COUNT]; /* line of each key, 0 if absent */
} MgRevFile;

/* The revision files of one or more directories, in load order */
typedef struct MgRevSet
{
	MgRevFile **files;
	int			n;
	int			cap;
	int			nskipped;		/* entries that were not .sql files */
	int		   *by_id;			/* file indexes sorted by revision id, or NULL */
	int			nsorted;		/* how many files by_id covers */
	bool		headers_only;	/* keep no bodies (they are still checked) */
	bool		follow_external_links;	/* read files that symbolic links
										 * lead to outside the directory */
} MgRevSet;

extern const char *const mg_key_names[MG_KEY_COUNT];

/*
 * Longest body (as stored: bytes of UTF-8, blank lines at both ends
 * dropped).  The server's parser needs room for several times a body (its
 * scan buffer, a string constant's buffer growing by doubling, the plan's
 * copy), each allocation limited to 1 GB: a body of 600 MB is stored but
 * fails with "invalid memory alloc request size 1073741824" when it runs.
 * migrate_register refuses bodies over the same limit.
 */
#define MG_MAX_BODY_SIZE	((size_t) 256 * 1024 * 1024)

/* mg_revfile.c: the format */

/*
 * Parse one file held in memory.  Returns the revision, or NULL after
 * adding a diagnostic to diags.  path is used for messages; source (may be
 * NULL) is stored in the result.
 */
extern MgRevFile *mg_revfile_parse(const char *path, const char *source,
								   const char *buf, size_t len,
								   MgDiags *diags);
extern void mg_revfile_free(MgRevFile *rf);

/* mg_revdir.c: files on disk and the set of them */

/*
 * Read every ".sql" file of dir (in byte order of names; with recursive,
 * then every subdirectory the same way) into set.  Problems are added to
 * diags; the function returns false if there was any.  A ".sql" entry that
 * is not a regular file (a FIFO, a device, a directory without recursive,
 * a symbolic link to one of these) is an error naming it; so is a symbolic
 * link whose target is outside dir's tree, unless set->follow_external_links.
 */
extern bool mg_revset_add_dir(MgRevSet *set, const char *dir, bool recursive,
							  MgDiags *diags);

/*
 * Read a regular file into a new buffer (NUL-terminated), with the checks
 * of the directory reader (regular file, size limit); false and a
 * diagnostic on failure.
 */
extern bool mg_read_file(const char *path, char **buf, size_t *len, MgDiags *diags);

/* Parse one file from disk into set (false and a diagnostic on failure) */
extern bool mg_revset_add_file(MgRevSet *set, const char *path,
							   const char *source, MgDiags *diags);

/*
 * The same revision id in two files; false if there was any.  Also indexes
 * the set by revision id for mg_revset_find.
 */
extern bool mg_revset_check_duplicates(MgRevSet *set, MgDiags *diags);

/* Index of the file defining revision id (the first one), or -1 */
extern int	mg_revset_find(const MgRevSet *set, const char *id);

extern void mg_revset_free(MgRevSet *set);

/* mg_revfile.c: diagnostics, escaping and memory, shared with pg_migrate */

extern MgDiag *mg_diag_add(MgDiags *diags, const char *path, int line,
						   const char *fmt,...)
			__attribute__((format(printf, 4, 5)));
extern void mg_diag_detail(MgDiag *d, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void mg_diag_hint(MgDiag *d, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void mg_diags_free(MgDiags *diags);

/*
 * Text from a file or the server, safe to print: control characters (and,
 * with utf8, C1 controls, bidirectional overrides and invalid UTF-8) as
 * escapes.  Returns a new string.
 */
extern char *mg_escape(const char *s, size_t n, bool utf8);

/* Is s[0..len) valid UTF-8 (no overlong forms, surrogates or > U+10FFFF)? */
extern bool mg_utf8_valid(const char *s, size_t len);

/* Small helpers shared with pg_migrate */
extern void *mg_xmalloc(size_t size);
extern void *mg_xrealloc(void *ptr, size_t size);
extern char *mg_xstrdup(const char *s);
extern char *mg_xstrndup(const char *s, size_t n);

#endif							/* MG_REVFILE_H */
