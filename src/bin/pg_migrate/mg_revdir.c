/*-------------------------------------------------------------------------
 *
 * mg_revdir.c
 *	  Revision files on disk: reading one file, walking directories of
 *	  them, and the set of files read.
 *
 * This file owns what the file system decides: which entries of a
 * directory are revision files (".sql" names, in byte order, hidden
 * entries skipped), that only regular files are read (a FIFO, a device or
 * a directory is an error naming it, and is never opened in a way that
 * could block), the size limit of a file, the link policy (a symbolic link
 * must lead into the tree of the directory given, unless the set follows
 * external links), loops and depth of nested directories with -r, and the
 * name a directory's files are stored under.  It also keeps the set of
 * parsed files (MgRevSet): appending, duplicate ids, lookup by id.
 *
 * It must not look inside a file: the text of a file goes to
 * mg_revfile_parse (mg_revfile.c), which owns the file format and the name
 * rules (through the core's mg_check_name).  It has no dependency on libpq
 * or the server: the unit tests and the fuzzers link it without them.
 *
 *-------------------------------------------------------------------------
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mg_core.h"
#include "mg_revfile.h"

/* Longest revision file we read: bodies are text values (1 GB limit) */
#define MG_MAX_FILE_SIZE	((size_t) 1 << 30)

/* Append a parsed file to the set; the set owns it from now on */
static void
set_append(MgRevSet *set, MgRevFile *rf)
{
	if (set->n == set->cap)
	{
		set->cap = set->cap ? set->cap * 2 : 64;
		set->files = mg_xrealloc(set->files, sizeof(MgRevFile *) * set->cap);
	}
	set->files[set->n++] = rf;
}

/*
 * The DETAIL of "not a regular file": what the entry is, as a whole
 * sentence (with the link's target for an entry reached through a
 * symbolic link, "%s" in the text).
 */
static const char *
not_regular_detail(mode_t mode, bool through_link)
{
	if (S_ISDIR(mode))
		return through_link ? "It is a symbolic link to \"%s\", which is a directory." :
			"It is a directory.";
	if (S_ISFIFO(mode))
		return through_link ? "It is a symbolic link to \"%s\", which is a FIFO." :
			"It is a FIFO.";
	if (S_ISCHR(mode))
		return through_link ? "It is a symbolic link to \"%s\", which is a character device." :
			"It is a character device.";
	if (S_ISBLK(mode))
		return through_link ? "It is a symbolic link to \"%s\", which is a block device." :
			"It is a block device.";
	if (S_ISSOCK(mode))
		return through_link ? "It is a symbolic link to \"%s\", which is a socket." :
			"It is a socket.";
	if (S_ISLNK(mode))
		return through_link ? "It is a symbolic link to \"%s\", which is a symbolic link." :
			"It is a symbolic link.";
	return through_link ? "It is a symbolic link to \"%s\", which is not a regular file." :
		"It is not a regular file.";
}

/*
 * Report an entry that is not a regular file; target is the real path a
 * symbolic link leads to, or NULL when the entry is not a link.
 */
static void
not_regular(MgDiags *diags, const char *path, mode_t mode, const char *target)
{
	MgDiag	   *d = mg_diag_add(diags, path, 0, "not a regular file");

	/* the format is one of the constant sentences above */
	if (target)
		mg_diag_detail(d, not_regular_detail(mode, true), target);
	else
		mg_diag_detail(d, "%s", not_regular_detail(mode, false));
	if (S_ISDIR(mode))
		mg_diag_hint(d, "Revision files are regular files: rename the directory, or give -r to read it as a subdirectory.");
	else
		mg_diag_hint(d, "Revision files are regular files.");
}

/*
 * Read a revision file.  Only a regular file is read: it is opened without
 * blocking (a FIFO would wait for a writer forever) and its size, from the
 * open file, is checked before a byte is read, so a device or a file over
 * the limit costs nothing.
 */
