/*
 * ref_labels.h
 *	  Reference model of branch label inheritance: the algorithm of the core
 *	  up to version 0.1 (validated against Alembic 1.8's _add_branches on the
 *	  replay transcripts), kept to check the linear one of src/mg_labels.c.
 *
 *	  Revisions declaring labels are taken in map order.  Each one, r, adds
 *	  the labels it carries at that moment to its descendants through
 *	  down_revisions (a depth-first walk in Alembic's stack order) and then
 *	  to the revisions met walking down from the last descendant visited,
 *	  through single down_revisions, until a branch point (two or more
 *	  children through down or depends_on) or a merge point.  The sets are
 *	  materialized: quadratic, and only for small graphs.
 */
#ifndef REF_LABELS_H
#define REF_LABELS_H

#include "mg_core.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * carries[x * nlabels + l]: revision x carries label l.  declared[x] lists
 * the label numbers x declares (ndeclared[x] of them).
 */
static void
ref_inherit(MgGraph *g, const int *const *declared, const int *ndeclared,
			int nlabels, bool *carries)
{
	int			n = mg_graph_size(g);
	int		   *nallnext = calloc(n + 1, sizeof(int));
	int		   *seen = calloc(n + 1, sizeof(int));
	int		   *stack = malloc(sizeof(int) * (size_t) (n * n + n + 1));
	bool	   *mine = malloc(sizeof(bool) * (size_t) (nlabels + 1));
	int			stamp = 0;

	/* distinct children through down or depends_on */
	for (int i = 0; i < n; i++)
	{
		MgList		down = mg_rev_down(g, i);
		MgList		deps = mg_rev_deps(g, i);

		stamp++;
		for (int j = 0; j < down.n; j++)
			if (seen[down.items[j]] != stamp)
			{
				seen[down.items[j]] = stamp;
				nallnext[down.items[j]]++;
			}
		for (int j = 0; j < deps.n; j++)
			if (seen[deps.items[j]] != stamp)
			{
				seen[deps.items[j]] = stamp;
				nallnext[deps.items[j]]++;
			}
	}

	memset(carries, 0, sizeof(bool) * (size_t) n * (size_t) nlabels);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < ndeclared[i]; j++)
			carries[i * nlabels + declared[i][j]] = true;

	for (int i = 0; i < n; i++)
	{
		int			sp = 0;
		int			last = i;
		int			parent;

		if (ndeclared[i] == 0)
			continue;
		memcpy(mine, &carries[i * nlabels], sizeof(bool) * (size_t) nlabels);
		stamp++;
		stack[sp++] = i;
		while (sp > 0)
		{
			int			x = stack[--sp];
			MgList		next;

			if (seen[x] == stamp)
				continue;
			seen[x] = stamp;
			for (int l = 0; l < nlabels; l++)
				carries[x * nlabels + l] |= mine[l];
			last = x;
			next = mg_rev_children(g, x);
			for (int j = 0; j < next.n; j++)
				stack[sp++] = next.items[j];
		}
		parent = last;
		while (parent >= 0)
		{
			MgList		down = mg_rev_down(g, parent);

			if (nallnext[parent] > 1 || down.n > 1)
				break;
			for (int l = 0; l < nlabels; l++)
				carries[parent * nlabels + l] |= mine[l];
			parent = down.n == 1 ? down.items[0] : -1;
		}
	}
	free(nallnext);
	free(seen);
	free(stack);
	free(mine);
}

#endif							/* REF_LABELS_H */
