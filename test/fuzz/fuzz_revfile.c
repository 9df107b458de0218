/*-------------------------------------------------------------------------
 *
 * fuzz_revfile.c
 *	  libFuzzer target: the revision-file parser (mg_revfile.c).
 *
 * The input is one revision file, or several separated by lines holding a
 * single form feed ("\n\f\n").  Each is parsed from a buffer of exactly its
 * size.  A failure must leave exactly one well-formed diagnostic; a success
 * must hold only valid names, and writing the fields back out as a file
 * and parsing that must give the same fields.  The parsed files then go
 * through the duplicate check and lookup of a revision set, and each one
 * through the graph builder.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"
#include "mg_revfile.h"

#include <strings.h>

#define MAX_FILES	16

static bool
blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v')
			return false;
	return true;
}

/* A body never starts or ends with a blank line, and never holds a NUL */
static void
check_body(const char *what, const char *body)
{
	const char *first_nl = strchr(body, '\n');
	const char *last_nl = strrchr(body, '\n');
	size_t		len = strlen(body);

	if (len == 0)
		return;
	FUZZ_CHECK(!blank_line(body, first_nl ? (size_t) (first_nl - body) : len),
			   "%s body starts with a blank line", what);
	FUZZ_CHECK(!blank_line(last_nl ? last_nl + 1 : body,
						   last_nl ? len - (size_t) (last_nl + 1 - body) : len),
			   "%s body ends with a blank line", what);
}

static void
check_names(const char *what, char **items, int n, bool label)
{
	for (int i = 0; i < n; i++)
	{
		FUZZ_CHECK(label ? mg_valid_label(items[i]) : mg_valid_id(items[i]),
				   "invalid %s \"%s\" accepted", what, items[i]);
		FUZZ_CHECK(label || strcasecmp(items[i], "none") != 0, "%s \"none\" accepted", what);
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(items[i], items[j]) != 0, "%s \"%s\" twice", what, items[i]);
	}
}

static void
append(char **buf, size_t *len, size_t *cap, const char *s)
{
	size_t		n = strlen(s);

	if (*len + n + 1 > *cap)
	{
		while (*len + n + 1 > *cap)
			*cap = *cap ? *cap * 2 : 256;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n + 1);
	*len += n;
}

static void
append_list(char **buf, size_t *len, size_t *cap, const char *key, char **items, int n)
{
	if (n == 0)
		return;
	append(buf, len, cap, "-- migrate:");
	append(buf, len, cap, key);
	append(buf, len, cap, " ");
	for (int i = 0; i < n; i++)
	{
		if (i > 0)
			append(buf, len, cap, ", ");
		append(buf, len, cap, items[i]);
	}
	append(buf, len, cap, "\n");
}