static bool
read_file(int dirfd, const char *name, const char *path, char **buf,
		  size_t *len, MgDiags *diags)
{
	/* relative to the open directory: no lookup of the whole path per file */
	int			fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	size_t		size,
				n = 0;
	char	   *data;

	if (fd < 0)
	{
		mg_diag_add(diags, path, 0, "could not open file: %s", strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0)
	{
		mg_diag_add(diags, path, 0, "could not stat file: %s", strerror(errno));
		close(fd);
		return false;
	}
	if (!S_ISREG(st.st_mode))
	{
		not_regular(diags, path, st.st_mode, NULL);
		close(fd);
		return false;
	}
	if ((size_t) st.st_size > MG_MAX_FILE_SIZE)
	{
		MgDiag	   *d = mg_diag_add(diags, path, 0, "file is too large");

		mg_diag_detail(d, "The file has %lld bytes; the limit is %zu.",
					   (long long) st.st_size, MG_MAX_FILE_SIZE);
		close(fd);
		return false;
	}
	size = (size_t) st.st_size;
	data = mg_xmalloc(size + 1);
	/* the size is known: read that much (less if the file shrinks meanwhile) */
	while (n < size)
	{
		ssize_t		r = read(fd, data + n, size - n);

		if (r < 0)
		{
			if (errno == EINTR || errno == EAGAIN)
				continue;
			mg_diag_add(diags, path, 0, "could not read file: %s", strerror(errno));
			free(data);
			close(fd);
			return false;
		}
		if (r == 0)
			break;
		n += (size_t) r;
	}
	close(fd);
	data[n] = '\0';
	*buf = data;
	*len = n;
	return true;
}

static bool add_file_at(MgRevSet *set, int dirfd, const char *name,
						const char *path, const char *source, MgDiags *diags);

/* mg_read_file: see mg_revfile.h (the checks of read_file, by path) */
bool
mg_read_file(const char *path, char **buf, size_t *len, MgDiags *diags)
{
	return read_file(AT_FDCWD, path, path, buf, len, diags);
}

/* mg_revset_add_file: see mg_revfile.h */
bool
mg_revset_add_file(MgRevSet *set, const char *path, const char *source,
				   MgDiags *diags)
{
	return add_file_at(set, AT_FDCWD, path, path, source, diags);
}

/* Add the file name in directory dirfd; path names it in messages */
static bool
add_file_at(MgRevSet *set, int dirfd, const char *name, const char *path,
			const char *source, MgDiags *diags)
{
	char	   *buf;
	size_t		len;
	MgRevFile  *rf;

	/* the path is stored in the catalog and shown in messages */
	if (!mg_utf8_valid(path, strlen(path)))
	{
		MgDiag	   *d = mg_diag_add(diags, path, 0, "file name is not valid UTF-8");

		mg_diag_hint(d, "Rename the file.");
		return false;
	}
	if (!read_file(dirfd, name, path, &buf, &len, diags))
		return false;
	rf = mg_revfile_parse(path, source, buf, len, diags);
	free(buf);
	if (rf == NULL)
		return false;
	if (set->headers_only)
	{
		/* an empty body stands for the one read; a missing one stays NULL */
		free(rf->upgrade);
		rf->upgrade = mg_xstrdup("");
		if (rf->downgrade)
		{
			free(rf->downgrade);
			rf->downgrade = mg_xstrdup("");
		}
		if (rf->verify)
		{
			free(rf->verify);
			rf->verify = mg_xstrdup("");
		}
	}
	set_append(set, rf);
	return true;
}

/* Is name a revision file's name ("<something>.sql")? */
static bool
ends_with_sql(const char *name)
{
	size_t		n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".sql") == 0;
}

/* a "/" b, as a new string (no doubled slash; a empty: b) */
static char *
join_path(const char *a, const char *b)
{
	size_t		na = strlen(a);
	bool		slash = na > 0 && a[na - 1] == '/';
	char	   *p = mg_xmalloc(na + strlen(b) + 2);

	sprintf(p, "%s%s%s", a, slash || na == 0 ? "" : "/", b);
	return p;
}

/* The directories being read, innermost first */
typedef struct DirChain
{
	dev_t		dev;
	ino_t		ino;
	const char *path;
	const struct DirChain *up;
} DirChain;

/* The directory a tree was given as, and its real path */
typedef struct TreeRoot
{
	const char *given;
	const char *real;
} TreeRoot;

