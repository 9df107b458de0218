/*-------------------------------------------------------------------------
 *
 * fuzz_graph.c
 *	  libFuzzer target: the graph core on random graphs.
 *
 * The input bytes decode into a graph of 1 to 319 revisions (see decode()):
 * parents, dependencies on ids or labels, branch labels, and, unless the
 * first byte asks for a well-formed graph, duplicate, dangling, self and
 * malformed references and cycles.  A reference validator written from
 * the rules must agree with mg_graph_finish().  On a valid graph:
 *
 *	- down revisions, dependencies and normalized down revisions match a
 *	  naive model, and the heads, real heads and bases listings match
 *	  their definitions;
 *	- "upgrade heads" from an empty table runs every revision exactly once,
 *	  parents and dependencies first, keeping the version table minimal
 *	  and implying exactly what is applied after every step, in the order
 *	  of Alembic's topological sort (fuzz_common.h has a literal port);
 *	- the whole history lists every revision once in the same sort's
 *	  order, and "downgrade base" then empties the table the same way;
 *	- then up to 32 commands decoded from the rest of the input (upgrade,
 *	  downgrade, stamp, history, current, show, setting the rows) with
 *	  targets built from the graph's ids, prefixes, labels and the relative
 *	  and range forms, all checked as in fuzz_target.c.
 *
 *-------------------------------------------------------------------------
 */
#include "fuzz_common.h"

#define MAX_REVS	320
#define MAX_REFS	4
#define MAX_CMDS	32

typedef struct SpecRev
{
	char		id[80];
	char		down[MAX_REFS][80];
	int			ndown;
	char		deps[MAX_REFS][80];
	int			ndeps;
	char		labels[MAX_REFS][80];
	int			nlabels;
} SpecRev;

typedef struct Spec
{
	SpecRev		revs[MAX_REVS];
	int			n;
	int			order[MAX_REVS];	/* registration order */
	bool		well_formed;
	bool		short_ids;
} Spec;

static void
canonical_id(const Spec *s, int i, char *out)
{
	if (s->short_ids)
		sprintf(out, "%x", i * 7);	/* 1 to 3 characters: no prefixes */
	else
		sprintf(out, "rev%d", i);	/* "rev1" is a prefix of "rev10" */
}

/*
 * Decode the input.  Byte 0: bits 0-5 the number of revisions - 1 (all
 * set: 64 plus the next byte), bit 6 a well-formed graph, bit 7 short ids.  Then per revision a flags byte
 * (bits 0-1 parents, 2-3 dependencies, 4-5 labels, 6-7 a malformed id when
 * both set) and one byte per reference; then a registration order.
 */
