/*-------------------------------------------------------------------------
 *
 * fuzz_alembic.c
 *	  libFuzzer target: the reader of Alembic revision headers
 *	  (mg_alembic.c, check --alembic).
 *
 * The input is one Python file, parsed from a buffer of exactly its size.
 * A failure must leave exactly one well-formed diagnostic whose line is in
 * the file; a success must hold a valid revision id and valid, distinct
 * names of each kind, lines of the keys within the file, and a message of
 * one trimmed line; the result then goes through the graph builder with
 * stub parents, as check builds it.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"
#include "mg_revfile.h"
#include "mg_alembic.h"

static void
check_names(const char *what, char **items, int n, bool label)
{
	for (int i = 0; i < n; i++)
	{
		FUZZ_CHECK(label ? mg_valid_label(items[i]) : mg_valid_id(items[i]),
				   "invalid %s \"%s\" accepted", what, items[i]);
		for (int j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(items[i], items[j]) != 0, "%s \"%s\" twice", what, items[i]);
	}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *copy = malloc(size ? size : 1);
	MgDiags		diags = {0};
	MgRevFile  *rf;
	int			nlines = 1;
	MgGraph    *g;
	MgRevInput	in;
	MgError		err;

	memcpy(copy, data, size);
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n';
	rf = mg_alembic_parse("fuzz.py", "fuzz.py", "dir/fuzz.py", copy, size, &diags);
	free(copy);
	if (rf == NULL)
	{
		MgDiag	   *d;

		FUZZ_CHECK(diags.n == 1, "failed parse left %d diagnostics", diags.n);
		d = &diags.items[0];
		FUZZ_CHECK(strcmp(d->path, "fuzz.py") == 0, "diagnostic path \"%s\"", d->path);
		FUZZ_CHECK(d->line >= 0 && d->line <= nlines, "diagnostic line %d of %d",
				   d->line, nlines);
		FUZZ_CHECK(d->message && d->message[0], "diagnostic without a message");
		FUZZ_CHECK(d->detail == NULL || d->detail[0], "empty diagnostic detail");
		FUZZ_CHECK(d->hint == NULL || d->hint[0], "empty diagnostic hint");
		mg_diags_free(&diags);
		return 0;
	}
	FUZZ_CHECK(diags.n == 0, "successful parse left %d diagnostics", diags.n);
	FUZZ_CHECK(rf->revision && mg_valid_id(rf->revision), "invalid revision id accepted");
	check_names("down_revision", rf->down, rf->ndown, false);
	check_names("branch_labels", rf->labels, rf->nlabels, true);
	check_names("depends_on", rf->deps, rf->ndeps, true);
	FUZZ_CHECK(rf->message == NULL || (rf->message[0] && !strchr(rf->message, '\n')),
			   "message not one line");
	FUZZ_CHECK(rf->upgrade != NULL && rf->upgrade[0] == '\0', "upgrade body not empty");
	FUZZ_CHECK(rf->line[MG_KEY_DOWN_REVISION] > 0, "down_revision without a line");
	for (int k = 0; k < MG_KEY_COUNT; k++)
		FUZZ_CHECK(rf->line[k] >= 0 && rf->line[k] <= nlines, "line of key %d: %d",
				   k, rf->line[k]);

	/* the graph of the file with stub parents and dependencies */
	g = mg_graph_new();
	memset(&in, 0, sizeof(in));
	for (int i = 0; i < rf->ndown + rf->ndeps; i++)
	{
		in.id = i < rf->ndown ? rf->down[i] : rf->deps[i - rf->ndown];
		if (mg_valid_id(in.id) && strcmp(in.id, rf->revision) != 0)
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
	if (!mg_graph_finish(g, &err))
		check_error(&err);
	mg_graph_free(g);
	mg_revfile_free(rf);
	return 0;
}