/*
 * The link policy.  A symbolic link found at path in the tree given as
 * tree: is its target inside the tree (under tree->real)?  If not, that is
 * an error unless the set follows links out of the tree: a link to
 * /etc/passwd, to a device or to another checkout would be read, stored
 * and run without anyone seeing it.  Returns true when the link may be
 * followed; otherwise adds a diagnostic (also when the link cannot be
 * resolved) and returns false.
 */
static bool
link_inside(const MgRevSet *set, const TreeRoot *tree, const char *path,
			MgDiags *diags)
{
	const char *root = tree->real;
	char	   *real = realpath(path, NULL);
	size_t		n = strlen(root);
	bool		inside;
	MgDiag	   *d;

	if (real == NULL)
	{
		mg_diag_add(diags, path, 0, "could not resolve symbolic link: %s", strerror(errno));
		return false;
	}
	inside = strcmp(root, "/") == 0 ||
		(strncmp(real, root, n) == 0 && (real[n] == '/' || real[n] == '\0'));
	if (inside || set->follow_external_links)
	{
		free(real);
		return true;
	}
	d = mg_diag_add(diags, path, 0, "symbolic link leads outside directory \"%s\"", tree->given);
	mg_diag_detail(d, "Its target is \"%s\", which is not under \"%s\".", real, root);
	mg_diag_hint(d, "Copy the file into the directory, or give --follow-external-links to read files that links lead to wherever they are.");
	free(real);
	return false;
}

/*
 * add_dir
 *		Read directory dir of the tree root into set: its ".sql" entries in
 *		byte order of their names, then (with recursive) its
 *		subdirectories, each the same way.  srcprefix is the stored source
 *		of dir ("<tree's name>/<path inside it>"); depth and up are the
 *		directories above, for the depth limit (64) and loop detection.
 *
 *		Entries whose names start with "." are skipped, other names not
 *		ending in ".sql" are counted in set->nskipped.  A ".sql" entry that
 *		is not a regular file, a link leading outside the tree (see
 *		link_inside), a file that cannot be read or parsed: each adds a
 *		diagnostic, and the walk goes on so that every problem is reported
 *		at once.  Returns false if there was any.  Cost: one readdir pass
 *		and one sort per directory; a stat() only for entries whose type
 *		readdir does not give, and for links.
 */