static bool
same_list(char **a, int na, char **b, int nb)
{
	if (na != nb)
		return false;
	for (int i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return true;
}

static bool
same_str(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * Write the fields back as a revision file and parse it again.  A body
 * line ending in a carriage return cannot survive: the parser takes a CR
 * before LF as part of the line end.
 */
static void
check_round_trip(const MgRevFile *rf)
{
	char	   *buf = NULL;
	size_t		len = 0,
				cap = 0;
	MgDiags		diags = {0};
	MgRevFile  *again;

	if (strstr(rf->upgrade, "\r\n") ||
		(rf->upgrade[0] && rf->upgrade[strlen(rf->upgrade) - 1] == '\r') ||
		(rf->downgrade && (strstr(rf->downgrade, "\r\n") ||
						   (rf->downgrade[0] &&
							rf->downgrade[strlen(rf->downgrade) - 1] == '\r'))))
		return;
	append(&buf, &len, &cap, "-- migrate:revision ");
	append(&buf, &len, &cap, rf->revision);
	append(&buf, &len, &cap, "\n");
	if (rf->ndown == 0)
		append(&buf, &len, &cap, "-- migrate:down_revision none\n");
	else
		append_list(&buf, &len, &cap, "down_revision", rf->down, rf->ndown);
	append_list(&buf, &len, &cap, "branch_labels", rf->labels, rf->nlabels);
	append_list(&buf, &len, &cap, "depends_on", rf->deps, rf->ndeps);
	if (rf->message)
	{
		append(&buf, &len, &cap, "-- migrate:message ");
		append(&buf, &len, &cap, rf->message);
		append(&buf, &len, &cap, "\n");
	}
	append(&buf, &len, &cap, rf->transactional ? "" : "-- migrate:transactional false\n");
	append(&buf, &len, &cap, "-- migrate:upgrade\n");
	append(&buf, &len, &cap, rf->upgrade);
	append(&buf, &len, &cap, "\n");
	if (rf->downgrade)
	{
		append(&buf, &len, &cap, "-- migrate:downgrade\n");
		append(&buf, &len, &cap, rf->downgrade);
		append(&buf, &len, &cap, "\n");
	}
	again = mg_revfile_parse("again.sql", NULL, buf, len, &diags);
	if (again == NULL)
		fprintf(stderr, "rewritten file:\n%s\n", buf);
	FUZZ_CHECK(again != NULL, "the rewritten file does not parse: line %d: %s",
			   diags.items[0].line, diags.items[0].message);
	FUZZ_CHECK(strcmp(again->revision, rf->revision) == 0 &&
			   same_list(again->down, again->ndown, rf->down, rf->ndown) &&
			   same_list(again->labels, again->nlabels, rf->labels, rf->nlabels) &&
			   same_list(again->deps, again->ndeps, rf->deps, rf->ndeps) &&
			   same_str(again->message, rf->message) &&
			   again->transactional == rf->transactional,
			   "the rewritten file has other headers");
	FUZZ_CHECK(strcmp(again->upgrade, rf->upgrade) == 0,
			   "the rewritten file has another upgrade body:\n[%s]\n[%s]",
			   rf->upgrade, again->upgrade);
	FUZZ_CHECK(same_str(again->downgrade, rf->downgrade),
			   "the rewritten file has another downgrade body");
	mg_revfile_free(again);
	mg_diags_free(&diags);
	free(buf);
}

/* One file: parse it from a buffer of exactly its size */
static MgRevFile *
parse_one(const uint8_t *data, size_t size)
{
	char	   *copy = malloc(size ? size : 1);
	MgDiags		diags = {0};
	MgRevFile  *rf;
	int			nlines = 1;

	memcpy(copy, data, size);
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';
	rf = mg_revfile_parse("fuzz.sql", "dir/fuzz.sql", copy, size, &diags);
	free(copy);
	if (rf == NULL)
	{
		MgDiag	   *d;

		FUZZ_CHECK(diags.n == 1, "failed parse left %d diagnostics", diags.n);
		d = &diags.items[0];
		FUZZ_CHECK(strcmp(d->path, "fuzz.sql") == 0, "diagnostic path \"%s\"", d->path);
		FUZZ_CHECK(d->line >= 0 && d->line <= nlines, "diagnostic line %d of %d",
				   d->line, nlines);
		FUZZ_CHECK(d->message && d->message[0], "diagnostic without a message");
		FUZZ_CHECK(d->detail == NULL || d->detail[0], "empty diagnostic detail");
		FUZZ_CHECK(d->hint == NULL || d->hint[0], "empty diagnostic hint");
		/* invalid bytes are reported in hex: texts are always UTF-8 */
		FUZZ_CHECK(utf8_valid(d->message) && (!d->detail || utf8_valid(d->detail)) &&
				   (!d->hint || utf8_valid(d->hint)),
				   "diagnostic is not valid UTF-8: %s", d->message);
		mg_diags_free(&diags);
		return NULL;
	}
	FUZZ_CHECK(diags.n == 0, "successful parse left %d diagnostics", diags.n);
	FUZZ_CHECK(strcmp(rf->path, "fuzz.sql") == 0 && strcmp(rf->source, "dir/fuzz.sql") == 0,
			   "path or source not kept");
	FUZZ_CHECK(rf->revision && mg_valid_id(rf->revision) &&
			   strcasecmp(rf->revision, "none") != 0,
			   "invalid revision id accepted");
	check_names("down_revision", rf->down, rf->ndown, false);
	check_names("branch_labels", rf->labels, rf->nlabels, true);
	check_names("depends_on", rf->deps, rf->ndeps, true);
	FUZZ_CHECK(rf->message == NULL || (rf->message[0] && !strchr(rf->message, '\n') &&
									   !blank_line(rf->message, 1) &&
									   !blank_line(rf->message + strlen(rf->message) - 1, 1)),
			   "message not trimmed");
	FUZZ_CHECK(rf->upgrade != NULL, "no upgrade body");
	check_body("upgrade", rf->upgrade);
	if (rf->downgrade)
		check_body("downgrade", rf->downgrade);
	FUZZ_CHECK(rf->line[MG_KEY_REVISION] > 0 && rf->line[MG_KEY_DOWN_REVISION] > 0 &&
			   rf->line[MG_KEY_UPGRADE] > 0, "required line missing");
	for (int k = 0; k < MG_KEY_COUNT; k++)
		FUZZ_CHECK(rf->line[k] >= 0 && rf->line[k] <= nlines, "line of key %d: %d",
				   k, rf->line[k]);
	for (int k = 0; k < MG_KEY_UPGRADE; k++)
		FUZZ_CHECK(rf->line[k] < rf->line[MG_KEY_UPGRADE], "header after the upgrade marker");
	FUZZ_CHECK((rf->downgrade != NULL) == (rf->line[MG_KEY_DOWNGRADE] > 0),
			   "downgrade body and marker disagree");
	check_round_trip(rf);
	return rf;
}

/* The file's revision with stub parents and dependencies, planned once */
static void
check_graph(const MgRevFile *rf)
{
	MgGraph    *g = mg_graph_new();
	MgRevInput	in;
	MgError		err;

	memset(&in, 0, sizeof(in));
	for (int i = 0; i < rf->ndown + rf->ndeps; i++)
	{
		const char *id = i < rf->ndown ? rf->down[i] : rf->deps[i - rf->ndown];

		in.id = id;
		mg_graph_add(g, &in);
	}
	in.id = rf->revision;
	in.down = (const char *const *) rf->down;
	in.ndown = rf->ndown;
	in.deps = (const char *const *) rf->deps;
	in.ndeps = rf->ndeps;
	in.labels = (const char *const *) rf->labels;
	in.nlabels = rf->nlabels;
	in.message = rf->message;
	mg_graph_add(g, &in);
	if (mg_graph_finish(g, &err))
	{
		MgPlan		plan;
		MgList		rows = {NULL, 0};

		FUZZ_CHECK(mg_plan_upgrade(g, rows, "heads", &plan, &err), "upgrade heads: %s",
				   err.message);
		FUZZ_CHECK(plan.nsteps == mg_graph_size(g), "upgrade heads: %d steps of %d",
				   plan.nsteps, mg_graph_size(g));
	}
	else
		check_error(&err);
	mg_graph_free(g);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	MgRevSet	set;
	MgDiags		diags = {0};
	size_t		start = 0;
	int			nparts = 0;
	bool		dup = false;

	memset(&set, 0, sizeof(set));
	while (start <= size && nparts < MAX_FILES)
	{
		size_t		end = start;
		MgRevFile  *rf;

		/* the next "\n\f\n", or the end */
		while (end < size && !(end + 2 < size && data[end] == '\n' &&
							   data[end + 1] == '\f' && data[end + 2] == '\n'))
			end++;
		rf = parse_one(data + start, end - start);
		nparts++;
		if (rf)
		{
			check_graph(rf);
			if (set.n == set.cap)
			{
				set.cap = set.cap ? set.cap * 2 : 4;
				set.files = realloc(set.files, sizeof(MgRevFile *) * (size_t) set.cap);
			}
			set.files[set.n++] = rf;
		}
		start = end + 3;
	}

	/* duplicates and lookup over the files that parsed */
	for (int i = 0; i < set.n; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(set.files[i]->revision, set.files[j]->revision) == 0)
				dup = true;
	FUZZ_CHECK(mg_revset_check_duplicates(&set, &diags) == !dup, "duplicate check wrong");
	FUZZ_CHECK(dup ? diags.n > 0 : diags.n == 0, "duplicate diagnostics: %d", diags.n);
	for (int i = 0; i < set.n; i++)
	{
		int			first = i;

		for (int j = 0; j < i; j++)
			if (strcmp(set.files[i]->revision, set.files[j]->revision) == 0)
			{
				first = j;
				break;
			}
		FUZZ_CHECK(mg_revset_find(&set, set.files[i]->revision) == first,
				   "lookup of \"%s\"", set.files[i]->revision);
	}
	FUZZ_CHECK(mg_revset_find(&set, "zz_not_there") == -1 ||
			   strcmp(set.files[mg_revset_find(&set, "zz_not_there")]->revision,
					  "zz_not_there") == 0, "lookup of a missing id");
	mg_diags_free(&diags);
	mg_revset_free(&set);
	return 0;
}