static void
decode(FuzzReader *rd, Spec *s)
{
	unsigned	b0 = fuzz_byte(rd);
	int			nlabels_made = 0;

	memset(s, 0, sizeof(Spec));
	s->n = 1 + (int) (b0 & 0x3f);
	if (s->n == 64)
		s->n += (int) fuzz_byte(rd);	/* up to 319: long walks */
	s->well_formed = (b0 & 0x40) != 0;
	s->short_ids = (b0 & 0x80) != 0;
	for (int i = 0; i < s->n; i++)
	{
		SpecRev    *r = &s->revs[i];
		unsigned	f = fuzz_byte(rd);
		int			ndown = (int) (f & 3);
		int			ndeps = (int) ((f >> 2) & 3);
		int			nlab = (int) ((f >> 4) & 3);

		if (!s->well_formed && (f & 0xc0) == 0xc0)
		{
			unsigned	w = fuzz_byte(rd);

			switch (w % 8)
			{
				case 0:
					strcpy(r->id, "");
					break;
				case 1:
					strcpy(r->id, w & 8 ? "head" : "base");
					break;
				case 2:
					strcpy(r->id, "bad-id");
					break;
				case 3:
					memset(r->id, 'x', 33);
					r->id[33] = '\0';
					break;
				case 4:
					canonical_id(s, (int) (w / 8) % s->n, r->id);	/* a duplicate */
					break;
				case 5:
					sprintf(r->id, "lbl%u", (w / 8) % 12);	/* a label's name */
					break;
				case 6:
					strcpy(r->id, "none");
					break;
				default:
					canonical_id(s, i, r->id);
					strcat(r->id, "_x");
					break;
			}
		}
		else
			canonical_id(s, i, r->id);

		if (ndeps == 3)
			ndeps = 0;
		if (nlab == 3)
			nlab = 0;
		for (int k = 0; k < ndown; k++)
		{
			unsigned	b = fuzz_byte(rd);
			int			p = -1;

			if (s->well_formed || b < 0xc0)
			{
				if (i == 0)
					continue;
				/* mostly a line, else any earlier revision */
				p = b < 0x80 ? i - 1 : (int) (b % (unsigned) i);
			}
			else
				switch (b & 3)
				{
					case 0:
						p = (int) ((b >> 2) % (unsigned) s->n);	/* any: cycles */
						break;
					case 1:
						p = i;	/* itself */
						break;
					case 2:
						strcpy(r->down[r->ndown++], "nope");
						continue;
					default:
						p = r->ndown > 0 ? -2 : (int) ((b >> 2) % (unsigned) s->n);
						break;
				}
			if (p == -2)
				strcpy(r->down[r->ndown], r->down[r->ndown - 1]);	/* twice */
			else
			{
				char		id[80];
				bool		again = false;

				canonical_id(s, p, id);
				for (int j = 0; j < r->ndown; j++)
					again |= strcmp(r->down[j], id) == 0;
				if (again && s->well_formed)
					continue;
				strcpy(r->down[r->ndown], id);
			}
			r->ndown++;
		}
		for (int k = 0; k < ndeps; k++)
		{
			unsigned	b = fuzz_byte(rd);

			if (s->well_formed || b < 0xc0)
			{
				int			p;

				if (i == 0)
					continue;
				p = (int) ((b >> 1) % (unsigned) i);
				if ((b & 1) && s->revs[p].nlabels > 0)
					strcpy(r->deps[r->ndeps++], s->revs[p].labels[0]);
				else
					canonical_id(s, p, r->deps[r->ndeps++]);
			}
			else if (b & 1)
				sprintf(r->deps[r->ndeps++], "lbl%u", (b >> 1) % 12);	/* maybe none */
			else
				canonical_id(s, (int) ((b >> 1) % (unsigned) s->n), r->deps[r->ndeps++]);
		}
		for (int k = 0; k < nlab; k++)
		{
			unsigned	b = fuzz_byte(rd);

			if (s->well_formed)
				sprintf(r->labels[r->nlabels++], "lbl%d", nlabels_made++);
			else if (b >= 0xf8)
			{
				static const char *const bad[] = {"head", "heads", "base", "current",
				"a-b", "", "x", NULL};

				if (b == 0xff)
				{
					memset(r->labels[r->nlabels], 'l', 65);
					r->labels[r->nlabels++][65] = '\0';
				}
				else
					strcpy(r->labels[r->nlabels++], bad[b - 0xf8]);
			}
			else
				sprintf(r->labels[r->nlabels++], "lbl%u", b % 12);
		}
	}

	/* registration order: identity, or a shuffle */
	for (int i = 0; i < s->n; i++)
		s->order[i] = i;
	if (fuzz_byte(rd) & 1)
		for (int i = s->n - 1; i > 0; i--)
		{
			int			j = (int) (fuzz_byte(rd) % (unsigned) (i + 1));
			int			x = s->order[i];

			s->order[i] = s->order[j];
			s->order[j] = x;
		}
}

/* ----------------------------------------------------------------
 * The reference validator, in registration order
 * ----------------------------------------------------------------
 */