static bool
add_dir(MgRevSet *set, const char *dir, const TreeRoot *root, const char *srcprefix,
		bool recursive, int depth, const DirChain *up, MgDiags *diags)
{
	DirChain	here;
	struct stat dst;
	DIR		   *dh;
	struct dirent *de;
	char	  **names = NULL;
	int			nnames = 0,
				cap = 0;
	char	  **subdirs = NULL;
	int			nsub = 0;
	bool		ok = true;

	if (depth > 64)
	{
		mg_diag_add(diags, dir, 0, "directories nested too deeply");
		return false;
	}
	dh = opendir(dir);
	if (dh == NULL)
	{
		mg_diag_add(diags, dir, 0, "could not open directory: %s", strerror(errno));
		return false;
	}
	/* a symbolic link back to a directory being read would never end */
	if (fstat(dirfd(dh), &dst) == 0)
	{
		for (const DirChain *a = up; a; a = a->up)
			if (a->dev == dst.st_dev && a->ino == dst.st_ino)
			{
				MgDiag	   *d = mg_diag_add(diags, dir, 0, "directory loop");

				mg_diag_detail(d, "\"%s\" is the directory \"%s\", which contains it.",
							   dir, a->path);
				mg_diag_hint(d, "Remove the symbolic link, or load without -r.");
				closedir(dh);
				return false;
			}
		here.dev = dst.st_dev;
		here.ino = dst.st_ino;
	}
	else
		here.dev = here.ino = 0;
	here.path = dir;
	here.up = up;
	while ((errno = 0, de = readdir(dh)) != NULL)
	{
		if (de->d_name[0] == '.')
			continue;			/* ".", "..", hidden files, editor droppings */
		if (nnames == cap)
		{
			cap = cap ? cap * 2 : 64;
			names = mg_xrealloc(names, sizeof(char *) * cap);
		}
		/* the type rides after the name's terminator, for sorting */
		names[nnames] = mg_xmalloc(strlen(de->d_name) + 2);
		strcpy(names[nnames], de->d_name);
		names[nnames][strlen(de->d_name) + 1] = (char) de->d_type;
		nnames++;
	}
	if (errno != 0)
	{
		mg_diag_add(diags, dir, 0, "could not read directory: %s", strerror(errno));
		ok = false;
	}
	if (nnames > 0)
		qsort(names, nnames, sizeof(char *), mg_strcmp_ptr);
	subdirs = mg_xmalloc(sizeof(char *) * (size_t) (nnames > 0 ? nnames : 1));

	for (int i = 0; i < nnames; i++)
	{
		char	   *path = join_path(dir, names[i]);
		unsigned char type = (unsigned char) names[i][strlen(names[i]) + 1];
		bool		is_sql = ends_with_sql(names[i]);
		bool		is_link = false;
		struct stat st;

		/* the directory entry's type saves a stat() per file */
		if (type == DT_REG)
			st.st_mode = S_IFREG;
		else if (type == DT_DIR)
			st.st_mode = S_IFDIR;
		else if (fstatat(dirfd(dh), names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
		{
			if (is_sql || recursive)
			{
				mg_diag_add(diags, path, 0, "could not stat file: %s", strerror(errno));
				ok = false;
			}
			free(path);
			continue;
		}
		else if (S_ISLNK(st.st_mode))
		{
			is_link = true;
			if (fstatat(dirfd(dh), names[i], &st, 0) != 0)
			{
				if (is_sql)
				{
					MgDiag	   *d = mg_diag_add(diags, path, 0, "could not open file: %s",
												strerror(errno));
					char		target[PATH_MAX];
					ssize_t		tn = readlinkat(dirfd(dh), names[i], target, sizeof(target) - 1);

					if (tn >= 0)
					{
						target[tn] = '\0';
						mg_diag_detail(d, "It is a symbolic link to \"%s\".", target);
					}
					ok = false;
				}
				else
					set->nskipped++;
				free(path);
				continue;
			}
		}

		if (S_ISDIR(st.st_mode) && recursive)
		{
			if (!is_link || link_inside(set, root, path, diags))
				subdirs[nsub++] = mg_xstrdup(names[i]);
			else
				ok = false;
		}
		else if (!is_sql)
			set->nskipped++;
		else if (!S_ISREG(st.st_mode))
		{
			char	   *target = is_link ? realpath(path, NULL) : NULL;

			not_regular(diags, path, st.st_mode, is_link ? (target ? target : "?") : NULL);
			free(target);
			ok = false;
		}
		else if (is_link && !link_inside(set, root, path, diags))
			ok = false;
		else
		{
			char	   *source = join_path(srcprefix, names[i]);

			if (!add_file_at(set, dirfd(dh), names[i], path, source, diags))
				ok = false;
			free(source);
		}
		free(path);
	}
	closedir(dh);
	/* keep parsing after a bad file, to report every problem at once */
	for (int i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	for (int i = 0; i < nsub; i++)
	{
		char	   *path = join_path(dir, subdirs[i]);
		char	   *source = join_path(srcprefix, subdirs[i]);

		if (!add_dir(set, path, root, source, recursive, depth + 1, &here, diags))
			ok = false;
		free(path);
		free(source);
		free(subdirs[i]);
	}
	free(subdirs);
	return ok;
}

/*
 * The name a directory's files are stored under: the directory's own name
 * (the last component of its real path), so that loading from another
 * checkout or working directory does not change the stored source.
 */
static char *
dir_source_name(const char *dir)
{
	char	   *real = realpath(dir, NULL);
	const char *base;
	char	   *res;

	if (real == NULL)
		return mg_xstrdup(dir);
	base = strrchr(real, '/');
	base = base && base[1] ? base + 1 : real;
	res = mg_xstrdup(base);
	free(real);
	return res;
}

/*
 * mg_revset_add_dir: see mg_revfile.h.  Checks that dir is a directory
 * and finds its real path (the root of the link policy) and its stored
 * name, then walks it with add_dir.
 */
bool
mg_revset_add_dir(MgRevSet *set, const char *dir, bool recursive,
				  MgDiags *diags)
{
	struct stat st;
	char	   *prefix;
	char	   *root;
	TreeRoot	tree;
	bool		ok;

	if (stat(dir, &st) != 0)
	{
		mg_diag_add(diags, dir, 0, "could not open directory: %s", strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode))
	{
		MgDiag	   *d = mg_diag_add(diags, dir, 0, "not a directory");

		mg_diag_hint(d, "Give the directories that hold the revision files.");
		return false;
	}
	/* symbolic links must lead into the tree under the directory's real path */
	root = realpath(dir, NULL);
	if (root == NULL)
	{
		mg_diag_add(diags, dir, 0, "could not open directory: %s", strerror(errno));
		return false;
	}
	prefix = dir_source_name(dir);
	tree.given = dir;
	tree.real = root;
	ok = add_dir(set, dir, &tree, prefix, recursive, 0, NULL, diags);
	free(prefix);
	free(root);
	return ok;
}

/*
 * The same revision in two files: sort file indexes by revision id and
 * look at neighbours.
 */
static const MgRevSet *sort_set;

/* qsort order of file indexes: by revision id, then by file order */
static int
cmp_by_id(const void *a, const void *b)
{
	int			ia = *(const int *) a;
	int			ib = *(const int *) b;
	int			c = strcmp(sort_set->files[ia]->revision, sort_set->files[ib]->revision);

	return c != 0 ? c : (ia > ib) - (ia < ib);
}

/*
 * mg_revset_check_duplicates: see mg_revfile.h.  Sorts the file indexes by
 * id (O(n log n)) and reports each id that a later file defines again,
 * naming the first file.  The sorted index stays in set->by_id.
 */
bool
mg_revset_check_duplicates(MgRevSet *set, MgDiags *diags)
{
	int		   *idx;
	bool		ok = true;

	free(set->by_id);
	set->by_id = NULL;
	idx = mg_xmalloc(sizeof(int) * (size_t) (set->n > 0 ? set->n : 1));
	for (int i = 0; i < set->n; i++)
		idx[i] = i;
	sort_set = set;
	if (set->n > 1)
		qsort(idx, set->n, sizeof(int), cmp_by_id);
	for (int i = 1; i < set->n; i++)
	{
		const MgRevFile *first = set->files[idx[i - 1]];
		const MgRevFile *again = set->files[idx[i]];

		if (strcmp(first->revision, again->revision) == 0)
		{
			MgDiag	   *d = mg_diag_add(diags, again->path, again->line[MG_KEY_REVISION],
										"revision \"%s\" is defined twice",
										again->revision);

			mg_diag_detail(d, "It is also defined in %s, line %d.",
						   first->path, first->line[MG_KEY_REVISION]);
			mg_diag_hint(d, "Give one of the revisions a new id.");
			ok = false;
		}
	}
	set->by_id = idx;
	set->nsorted = set->n;
	return ok;
}

/*
 * mg_revset_find: see mg_revfile.h.  A binary search when the set is
 * indexed (mg_revset_check_duplicates since the last append), else a scan.
 */
int
mg_revset_find(const MgRevSet *set, const char *id)
{
	if (set->by_id != NULL && set->nsorted == set->n)
	{
		int			lo = 0,
					hi = set->n - 1;

		/* the first of equal ids, which sort by file order */
		while (lo < hi)
		{
			int			mid = lo + (hi - lo) / 2;

			if (strcmp(set->files[set->by_id[mid]]->revision, id) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (set->n > 0 && strcmp(set->files[set->by_id[lo]]->revision, id) == 0)
			return set->by_id[lo];
		return -1;
	}
	for (int i = 0; i < set->n; i++)
		if (strcmp(set->files[i]->revision, id) == 0)
			return i;
	return -1;
}

/* Free every file of the set and the set's arrays (not set itself) */
void
mg_revset_free(MgRevSet *set)
{
	for (int i = 0; i < set->n; i++)
		mg_revfile_free(set->files[i]);
	free(set->files);
	free(set->by_id);
	set->files = NULL;
	set->by_id = NULL;
	set->n = set->cap = set->nsorted = 0;
}