static bool
ref_valid_name(const char *s, size_t max)
{
	size_t		n = strlen(s);

	if (n < 1 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			  (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return strcmp(s, "base") != 0 && strcmp(s, "head") != 0 &&
		strcmp(s, "heads") != 0 && strcmp(s, "current") != 0;
}

/* Registration index of the revision with this id, or -1 */
static int
ref_find_id(const Spec *s, const char *id)
{
	for (int k = 0; k < s->n; k++)
		if (strcmp(s->revs[s->order[k]].id, id) == 0)
			return k;
	return -1;
}

/* Registration index of the revision declaring this label, or -1 */
static int
ref_find_label(const Spec *s, const char *l)
{
	for (int k = 0; k < s->n; k++)
	{
		const SpecRev *r = &s->revs[s->order[k]];

		for (int j = 0; j < r->nlabels; j++)
			if (strcmp(r->labels[j], l) == 0)
				return k;
	}
	return -1;
}

/*
 * Valid when: ids are well formed and unique; labels are well formed,
 * declared once and not ids; down revisions name other revisions, once
 * each; dependencies name another revision or a label of another; and
 * there is no cycle through down revisions and dependencies.  On success
 * down[k] and deps[k] hold the resolved registration indexes.
 */
static bool
ref_validate(const Spec *s, int down[][MAX_REFS], int *ndown, int deps[][MAX_REFS],
			 int *ndeps)
{
	int			color[MAX_REVS] = {0};
	int			stack[MAX_REVS * (2 * MAX_REFS + 1)];
	int			iter[MAX_REVS] = {0};

	for (int k = 0; k < s->n; k++)
	{
		const SpecRev *r = &s->revs[s->order[k]];

		if (!ref_valid_name(r->id, MG_MAX_ID_LEN) || ref_find_id(s, r->id) != k)
			return false;
		for (int j = 0; j < r->nlabels; j++)
		{
			int			owner = -1;
			int			count = 0;

			if (!ref_valid_name(r->labels[j], MG_MAX_LABEL_LEN) ||
				ref_find_id(s, r->labels[j]) >= 0)
				return false;
			for (int k2 = 0; k2 < s->n; k2++)
			{
				const SpecRev *r2 = &s->revs[s->order[k2]];

				for (int j2 = 0; j2 < r2->nlabels; j2++)
					if (strcmp(r2->labels[j2], r->labels[j]) == 0)
					{
						count++;
						owner = k2;
					}
			}
			if (count != 1 || owner != k)
				return false;
		}
	}
	for (int k = 0; k < s->n; k++)
	{
		const SpecRev *r = &s->revs[s->order[k]];

		ndown[k] = ndeps[k] = 0;
		for (int j = 0; j < r->ndown; j++)
		{
			int			p = ref_find_id(s, r->down[j]);

			if (p < 0 || p == k)
				return false;
			for (int x = 0; x < ndown[k]; x++)
				if (down[k][x] == p)
					return false;
			down[k][ndown[k]++] = p;
		}
		for (int j = 0; j < r->ndeps; j++)
		{
			int			p = ref_find_id(s, r->deps[j]);
			bool		again = false;

			if (p < 0)
				p = ref_find_label(s, r->deps[j]);
			if (p < 0 || p == k)
				return false;
			for (int x = 0; x < ndeps[k]; x++)
				again |= deps[k][x] == p;
			if (!again)
				deps[k][ndeps[k]++] = p;
		}
	}

	/* cycles: iterative depth-first search over parents */
	for (int k = 0; k < s->n; k++)
	{
		int			sp = 0;

		if (color[k])
			continue;
		stack[sp++] = k;
		color[k] = 1;
		iter[k] = 0;
		while (sp > 0)
		{
			int			x = stack[sp - 1];

			if (iter[x] < ndown[x] + ndeps[x])
			{
				int			p = iter[x] < ndown[x] ? down[x][iter[x]] :
					deps[x][iter[x] - ndown[x]];

				iter[x]++;
				if (color[p] == 1)
					return false;
				if (color[p] == 0)
				{
					color[p] = 1;
					iter[p] = 0;
					stack[sp++] = p;
				}
			}
			else
			{
				color[x] = 2;
				sp--;
			}
		}
	}
	return true;
}

/*
 * Normalized down revisions, naively: down revisions, then the
 * dependencies that no strict ancestor through down revisions also has.
 */
static void
check_resolved(Model *m, int down[][MAX_REFS], const int *ndown, int deps[][MAX_REFS],
			   const int *ndeps)
{
	bool		anc[MAX_REVS];

	for (int x = 0; x < m->n; x++)
	{
		int			norm[2 * MAX_REFS];
		int			nnorm = 0;
		int			stack[MAX_REVS];
		int			sp = 0;

		FUZZ_CHECK(m->down[x].n == ndown[x], "down revisions of \"%s\"", mg_rev_id(m->g, x));
		for (int j = 0; j < ndown[x]; j++)
			FUZZ_CHECK(m->down[x].items[j] == down[x][j], "down revision %d of \"%s\"", j,
					   mg_rev_id(m->g, x));
		FUZZ_CHECK(m->deps[x].n == ndeps[x], "dependencies of \"%s\"", mg_rev_id(m->g, x));
		for (int j = 0; j < ndeps[x]; j++)
			FUZZ_CHECK(m->deps[x].items[j] == deps[x][j], "dependency %d of \"%s\"", j,
					   mg_rev_id(m->g, x));

		memset(anc, 0, sizeof(anc));
		for (int j = 0; j < ndown[x]; j++)
			if (!anc[down[x][j]])
			{
				anc[down[x][j]] = true;
				stack[sp++] = down[x][j];
			}
		while (sp > 0)
		{
			int			y = stack[--sp];

			for (int j = 0; j < ndown[y]; j++)
				if (!anc[down[y][j]])
				{
					anc[down[y][j]] = true;
					stack[sp++] = down[y][j];
				}
		}
		for (int j = 0; j < ndown[x]; j++)
			norm[nnorm++] = down[x][j];
		for (int j = 0; j < ndeps[x]; j++)
		{
			int			d = deps[x][j];
			bool		drop = false;

			for (int a = 0; a < m->n && !drop; a++)
				if (anc[a])
					for (int k = 0; k < ndeps[a] && !drop; k++)
						drop = deps[a][k] == d;
			for (int k = 0; k < nnorm && !drop; k++)
				drop = norm[k] == d;
			if (!drop)
				norm[nnorm++] = d;
		}
		FUZZ_CHECK(m->norm[x].n == nnorm, "\"%s\" has %d normalized down revisions, not %d",
				   mg_rev_id(m->g, x), m->norm[x].n, nnorm);
		for (int j = 0; j < nnorm; j++)
			FUZZ_CHECK(m->norm[x].items[j] == norm[j],
					   "normalized down revision %d of \"%s\" is \"%s\", not \"%s\"", j,
					   mg_rev_id(m->g, x), mg_rev_id(m->g, m->norm[x].items[j]),
					   mg_rev_id(m->g, norm[j]));
	}
}

/* ----------------------------------------------------------------
 * A reference for symbol resolution (doc/semantics.md §7.1-§7.3), from the spec
 * ----------------------------------------------------------------
 */

/* The revision a key (id or label) names, or -1 */
static int
ref_key(Model *m, const Spec *s, const char *key)
{
	int			k = mg_lookup(m->g, key);

	return k >= 0 ? k : ref_find_label(s, key);
}

/*
 * Prefix candidates among the keys longer than three characters, within
 * lin if given: returns their number, *rev the last one
 */
static int
ref_prefix(Model *m, const Spec *s, const char *text, const bool *lin, int *rev)
{
	int			n = 0;
	size_t		len = strlen(text);

	for (int k = 0; k < s->n; k++)
	{
		const SpecRev *r = &s->revs[s->order[k]];

		if (strlen(r->id) > 3 && strncmp(r->id, text, len) == 0 && (!lin || lin[k]))
			n++, *rev = k;
		for (int j = 0; j < r->nlabels; j++)
			if (strlen(r->labels[j]) > 3 && strncmp(r->labels[j], text, len) == 0 &&
				(!lin || lin[k]))
				n++, *rev = k;
	}
	(void) m;
	return n;
}

/* Ancestors through down revisions, descendants through children, b itself */
static void
ref_lineage(Model *m, int b, bool *lin)
{
	bool	   *below = malloc(sizeof(bool) * ((size_t) m->n + 1));
	bool		changed = true;

	memset(lin, 0, sizeof(bool) * (size_t) m->n);
	memset(below, 0, sizeof(bool) * (size_t) m->n);
	below[b] = true;
	while (changed)
	{
		changed = false;
		for (int x = 0; x < m->n; x++)
			for (int k = 0; k < m->down[x].n; k++)
			{
				/* x's parent below b: no; b's parent chain: yes */
				if (below[x] && !below[m->down[x].items[k]])
					below[m->down[x].items[k]] = changed = true;
				if (lin[m->down[x].items[k]] && !lin[x])
					lin[x] = changed = true;
				if (m->down[x].items[k] == b && !lin[x])
					lin[x] = changed = true;
			}
	}
	for (int x = 0; x < m->n; x++)
		lin[x] = lin[x] || below[x];
	free(below);
}

/* The branch a name stands for: a key, or a unique prefix */
static bool
ref_branch(Model *m, const Spec *s, const char *branch, int *out)
{
	int			b = ref_key(m, s, branch);

	if (b >= 0)
	{
		*out = b;
		return true;
	}
	return ref_prefix(m, s, branch, NULL, out) == 1;
}

static bool
ref_parse_int(const char *p, long *out)
{
	long		v = 0;
	int			sign = 1;

	if (*p == '-' || *p == '+')
		sign = *p++ == '-' ? -1 : 1;
	if (*p == '\0')
		return false;
	for (; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
		if (v > 1000000000L)
			return false;
	}
	*out = sign * v;
	return true;
}

/*
 * What mg_show(sym) must give: returns 1 with the revisions in out, 0 with
 * the error code, or -1 for the relative forms this reference leaves out
 */
static int
ref_show(Model *m, const Spec *s, const char *sym, int *out, int *nout, MgErrCode *code)
{
	const char *at = strchr(sym, '@');
	char		branch[256];
	bool	   *lin = NULL;
	int			b = -1;
	int			rc = 1;
	long		num;

	*nout = 0;
	branch[0] = '\0';
	if (at)
	{
		if (at == sym || at[1] == '\0' || at - sym >= 255)
		{
			*code = MG_E_INVALID_TARGET;
			return at - sym >= 255 ? -1 : 0;
		}
		memcpy(branch, sym, (size_t) (at - sym));
		branch[at - sym] = '\0';
		sym = at + 1;
	}
	else if (*sym == '\0')
	{
		*code = MG_E_INVALID_TARGET;
		return 0;
	}
	if (strcmp(sym, "base") == 0)
		return 1;
	if (strcmp(sym, "heads") == 0 && !at)
	{
		MgList		rh = mg_real_heads(m->g);

		for (int i = 0; i < rh.n; i++)
			out[(*nout)++] = rh.items[i];
		return 1;
	}
	if (strcmp(sym, "heads") != 0 && strcmp(sym, "head") != 0 &&
		ref_parse_int(sym, &num) && num < 0)
		return -1;
	if (at)
	{
		if (!ref_branch(m, s, branch, &b))
		{
			*code = MG_E_UNDEFINED;
			return 0;
		}
		lin = malloc(sizeof(bool) * ((size_t) m->n + 1));
		ref_lineage(m, b, lin);
	}
	if (strcmp(sym, "heads") == 0 || strcmp(sym, "head") == 0)
	{
		/* heads, effective ones included, in the branch's lineage */
		for (int x = 0; x < m->n; x++)
			if (m->next[x].n == 0 && (!lin || lin[x]))
				out[(*nout)++] = x;
		if (sym[4] == '\0' && *nout > 1)
		{
			*code = MG_E_MULTIPLE_HEADS;
			rc = 0;
		}
	}
	else
	{
		int			rev = ref_key(m, s, sym);

		if (rev < 0)
		{
			int			n = ref_prefix(m, s, sym, lin, &rev);

			if (n != 1)
			{
				*code = n == 0 ? MG_E_UNDEFINED : MG_E_AMBIGUOUS;
				rc = 0;
			}
		}
		if (rc == 1 && lin && !lin[rev])
		{
			*code = MG_E_INVALID_TARGET;
			rc = 0;
		}
		if (rc == 1)
			out[(*nout)++] = rev;
	}
	free(lin);
	return rc;
}

/* mg_show against the reference */
static void
check_show(Model *m, const Spec *s, const char *sym)
{
	int			out[MAX_REVS];
	int			nout;
	MgErrCode	code = MG_OK;
	int			rc = ref_show(m, s, sym, out, &nout, &code);
	MgList		got;
	MgError		err;
	bool		ok;

	if (rc < 0)
		return;
	ok = mg_show(m->g, sym, &got, &err);
	FUZZ_CHECK(ok == (rc == 1), "show \"%s\": core %s (%s), reference %s", sym,
			   ok ? "resolves" : "fails", ok ? "" : err.message, rc ? "resolves" : "fails");
	if (!ok)
		FUZZ_CHECK(err.code == code, "show \"%s\": core error %d (%s), reference %d", sym,
				   (int) err.code, err.message, (int) code);
	else
	{
		FUZZ_CHECK(got.n == nout, "show \"%s\": core %d revisions, reference %d", sym,
				   got.n, nout);
		for (int i = 0; i < nout; i++)
			FUZZ_CHECK(got.items[i] == out[i], "show \"%s\": item %d is \"%s\", reference \"%s\"",
					   sym, i, mg_rev_id(m->g, got.items[i]), mg_rev_id(m->g, out[i]));
	}
}

/*
 * Downgrade to "B@X" with X a plain symbol (doc/semantics.md §9.1): X resolves
 * ignoring B; the roots are X's children (for base: every revision without
 * down revisions, counted once per key); with two or more keys B keeps
 * the roots below it; what goes is everything applied above the roots.
 */
static void
check_downgrade_branch(Model *m, const Spec *s, Table *t, const char *target)
{
	const char *at = strrchr(target, '@');
	char		branch[256];
	const char *sym;
	int			x = MG_NONE;
	int			roots[MAX_REVS];
	int			nroots = 0,
				nkeys;
	bool		ref_ok = true;
	MgList		l;
	MgError		err;
	MgPlan		plan;
	bool		ok;
	int			a,
				b;

	/* ranges and relative forms (anywhere: the pattern is not anchored) */
	if (at == NULL || at == target || at[1] == '\0' || at - target >= 255 ||
		strpbrk(target, ":+-") || !plain(at + 1, false) ||
		!model_minimal(m, t->rows, t->n, &a, &b))
		return;
	memcpy(branch, target, (size_t) (at - target));
	branch[at - target] = '\0';
	sym = at + 1;
	if (strcmp(sym, "base") != 0)
	{
		MgError		e;

		if (!mg_show(m->g, sym, &l, &e) || l.n != 1)
			return;
		x = l.items[0];
	}
	if (x < 0)
	{
		for (int k = 0; k < m->n; k++)
			if (m->down[k].n == 0)
				roots[nroots++] = k;
	}
	else
		for (int k = 0; k < m->next[x].n; k++)
			roots[nroots++] = m->next[x].items[k];
	nkeys = nroots;
	if (x < 0)
		for (int k = 0; k < nroots; k++)
			nkeys += s->revs[s->order[roots[k]]].nlabels;
	if (nkeys > 1)
	{
		int			br;
		int			k2 = 0;

		if (!ref_branch(m, s, branch, &br))
			ref_ok = false;
		else
		{
			/* br and its ancestors through down revisions */
			bool	   *anc = calloc((size_t) m->n + 1, sizeof(bool));
			bool		changed = true;

			anc[br] = true;
			while (changed)
			{
				changed = false;
				for (int y = 0; y < m->n; y++)
					if (anc[y])
						for (int k = 0; k < m->down[y].n; k++)
							if (!anc[m->down[y].items[k]])
								anc[m->down[y].items[k]] = changed = true;
			}
			for (int k = 0; k < nroots; k++)
				if (anc[roots[k]])
					roots[k2++] = roots[k];
			nroots = k2;
			free(anc);
			if (nroots == 0)
				ref_ok = false;
		}
	}
	if (ref_ok)
	{
		bool	   *set = malloc(sizeof(bool) * ((size_t) m->n + 1));
		bool	   *app = malloc(sizeof(bool) * ((size_t) m->n + 1));
		bool		any = false;

		model_descendants(m, roots, nroots, set);
		model_closure(m, t->rows, t->n, app);
		for (int k = 0; k < m->n; k++)
			any |= set[k] && app[k];
		if (x >= 0 && !any && table_find(t, x) < 0)
			ref_ok = false;
		free(set);
		free(app);
	}
	ok = mg_plan_downgrade(m->g, table_list(t), target, &plan, &err);
	FUZZ_CHECK(ok == ref_ok, "downgrade %s: core %s (%s), reference %s", target,
			   ok ? "plans" : "fails", ok ? "" : err.message, ref_ok ? "plans" : "fails");
	if (ok)
	{
		/* the reference order of what goes, from the rows */
		bool	   *set = malloc(sizeof(bool) * ((size_t) m->n + 1));
		bool	   *app = malloc(sizeof(bool) * ((size_t) m->n + 1));
		int		   *ref = malloc(sizeof(int) * ((size_t) m->n + 1));
		int		   *core = malloc(sizeof(int) * ((size_t) plan.nsteps + 1));
		bool		complete;
		int			nref;

		model_descendants(m, roots, nroots, set);
		model_closure(m, t->rows, t->n, app);
		for (int k = 0; k < m->n; k++)
			set[k] = set[k] && app[k];
		nref = ref_topo_sort(m, set, t->rows, t->n, ref, &complete);
		for (int k = 0; k < plan.nsteps; k++)
			core[k] = plan.steps[k].rev;
		check_same_order(m, "branch downgrade", core, plan.nsteps, ref, nref);
		free(set);
		free(app);
		free(ref);
		free(core);
	}
}

/* ----------------------------------------------------------------
 * Targets
 * ----------------------------------------------------------------
 */

/* A label of the graph (declared), or an id if there is none */
static const char *
some_label(Model *m, const Spec *s, unsigned b)
{
	int			nl = 0;

	for (int k = 0; k < s->n; k++)
		nl += s->revs[s->order[k]].nlabels;
	if (nl == 0)
		return mg_rev_id(m->g, (int) (b % (unsigned) m->n));
	b %= (unsigned) nl;
	for (int k = 0; k < s->n; k++)
	{
		const SpecRev *r = &s->revs[s->order[k]];

		if (b < (unsigned) r->nlabels)
			return r->labels[b];
		b -= (unsigned) r->nlabels;
	}
	return "";
}

static long
some_count(FuzzReader *rd)
{
	unsigned	b = fuzz_byte(rd);

	if (b == 0xff)
		return 1000000001L;
	if (b == 0xfe)
		return 1000000000L;
	return (long) (b % 5);
}

/* Write a target built from the next bytes into out (256 bytes) */
static void
make_target(FuzzReader *rd, Model *m, const Spec *s, char *out, int depth)
{
	unsigned	k = fuzz_byte(rd);
	unsigned	b = fuzz_byte(rd);
	const char *id = mg_rev_id(m->g, (int) (b % (unsigned) m->n));
	const char *lbl = some_label(m, s, b);

	switch (k % 21)
	{
		case 0:
			strcpy(out, "heads");
			break;
		case 1:
			strcpy(out, "head");
			break;
		case 2:
			strcpy(out, "base");
			break;
		case 3:
			strcpy(out, id);
			break;
		case 4:
			{
				size_t		len = strlen(id);

				snprintf(out, 256, "%.*s", (int) (1 + (k / 21) % (len ? len : 1)), id);
			}
			break;
		case 5:
			strcpy(out, lbl);
			break;
		case 6:
			snprintf(out, 256, "%s@head", lbl);
			break;
		case 7:
			snprintf(out, 256, "%s@heads", lbl);
			break;
		case 8:
			snprintf(out, 256, "%s@base", lbl);
			break;
		case 9:
			snprintf(out, 256, "%s@head", id);
			break;
		case 10:
			snprintf(out, 256, "+%ld", some_count(rd));
			break;
		case 11:
			snprintf(out, 256, "-%ld", some_count(rd));
			break;
		case 12:
			snprintf(out, 256, "%s+%ld", id, some_count(rd));
			break;
		case 13:
			snprintf(out, 256, "%s-%ld", id, some_count(rd));
			break;
		case 14:
			snprintf(out, 256, "%s@+%ld", lbl, some_count(rd));
			break;
		case 15:
			snprintf(out, 256, "%s@-%ld", lbl, some_count(rd));
			break;
		case 16:
			snprintf(out, 256, "%s-%ld", k & 0x80 ? "heads" : "head", some_count(rd));
			break;
		case 17:
			snprintf(out, 256, "%s@%s", lbl, id);
			break;
		case 18:
			snprintf(out, 256, "%s@%s%c%ld", lbl, id, k & 0x80 ? '+' : '-', some_count(rd));
			break;
		case 19:
			if (depth == 0)
			{
				char		lo[256],
							hi[256];

				make_target(rd, m, s, lo, 1);
				make_target(rd, m, s, hi, 1);
				snprintf(out, 256, "%.120s:%.120s", k & 0x80 ? "" : lo, k & 0x40 ? "" : hi);
			}
			else
				strcpy(out, "current");
			break;
		default:
			/* a few raw bytes */
			{
				int			len = (int) (b % 6);

				for (int i = 0; i < len; i++)
				{
					char		c = (char) fuzz_byte(rd);

					out[i] = c == '\0' || c == '\n' ? '@' : c;
				}
				out[len] = '\0';
			}
			break;
	}
}

/* Set the table from a bitmap of revisions, made minimal on request */
static void
set_rows(FuzzReader *rd, Model *m, Table *t)
{
	unsigned	mode = fuzz_byte(rd);
	int			rows[MAX_REVS];
	int			n = 0;
	unsigned	bits = 0;

	for (int x = 0; x < m->n; x++)
	{
		if (x % 8 == 0)
			bits = fuzz_byte(rd);
		if (bits & (1u << (x % 8)))
			rows[n++] = x;
	}
	if (mode & 1)
	{
		/* keep the tips of the set: drop what lies below another row */
		int			parents[MAX_REVS * 2 * MAX_REFS];
		int			np = 0;
		int			k = 0;

		for (int i = 0; i < n; i++)
			for (int j = 0; j < m->norm[rows[i]].n; j++)
				parents[np++] = m->norm[rows[i]].items[j];
		model_closure(m, parents, np, m->scratch);
		for (int i = 0; i < n; i++)
			if (!m->scratch[rows[i]])
				rows[k++] = rows[i];
		n = k;
	}
	table_set(t, rows, n);
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Spec s;
	static int	down[MAX_REVS][MAX_REFS],
				deps[MAX_REVS][MAX_REFS];
	int			ndown[MAX_REVS],
				ndeps[MAX_REVS];
	FuzzReader	rd = {data, size, 0};
	MgGraph    *g;
	MgGraph    *fresh = mg_graph_new();
	FuzzArena	fa;
	MgArenaMark mark;
	long		live_at_mark;
	MgError		err;
	MgError		err2;
	bool		valid;
	bool		ok;

	/*
	 * g is built and kept as the backend keeps its graph (fuzz_common.h)
	 * and released to its mark after each use; fresh, built plainly, must
	 * give the same results.
	 */
	decode(&rd, &s);
	g = graph_new_counted(&fa);
	mg_graph_reserve(g, s.n & 1 ? s.n : s.n / 2 + 1);
	for (int k = 0; k < s.n; k++)
	{
		const SpecRev *r = &s.revs[s.order[k]];
		const char *dl[MAX_REFS],
				   *pl[MAX_REFS],
				   *ll[MAX_REFS];
		MgRevInput	in;

		for (int j = 0; j < MAX_REFS; j++)
		{
			dl[j] = r->down[j];
			pl[j] = r->deps[j];
			ll[j] = r->labels[j];
		}
		memset(&in, 0, sizeof(in));
		in.id = r->id;
		in.down = dl;
		in.ndown = r->ndown;
		in.deps = pl;
		in.ndeps = r->ndeps;
		in.labels = ll;
		in.nlabels = r->nlabels;
		in.tag = k;
		graph_add_owned(g, &in);
		mg_graph_add(fresh, &in);
	}
	valid = ref_validate(&s, down, ndown, deps, ndeps);
	ok = mg_graph_finish(g, &err);
	FUZZ_CHECK(mg_graph_finish(fresh, &err2) == ok, "kept and fresh graph validate apart");
	if (!ok)
		same_error("validation", &err, &err2);
	FUZZ_CHECK(ok == valid, "graph %s by the core, %s by the reference%s%s",
			   ok ? "accepted" : "rejected", valid ? "accepted" : "rejected",
			   ok ? "" : ": ", ok ? "" : err.message);
	FUZZ_CHECK(!s.well_formed || ok, "well-formed graph rejected: %s", err.message);
	if (!ok)
	{
		const char *rows[3];

		check_error(&err);
		/* applied-ness on an invalid graph must still work */
		for (int i = 0; i < 3; i++)
			rows[i] = s.revs[fuzz_byte(&rd) % (unsigned) s.n].id;
		for (int k = 0; k < s.n; k++)
			FUZZ_CHECK(mg_is_applied_lenient(g, rows, 3, s.revs[k].id) ==
					   mg_is_applied_lenient(fresh, rows, 3, s.revs[k].id),
					   "lenient applied-ness differs between kept and fresh graph");
		graph_free_counted(g, &fa);
		mg_graph_free(fresh);
		return 0;
	}
	mg_graph_mark(g, &mark);
	live_at_mark = fa.live;

	{
		Model		m;
		Table		t = {0};
		MgPlan		plan;
		MgList		hist;
		MgList		rh = mg_real_heads(g);
		MgList		none = {NULL, 0};
		bool	   *applied;

		model_init(&m, g);
		m.twin = fresh;
		applied = malloc(sizeof(bool) * ((size_t) m.n + 1));
		for (int x = 0; x < m.n; x++)
			FUZZ_CHECK(mg_rev_tag(g, x) == x, "tag of revision %d", x);
		check_resolved(&m, down, ndown, deps, ndeps);
		check_listings(&m);

		/* everything up, listed, everything down */
		FUZZ_CHECK(mg_plan_upgrade(g, none, "heads", &plan, &err), "upgrade heads: %s",
				   err.message);
		FUZZ_CHECK(plan.nsteps == m.n, "upgrade heads: %d steps for %d revisions",
				   plan.nsteps, m.n);
		check_upgrade(&m, &t, &plan, applied);
		check_upgrade_order(&m, NULL, 0, rh.items, rh.n, &plan);
		for (int x = 0; x < m.n; x++)
		{
			const char *row = mg_rev_id(g, rh.items[x % rh.n]);
			bool		below;

			/* lenient applied-ness agrees with the closure */
			model_closure(&m, &rh.items[x % rh.n], 1, applied);
			below = applied[x];
			FUZZ_CHECK(mg_is_applied_lenient(g, &row, 1, mg_rev_id(g, x)) == below,
					   "lenient applied-ness of \"%s\" under \"%s\"", mg_rev_id(g, x), row);
		}
		FUZZ_CHECK(mg_history(g, table_list(&t), NULL, &hist, &err), "history: %s",
				   err.message);
		FUZZ_CHECK(hist.n == m.n, "history lists %d of %d", hist.n, m.n);
		check_history(&m, hist);
		check_history_order(&m, NULL, 0, rh.items, rh.n, hist);
		check_current(&m, &t, mg_current(g, table_list(&t)));
		{
			Table		before = {0};

			table_set(&before, t.rows, t.n);
			FUZZ_CHECK(mg_plan_downgrade(g, table_list(&t), "base", &plan, &err),
					   "downgrade base: %s", err.message);
			FUZZ_CHECK(plan.nsteps == m.n, "downgrade base: %d steps for %d revisions",
					   plan.nsteps, m.n);
			check_downgrade(&m, &t, &plan, applied);
			FUZZ_CHECK(t.n == 0, "downgrade base leaves %d rows", t.n);
			check_downgrade_order(&m, before.rows, before.n, MG_NONE, &plan);
			free(before.rows);
		}
		mg_graph_release(g, &mark);

		/* commands */
		for (int c = 0; c < MAX_CMDS && fuzz_more(&rd); c++)
		{
			char		target[256];
			unsigned	op = fuzz_byte(&rd);

			if (op % 8 != 5 && op % 8 != 7)
			{
				make_target(&rd, &m, &s, target, 0);
				check_show(&m, &s, target);
			}
			switch (op % 8)
			{
				case 0:
					do_upgrade(&m, &t, target, true);
					break;
				case 1:
					check_downgrade_branch(&m, &s, &t, target);
					do_downgrade(&m, &t, target, true);
					break;
				case 2:
					do_stamp(&m, &t, target, false, true);
					break;
				case 3:
					do_stamp(&m, &t, target, true, true);
					break;
				case 4:
					do_history(&m, &t, target);
					break;
				case 5:
					do_current(&m, &t);
					break;
				case 6:
					do_show(&m, target);
					break;
				default:
					set_rows(&rd, &m, &t);
					break;
			}
			mg_graph_release(g, &mark);
			FUZZ_CHECK(fa.live == live_at_mark, "release keeps %ld blocks, the mark had %ld",
					   fa.live, live_at_mark);
		}
		free(applied);
		free(t.rows);
		model_free(&m);
	}
	graph_free_counted(g, &fa);
	mg_graph_free(fresh);
	return 0;
}
