/*
 * test_core.c
 *	  Unit tests of the graph core that need no server: graph validation
 *	  messages, planning results and large graphs (long chains and wide
 *	  merges must not recurse or go quadratic).  Alembic-compared behaviour
 *	  is covered by run_replay.sh.
 */
#include "mg_core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit_check.h"
#include "ref_labels.h"

#include <time.h>

/* Build a graph from "id:down1,down2:deps:labels" specs */
static MgGraph *
build(const char *const *specs, int n, MgError *err, bool *ok)
{
	MgGraph    *g = mg_graph_new();

	for (int i = 0; i < n; i++)
	{
		char	   *copy = strdup(specs[i]);
		char	   *fields[4] = {NULL, NULL, NULL, NULL};
		char	   *lists[3][16];
		int			counts[3] = {0, 0, 0};
		char	   *p = copy;
		MgRevInput	in;

		for (int f = 0; f < 4; f++)
		{
			fields[f] = p;
			p = p ? strchr(p, ':') : NULL;
			if (p)
				*p++ = '\0';
		}
		for (int f = 1; f < 4; f++)
		{
			char	   *tok;
			char	   *save;

			if (fields[f] == NULL)
				continue;
			for (tok = strtok_r(fields[f], ",", &save); tok; tok = strtok_r(NULL, ",", &save))
				lists[f - 1][counts[f - 1]++] = tok;
		}
		memset(&in, 0, sizeof(in));
		in.id = fields[0];
		in.down = (const char *const *) lists[0];
		in.ndown = counts[0];
		in.deps = (const char *const *) lists[1];
		in.ndeps = counts[1];
		in.labels = (const char *const *) lists[2];
		in.nlabels = counts[2];
		mg_graph_add(g, &in);
		free(copy);
	}
	*ok = mg_graph_finish(g, err);
	return g;
}

static void
expect_invalid(const char *name, const char *const *specs, int n,
			   MgErrCode code, const char *msg_part, const char *detail_part)
{
	MgError		err;
	bool		ok;
	MgGraph    *g = build(specs, n, &err, &ok);

	CHECK(!ok, "%s: graph accepted", name);
	if (!ok)
	{
		CHECK(err.code == code, "%s: code %d, expected %d", name, err.code, code);
		CHECK(strstr(err.message, msg_part) != NULL, "%s: message \"%s\" lacks \"%s\"",
			  name, err.message, msg_part);
		if (detail_part)
			CHECK(err.detail && strstr(err.detail, detail_part) != NULL,
				  "%s: detail \"%s\" lacks \"%s\"", name, err.detail ? err.detail : "",
				  detail_part);
	}
	mg_graph_free(g);
}

/* The graph is refused with exactly this primary message */
static void
expect_exact_message(const char *name, const char *const *specs, int n,
					 const char *message)
{
	MgError		err;
	bool		ok;
	MgGraph    *g = build(specs, n, &err, &ok);

	CHECK(!ok && strcmp(err.message, message) == 0, "%s: message \"%s\"",
		  name, ok ? "(accepted)" : err.message);
	mg_graph_free(g);
}

static void
test_validation(void)
{
	const char *dangling[] = {"a", "b:a", "c:x"};
	const char *dangling_dep[] = {"a", "b:a:nolabel"};
	const char *selfloop[] = {"a", "b:b"};
	const char *selfdep[] = {"a", "b:a:b"};
	const char *cycle[] = {"a", "b:a,d", "c:b", "d:c"};
	const char *depcycle[] = {"a", "b:a:c", "c:a:b"};
	const char *dup[] = {"a", "a"};
	const char *label_twice[] = {"a:::lbl", "b:a::lbl"};
	const char *label_is_id[] = {"a", "b:a::a"};
	const char *bad_id[] = {"a-1"};
	const char *long_id[] = {"abcdefghijabcdefghijabcdefghijabc"};
	const char *two_problems[] = {"a", "b:x", "c:y"};
	const char *reserved[] = {"head"};
	const char *reserved_label[] = {"a:::heads"};

	expect_invalid("dangling", dangling, 3, MG_E_UNDEFINED,
				   "down_revision \"x\" of revision \"c\" does not exist", NULL);
	expect_invalid("dangling dep", dangling_dep, 2, MG_E_UNDEFINED,
				   "dependency \"nolabel\" of revision \"b\" does not exist", NULL);
	expect_invalid("self loop", selfloop, 2, MG_E_CYCLE, "is its own down_revision", NULL);
	expect_invalid("self dep", selfdep, 3 - 1, MG_E_CYCLE, "depends on itself", NULL);
	/* edges point from parent to child; the cycle may start anywhere */
	expect_invalid("cycle", cycle, 4, MG_E_CYCLE, "revisions form a cycle",
				   "c -> d -> b -> c");
	expect_exact_message("cycle path in detail only", cycle, 4, "revisions form a cycle");
	expect_invalid("dependency cycle", depcycle, 3, MG_E_CYCLE,
				   "dependency cycle", "c -> b -> c");
	expect_exact_message("dependency cycle path in detail only", depcycle, 3,
						 "revisions form a dependency cycle");
	expect_invalid("duplicate id", dup, 2, MG_E_DUPLICATE, "defined more than once", NULL);
	expect_invalid("label twice", label_twice, 2, MG_E_DUPLICATE,
				   "branch label \"lbl\" of revision \"b\" is already used by revision \"a\"", NULL);
	expect_invalid("label is an id", label_is_id, 2, MG_E_DUPLICATE,
				   "branch label \"a\"", "is the id of revision \"a\"");
	expect_invalid("bad id", bad_id, 1, MG_E_INVALID_NAME, "invalid revision id \"a-1\"", NULL);
	expect_invalid("long id", long_id, 1, MG_E_INVALID_NAME, "invalid revision id", NULL);
	expect_invalid("reserved id", reserved, 1, MG_E_RESERVED_NAME,
				   "revision id \"head\" is a reserved word", "words of the target grammar");
	expect_invalid("reserved label", reserved_label, 1, MG_E_RESERVED_NAME,
				   "branch label \"heads\" in revision \"a\" is a reserved word",
				   "words of the target grammar");
	expect_invalid("all problems in detail", two_problems, 3, MG_E_UNDEFINED,
				   "down_revision \"x\"", "down_revision \"y\"");
}

static const char *
ids(MgGraph *g, MgList l, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < l.n; i++)
	{
		if (i)
			strncat(buf, " ", len - strlen(buf) - 1);
		strncat(buf, mg_rev_id(g, l.items[i]), len - strlen(buf) - 1);
	}
	return buf;
}

/* Apply the version-table operations of plan's steps to a row flag set */
static void
apply_plan(const MgPlan *plan, bool *rows)
{
	for (int i = 0; i < plan->nsteps; i++)
		for (int k = 0; k < plan->steps[i].nops; k++)
		{
			const MgOp *op = &plan->steps[i].ops[k];

			if (op->kind == MG_OP_INSERT)
				rows[op->a] = true;
			else if (op->kind == MG_OP_DELETE)
				rows[op->a] = false;
			else
			{
				rows[op->a] = false;
				rows[op->b] = true;
			}
		}
}

/*
 * mg_plan_reverse: from rows at two heads of a graph with branches, a
 * merge and a dependency, upgrading to heads and then running the reversed
 * plan comes back to exactly the starting rows; the steps are the
 * upgrade's revisions, last first, each a downgrade.
 */
static void
test_plan_reverse(void)
{
	const char *specs[] = {"a", "b:a", "c:a", "m:b,c", "d:m", "x", "y:x:b"};
	MgError		err;
	bool		ok;
	MgGraph    *g = build(specs, 7, &err, &ok);
	int			start_items[] = {1, 5};	/* b and x */
	MgList		start = {start_items, 2};
	MgPlan		up,
				down;
	bool		rows[8] = {false};
	bool		moved = false;

	CHECK(ok, "reverse graph rejected: %s", ok ? "" : err.message);
	ok = mg_plan_upgrade(g, start, "heads", &up, &err);
	CHECK(ok && up.nsteps == 4, "upgrade from b, x: %d steps", ok ? up.nsteps : -1);
	if (!ok)
	{
		mg_graph_free(g);
		return;
	}
	mg_plan_reverse(g, &up, start, &down);
	CHECK(down.nsteps == up.nsteps, "reversed: %d steps", down.nsteps);
	for (int i = 0; i < down.nsteps; i++)
		CHECK(down.steps[i].rev == up.steps[up.nsteps - 1 - i].rev &&
			  down.steps[i].direction == MG_DOWNGRADE,
			  "reversed step %d is the downgrade of upgrade step %d", i, up.nsteps - 1 - i);
	rows[1] = rows[5] = true;
	apply_plan(&up, rows);
	for (int r = 0; r < 7; r++)
		moved = moved || rows[r] != (r == 1 || r == 5);
	CHECK(moved, "the upgrade moved the rows");
	for (int k = 0; k < up.final_rows.n; k++)
		CHECK(rows[up.final_rows.items[k]], "upgrade ops end at its final rows");
	apply_plan(&down, rows);
	for (int r = 0; r < 7; r++)
		CHECK(rows[r] == (r == 1 || r == 5), "after the reversed plan, row %s is %s",
			  mg_rev_id(g, r), rows[r] ? "set" : "clear");
	CHECK(down.final_rows.n == 2 && down.final_rows.items[0] == 1 &&
		  down.final_rows.items[1] == 5, "reversed plan ends at the starting rows");
	mg_graph_free(g);
}

static void
test_normalized_deps(void)
{
	/* b4 does not keep its dependency on a3: b2, an ancestor, lists it */
	const char *specs[] = {"a1", "a2:a1", "a3:a2", "b1", "b2:b1:a3", "b3:b2", "b4:b3:a3"};
	MgError		err;
	bool		ok;
	MgGraph    *g = build(specs, 7, &err, &ok);
	char		buf[256];

	CHECK(ok, "normalized deps graph rejected: %s", ok ? "" : err.message);
	CHECK(strcmp(ids(g, mg_rev_normalized_down(g, 6), buf, sizeof(buf)), "b3") == 0,
		  "b4 normalized down = %s", buf);
	CHECK(strcmp(ids(g, mg_rev_normalized_down(g, 4), buf, sizeof(buf)), "b1 a3") == 0,
		  "b2 normalized down = %s", buf);
	mg_graph_free(g);
}

/* A chain of n revisions r0 <- r1 <- ... */
static MgGraph *
chain(int n)
{
	MgGraph    *g = mg_graph_new();
	char		id[32],
				prev[32];
	const char *down[1] = {prev};

	for (int i = 0; i < n; i++)
	{
		MgRevInput	in;

		memset(&in, 0, sizeof(in));
		snprintf(id, sizeof(id), "r%d", i);
		in.id = id;
		in.down = down;
		in.ndown = i > 0 ? 1 : 0;
		mg_graph_add(g, &in);
		strcpy(prev, id);
	}
	return g;
}

static void
test_long_chain(void)
{
	int			n = 100000;
	MgGraph    *g = chain(n);
	MgError		err;
	MgPlan		plan;
	MgList		rows = {NULL, 0};
	MgList		hist;
	bool		ok = mg_graph_finish(g, &err);

	CHECK(ok, "long chain rejected");
	ok = mg_plan_upgrade(g, rows, "heads", &plan, &err);
	CHECK(ok && plan.nsteps == n, "long chain upgrade: %d steps", ok ? plan.nsteps : -1);
	CHECK(ok && plan.steps[0].rev == 0 && plan.steps[n - 1].rev == n - 1,
		  "long chain order");
	CHECK(ok && plan.final_rows.n == 1 && plan.final_rows.items[0] == n - 1,
		  "long chain final row");
	if (ok)
	{
		ok = mg_plan_downgrade(g, plan.final_rows, "base", &plan, &err);
		CHECK(ok && plan.nsteps == n && plan.final_rows.n == 0,
			  "long chain downgrade: %d steps", ok ? plan.nsteps : -1);
	}
	ok = mg_history(g, rows, NULL, &hist, &err);
	CHECK(ok && hist.n == n && hist.items[0] == n - 1, "long chain history");
	{
		MgList		one;
		int			last = n - 1;

		one.items = &last;
		one.n = 1;
		ok = mg_plan_downgrade(g, one, "-3", &plan, &err);
		CHECK(ok && plan.nsteps == 3, "long chain downgrade -3");
		ok = mg_plan_upgrade(g, one, "r5+2", &plan, &err);
		CHECK(ok && plan.nsteps == 0, "upgrade to an ancestor is a no-op");
		ok = mg_plan_upgrade(g, one, "+1", &plan, &err);
		CHECK(!ok && err.code == MG_E_INVALID_TARGET, "upgrade +1 beyond head");
	}
	mg_graph_free(g);

	/* a side branch on top of a long chain is accepted */
	g = chain(n);
	{
		MgRevInput	in;
		const char *down[1] = {"r99999"};
		const char *side_down[1] = {"side1"};

		memset(&in, 0, sizeof(in));
		in.id = "side1";
		in.down = down;
		in.ndown = 1;
		mg_graph_add(g, &in);
		in.id = "side2";
		in.down = side_down;
		mg_graph_add(g, &in);
	}
	CHECK(mg_graph_finish(g, &err), "long chain with a side branch rejected");
	mg_graph_free(g);
}

/*
 * A cycle through a long chain (r0's down_revision is the last revision)
 * is found without recursion, and its path, shortened, is in the DETAIL
 * only.
 */
static void
test_long_cycle(void)
{
	int			n = 100000;
	MgGraph    *g = mg_graph_new();
	MgError		err;
	char		id[32],
				prev[32];
	const char *down[1] = {prev};
	bool		ok;

	for (int i = 0; i < n; i++)
	{
		MgRevInput	in;

		memset(&in, 0, sizeof(in));
		snprintf(id, sizeof(id), "r%d", i);
		snprintf(prev, sizeof(prev), "r%d", i > 0 ? i - 1 : n - 1);
		in.id = id;
		in.down = down;
		in.ndown = 1;
		mg_graph_add(g, &in);
	}
	ok = mg_graph_finish(g, &err);
	CHECK(!ok, "long cycle accepted");
	if (!ok)
	{
		CHECK(err.code == MG_E_CYCLE, "long cycle: code %d", err.code);
		CHECK(strcmp(err.message, "revisions form a cycle") == 0,
			  "long cycle: message \"%s\"", err.message);
		CHECK(err.detail && strstr(err.detail, "Revisions form a cycle through down_revisions: ") &&
			  strstr(err.detail, "... (99980 more) -> "),
			  "long cycle: detail \"%.200s\"", err.detail ? err.detail : "");
	}
	mg_graph_free(g);
}

/*
 * mg_check_name: each kind's limit and words, reserved words, bad
 * characters, an embedded NUL (len counts past it), the owner named or not.
 */
static void
test_check_name(void)
{
	MgNameProblem p;
	char		longid[MG_MAX_ID_LEN + 2];
	char		longlabel[MG_MAX_LABEL_LEN + 2];
	const char	nul[] = "ab\0cd";

	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	memset(longlabel, 'b', sizeof(longlabel) - 1);
	longlabel[sizeof(longlabel) - 1] = '\0';

	CHECK(mg_check_name(MG_NAME_REVISION, "a_1B", 4, NULL, &p), "legal id refused");
	CHECK(mg_check_name(MG_NAME_REVISION, longid, MG_MAX_ID_LEN, NULL, &p),
		  "id of %d characters refused", MG_MAX_ID_LEN);
	CHECK(!mg_check_name(MG_NAME_REVISION, longid, MG_MAX_ID_LEN + 1, NULL, &p) &&
		  p.code == MG_E_INVALID_NAME &&
		  strstr(p.message, "invalid revision id \"aaaa") == p.message &&
		  strcmp(p.detail, "A revision id is 1 to 32 letters, digits or underscores.") == 0,
		  "id too long: %s / %s", p.message, p.detail);
	CHECK(!mg_check_name(MG_NAME_DOWN_REVISION, longid, MG_MAX_ID_LEN + 1, "x", &p) &&
		  p.code == MG_E_INVALID_NAME && strstr(p.message, "invalid down_revision") == p.message &&
		  strstr(p.message, "\" in revision \"x\"") != NULL &&
		  strstr(p.detail, "A down_revision is a revision id: 1 to 32") == p.detail,
		  "down_revision too long: %s / %s", p.message, p.detail);
	/* a dependency may be a label: the label limit applies */
	CHECK(mg_check_name(MG_NAME_DEPENDENCY, longid, MG_MAX_ID_LEN + 1, "x", &p),
		  "dependency of 33 characters refused");
	CHECK(!mg_check_name(MG_NAME_DEPENDENCY, longlabel, MG_MAX_LABEL_LEN + 1, "x", &p) &&
		  strstr(p.message, "invalid dependency \"") == p.message &&
		  strstr(p.detail, "1 to 64") != NULL,
		  "dependency too long: %s / %s", p.message, p.detail);
	CHECK(mg_check_name(MG_NAME_BRANCH_LABEL, longlabel, MG_MAX_LABEL_LEN, "x", &p),
		  "label of 64 characters refused");
	CHECK(!mg_check_name(MG_NAME_BRANCH_LABEL, longlabel, MG_MAX_LABEL_LEN + 1, NULL, &p) &&
		  strstr(p.message, "invalid branch label \"") == p.message &&
		  strstr(p.detail, "A branch label is 1 to 64") == p.detail,
		  "label too long: %s / %s", p.message, p.detail);
	CHECK(!mg_check_name(MG_NAME_REVISION, "", 0, NULL, &p) &&
		  p.code == MG_E_INVALID_NAME && strcmp(p.message, "invalid revision id \"\"") == 0,
		  "empty id: %s", p.message);
	CHECK(!mg_check_name(MG_NAME_REVISION, "a-1", 3, "own", &p) &&
		  p.code == MG_E_INVALID_NAME &&
		  strcmp(p.message, "invalid revision id \"a-1\" in revision \"own\"") == 0,
		  "bad character with owner: %s", p.message);
	CHECK(!mg_check_name(MG_NAME_REVISION, nul, 5, NULL, &p) &&
		  p.code == MG_E_INVALID_NAME,
		  "embedded NUL accepted");
	CHECK(mg_check_name(MG_NAME_REVISION, nul, 2, NULL, &p),
		  "the part before a NUL refused");
	for (int k = MG_NAME_REVISION; k <= MG_NAME_BRANCH_LABEL; k++)
	{
		const char *const words[] = {"base", "head", "heads", "current"};

		for (int w = 0; w < 4; w++)
			CHECK(!mg_check_name((MgNameKind) k, words[w], strlen(words[w]), NULL, &p) &&
				  p.code == MG_E_RESERVED_NAME && strstr(p.message, "is a reserved word") &&
				  strcmp(p.detail, "\"base\", \"head\", \"heads\" and \"current\" are words of the target grammar.") == 0,
				  "reserved word %s (kind %d): %s", words[w], k, p.message);
	}
	CHECK(!mg_check_name(MG_NAME_BRANCH_LABEL, "head", 4, "r1", &p) &&
		  strcmp(p.message, "branch label \"head\" in revision \"r1\" is a reserved word") == 0,
		  "reserved label with owner: %s", p.message);
	CHECK(!mg_check_name(MG_NAME_REVISION, "head", 4, NULL, &p) &&
		  strcmp(p.message, "revision id \"head\" is a reserved word") == 0,
		  "reserved id: %s", p.message);
	/* len decides, not the terminator: "headx" cut to 4 is the word */
	CHECK(!mg_check_name(MG_NAME_REVISION, "headx", 4, NULL, &p) &&
		  p.code == MG_E_RESERVED_NAME &&
		  strcmp(p.message, "revision id \"head\" is a reserved word") == 0,
		  "reserved word without terminator: %s", p.message);
	CHECK(mg_check_name(MG_NAME_REVISION, "heads_x", 7, NULL, &p) &&
		  mg_check_name(MG_NAME_REVISION, "Head", 4, NULL, &p),
		  "names that only look like reserved words refused");
	CHECK(!mg_valid_id("head") && !mg_valid_id("a-b") && mg_valid_id("ab") &&
		  !mg_valid_label(longlabel) && mg_valid_label("lbl") && !mg_valid_id(NULL),
		  "mg_valid_id / mg_valid_label disagree with mg_check_name");
}

/* mg_clip: never more than max bytes, never inside a UTF-8 sequence */
static void
test_clip(void)
{
	char		buf[128];

	CHECK(mg_clip("abc", 3, 80) == 3, "len below max changed");
	CHECK(mg_clip("abcdef", 6, 6) == 6, "len equal to max changed");
	memset(buf, 'a', 100);
	CHECK(mg_clip(buf, 100, 80) == 80, "ASCII cut: %d", mg_clip(buf, 100, 80));
	/* "é" (2 bytes) at bytes 79-80 straddles the limit: cut before it */
	memset(buf, 'a', 79);
	memcpy(buf + 79, "\xc3\xa9", 2);
	memcpy(buf + 81, "zz", 2);
	CHECK(mg_clip(buf, 83, 80) == 79, "2-byte straddling: %d", mg_clip(buf, 83, 80));
	/* exactly 79 + 2 bytes: longer than 80, so cut before the character */
	CHECK(mg_clip(buf, 81, 80) == 79, "2-byte at the end: %d", mg_clip(buf, 81, 80));
	/* "😀" (4 bytes) at bytes 78-81 */
	memset(buf, 'a', 78);
	memcpy(buf + 78, "\xf0\x9f\x98\x80", 4);
	buf[82] = 'z';
	CHECK(mg_clip(buf, 83, 80) == 78, "4-byte straddling: %d", mg_clip(buf, 83, 80));
	/* a 4-byte character ending at the limit stays */
	memset(buf, 'a', 76);
	memcpy(buf + 76, "\xf0\x9f\x98\x80", 4);
	buf[80] = 'z';
	CHECK(mg_clip(buf, 81, 80) == 80, "4-byte ending at the limit: %d", mg_clip(buf, 81, 80));
}

/*
 * The message of a long name is cut on a character boundary: a revision id
 * of 79 letters and an "é" is shown as 79 letters and "...".
 */
static void
test_shown_utf8(void)
{
	char		name[100];
	const char *specs[2];
	char		spec[128];
	MgError		err;
	bool		ok;
	MgGraph    *g;
	char		want[256];

	memset(name, 'a', 79);
	memcpy(name + 79, "\xc3\xa9", 3);
	snprintf(spec, sizeof(spec), "b:%s", name);
	specs[0] = "a";
	specs[1] = spec;
	g = build(specs, 2, &err, &ok);
	snprintf(want, sizeof(want), "down_revision \"%.79s...\" of revision \"b\" does not exist", name);
	CHECK(!ok && strcmp(err.message, want) == 0, "clipped name: \"%s\"", ok ? "" : err.message);
	mg_graph_free(g);
}

static void
test_wide_merge(void)
{
	int			n = 10000;
	MgGraph    *g = mg_graph_new();
	char	  **names = malloc(sizeof(char *) * n);
	MgRevInput	in;
	MgError		err;
	MgPlan		plan;
	MgList		rows = {NULL, 0};
	bool		ok;

	memset(&in, 0, sizeof(in));
	in.id = "root";
	mg_graph_add(g, &in);
	for (int i = 0; i < n; i++)
	{
		const char *down[1] = {"root"};

		names[i] = malloc(16);
		snprintf(names[i], 16, "b%d", i);
		in.id = names[i];
		in.down = down;
		in.ndown = 1;
		mg_graph_add(g, &in);
	}
	in.id = "merge";
	in.down = (const char *const *) names;
	in.ndown = n;
	mg_graph_add(g, &in);
	ok = mg_graph_finish(g, &err);
	CHECK(ok, "wide merge rejected");
	ok = mg_plan_upgrade(g, rows, "heads", &plan, &err);
	CHECK(ok && plan.nsteps == n + 2, "wide merge upgrade: %d steps", ok ? plan.nsteps : -1);
	CHECK(ok && plan.final_rows.n == 1, "wide merge leaves one row");
	if (ok)
	{
		ok = mg_plan_downgrade(g, plan.final_rows, "base", &plan, &err);
		CHECK(ok && plan.nsteps == n + 2 && plan.final_rows.n == 0,
			  "wide merge downgrade");
	}
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	mg_graph_free(g);
}

static void
test_rows(void)
{
	const char *specs[] = {"a", "b:a", "c:b"};
	MgError		err;
	bool		ok;
	MgGraph    *g = build(specs, 3, &err, &ok);
	const char *unknown[] = {"zz"};
	const char *redundant[] = {"a", "c"};
	MgList		rows;
	MgPlan		plan;

	ok = mg_resolve_rows(g, unknown, 1, &rows, &err);
	CHECK(!ok && err.code == MG_E_STATE &&
		  strcmp(err.message, "version table contains unrecognized revision \"zz\"") == 0,
		  "unrecognized row");
	ok = mg_resolve_rows(g, redundant, 2, &rows, &err);
	CHECK(ok, "redundant rows resolve");
	ok = mg_plan_upgrade(g, rows, "heads", &plan, &err);
	CHECK(!ok && err.code == MG_E_STATE, "redundant rows refused");
	mg_graph_free(g);
}

/*
 * Large shapes that once made the core quadratic: many revisions sharing
 * one dependency, a 40,000-head star, a merge ladder with a history range,
 * a 40,000-step branch walk.  Each must plan; results are checked.
 */
static void
test_large_shapes(void)
{
	int			n = 40000;
	MgGraph    *g = mg_graph_new();
	MgRevInput	in;
	MgError		err;
	MgPlan		plan;
	MgList		rows = {NULL, 0};
	MgList		hist;
	char		id[32],
				prev[32],
				other[32];
	const char *down[2] = {prev, other};
	const char *deps[1] = {"x"};
	bool		ok;

	/* x, then a chain whose every revision depends on x */
	memset(&in, 0, sizeof(in));
	in.id = "x";
	mg_graph_add(g, &in);
	for (int i = 0; i < n; i++)
	{
		snprintf(id, sizeof(id), "c%d", i);
		in.id = id;
		in.down = down;
		in.ndown = i > 0 ? 1 : 0;
		in.deps = deps;
		in.ndeps = 1;
		mg_graph_add(g, &in);
		strcpy(prev, id);
	}
	ok = mg_graph_finish(g, &err);
	CHECK(ok, "dependency chain rejected");
	CHECK(ok && mg_rev_normalized_down(g, 2).n == 1, "c1 keeps only its parent");
	CHECK(ok && mg_rev_normalized_down(g, 1).n == 1, "c0 keeps its dependency");
	ok = ok && mg_plan_upgrade(g, rows, "heads", &plan, &err);
	CHECK(ok && plan.nsteps == n + 1 && plan.final_rows.n == 1, "dependency chain upgrade");
	mg_graph_free(g);

	/* a star: one root, n - 1 heads */
	g = mg_graph_new();
	memset(&in, 0, sizeof(in));
	in.id = "root";
	mg_graph_add(g, &in);
	strcpy(prev, "root");
	for (int i = 1; i < n; i++)
	{
		snprintf(id, sizeof(id), "s%d", i);
		in.id = id;
		in.down = down;
		in.ndown = 1;
		mg_graph_add(g, &in);
	}
	ok = mg_graph_finish(g, &err);
	ok = ok && mg_plan_upgrade(g, rows, "heads", &plan, &err);
	CHECK(ok && plan.nsteps == n && plan.final_rows.n == n - 1, "star upgrade");
	CHECK(ok && plan.steps[0].rev == 0, "star: root first");
	if (ok)
	{
		ok = mg_plan_downgrade(g, plan.final_rows, "base", &plan, &err);
		CHECK(ok && plan.nsteps == n && plan.final_rows.n == 0, "star downgrade");
	}
	mg_graph_free(g);

	/* a merge ladder: m_i merges m_{i-1} and s_i, s_i a child of m_{i-1} */
	g = mg_graph_new();
	memset(&in, 0, sizeof(in));
	in.id = "m0";
	mg_graph_add(g, &in);
	for (int i = 1; i < n / 2; i++)
	{
		snprintf(prev, sizeof(prev), "m%d", i - 1);
		snprintf(id, sizeof(id), "s%d", i);
		in.id = id;
		in.down = down;
		in.ndown = 1;
		mg_graph_add(g, &in);
		strcpy(other, id);
		snprintf(id, sizeof(id), "m%d", i);
		in.id = id;
		in.ndown = 2;
		mg_graph_add(g, &in);
	}
	ok = mg_graph_finish(g, &err);
	ok = ok && mg_history(g, rows, "m0:", &hist, &err);
	CHECK(ok && hist.n == n - 1, "ladder history m0: lists %d", ok ? hist.n : -1);
	mg_graph_free(g);

	/* a 40,000-step walk along a labelled chain */
	g = chain(n);
	ok = mg_graph_finish(g, &err);
	ok = ok && mg_plan_upgrade(g, rows, "r0@+39999", &plan, &err);
	CHECK(ok && plan.nsteps == n - 1, "walk r0@+39999 from base reaches r39998");
	mg_graph_free(g);
}

/* ----------------------------------------------------------------
 * Branch label inheritance: the linear core against the reference model
 * ----------------------------------------------------------------
 */

static unsigned long rng_state = 12345;

static int
rnd(int n)
{
	rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
	return (int) ((rng_state >> 33) % (unsigned long) n);
}

/*
 * One random DAG: revisions created in an order where parents come first,
 * registered in a shuffled order (map order need not be topological), with
 * merges, branches, dependencies on ids and labels, and many labels.
 * Returns the number of label mismatches.
 */
static int
label_case(int n, int pdown, int pmerge, int pdep, int plabel, bool shuffle)
{
	char		ids[64][8];
	char		lnames[256][8];
	int			perm[64];
	int			created[64][3];
	int			ncreated[64];
	int			decl[64][4];
	int			ndecl[64];
	int			nl = 0;
	const char *downs[64][3];
	const char *deps[64][2];
	const char *labs[64][4];
	int			ndeps[64];
	MgGraph    *g = mg_graph_new();
	MgError		err;
	int			bad = 0;
	bool	   *ref;
	const int  *declp[64];
	int			declr[64][4];
	int			ndeclr[64];

	for (int i = 0; i < n; i++)
	{
		snprintf(ids[i], sizeof(ids[i]), "r%d", i);
		ncreated[i] = 0;
		if (i > 0 && rnd(100) < pdown)
		{
			created[i][ncreated[i]++] = i - 1 - rnd(i < 4 ? i : 4);
			while (ncreated[i] < 3 && rnd(100) < pmerge)
			{
				int			p = rnd(i);
				bool		dup = false;

				for (int k = 0; k < ncreated[i]; k++)
					dup |= created[i][k] == p;
				if (!dup)
					created[i][ncreated[i]++] = p;
			}
		}
		ndecl[i] = 0;
		while (ndecl[i] < 4 && nl < 256 && rnd(100) < plabel)
		{
			snprintf(lnames[nl], sizeof(lnames[nl]), "L%d", nl);
			decl[i][ndecl[i]++] = nl++;
		}
		ndeps[i] = 0;
		while (i > 0 && ndeps[i] < 2 && rnd(100) < pdep)
		{
			int			t = rnd(i);

			/* a dependency names an id or one of the target's labels */
			deps[i][ndeps[i]++] = ndecl[t] > 0 && rnd(2) ?
				lnames[decl[t][rnd(ndecl[t])]] : ids[t];
			if (ndeps[i] == 2 && strcmp(deps[i][0], deps[i][1]) == 0)
				ndeps[i]--;
		}
	}
	for (int i = 0; i < n; i++)
		perm[i] = i;
	if (shuffle)
		for (int i = n - 1; i > 0; i--)
		{
			int			j = rnd(i + 1);
			int			t = perm[i];

			perm[i] = perm[j];
			perm[j] = t;
		}
	/* map index k holds created revision perm[k] */
	for (int k = 0; k < n; k++)
	{
		int			c = perm[k];
		MgRevInput	in;

		for (int j = 0; j < ncreated[c]; j++)
			downs[c][j] = ids[created[c][j]];
		for (int j = 0; j < ndecl[c]; j++)
			labs[c][j] = lnames[decl[c][j]];
		memset(&in, 0, sizeof(in));
		in.id = ids[c];
		in.down = downs[c];
		in.ndown = ncreated[c];
		in.deps = deps[c];
		in.ndeps = ndeps[c];
		in.labels = labs[c];
		in.nlabels = ndecl[c];
		mg_graph_add(g, &in);
		ndeclr[k] = ndecl[c];
		for (int j = 0; j < ndecl[c]; j++)
			declr[k][j] = decl[c][j];
		declp[k] = declr[k];
	}
	if (!mg_graph_finish(g, &err))
	{
		printf("random graph invalid: %s\n", err.message);
		mg_graph_free(g);
		return 1;
	}
	ref = malloc(sizeof(bool) * (size_t) (n * (nl + 1) + 1));
	ref_inherit(g, declp, ndeclr, nl, ref);

	/* every revision's list, asked in a random order (the core keeps one) */
	for (int q = 0; q < 2 * n; q++)
	{
		int			x = q < n ? q : rnd(n);
		const char **got;
		int			ngot = mg_rev_labels(g, x, &got);
		int			want = 0;

		for (int l = 0; l < nl; l++)
			want += ref[x * nl + l];
		if (ngot != want)
			bad++;
		for (int i = 0; i < ngot; i++)
		{
			int			l = atoi(got[i] + 1);

			if (!ref[x * nl + l] || (i > 0 && strcmp(got[i - 1], got[i]) >= 0))
				bad++;
		}
	}
	/* has_label for every pair, label-major and revision-major */
	for (int l = 0; l < nl; l++)
		for (int x = 0; x < n; x++)
			bad += mg_rev_has_label(g, x, lnames[l]) != ref[x * nl + l];
	for (int x = 0; x < n; x++)
		for (int l = 0; l < nl; l++)
			bad += mg_rev_has_label(g, x, lnames[l]) != ref[x * nl + l];
	for (int x = 0; x < n; x++)
		bad += mg_rev_has_label(g, x, "nosuchlabel") || mg_rev_has_label(g, x, ids[0]);

	/* a kept graph: lists asked after a mark and again after its release */
	{
		MgArenaMark m;

		mg_graph_mark(g, &m);
		for (int r = 0; r < 3; r++)
		{
			for (int x = 0; x < n; x++)
			{
				const char **got;
				int			ngot = mg_rev_labels(g, x, &got);
				int			want = 0;

				for (int l = 0; l < nl; l++)
					want += ref[x * nl + l];
				bad += ngot != want;
				for (int i = 0; i < ngot; i++)
					bad += !ref[x * nl + atoi(got[i] + 1)];
			}
			mg_graph_release(g, &m);
		}
	}
	if (bad)
	{
		printf("label mismatch (n=%d, seed state %lu):\n", n, rng_state);
		for (int k = 0; k < n; k++)
		{
			MgList		down = mg_rev_down(g, k);
			MgList		dp = mg_rev_deps(g, k);

			printf("  %s down", mg_rev_id(g, k));
			for (int j = 0; j < down.n; j++)
				printf(" %s", mg_rev_id(g, down.items[j]));
			printf(" deps");
			for (int j = 0; j < dp.n; j++)
				printf(" %s", mg_rev_id(g, dp.items[j]));
			printf(" labels");
			for (int j = 0; j < ndeclr[k]; j++)
				printf(" L%d", declr[k][j]);
			printf(" ref");
			for (int l = 0; l < nl; l++)
				if (ref[k * nl + l])
					printf(" L%d", l);
			printf("\n");
		}
	}
	free(ref);
	mg_graph_free(g);
	return bad;
}

static void
test_label_inheritance(void)
{
	int			cases = 0;
	int			bad_cases = 0;

	/* shapes from chains to bushy merges, sparse to dense labels */
	static const int shapes[][4] = {
		{95, 5, 0, 30}, {95, 5, 10, 60}, {80, 20, 10, 40}, {70, 40, 30, 50},
		{100, 0, 0, 90}, {60, 10, 40, 20}, {90, 30, 20, 100}, {50, 50, 50, 70},
	};

	for (int s = 0; s < (int) (sizeof(shapes) / sizeof(shapes[0])); s++)
		for (int k = 0; k < 500; k++)
		{
			int			n = 1 + rnd(k < 250 ? 12 : 60);

			cases++;
			if (label_case(n, shapes[s][0], shapes[s][1], shapes[s][2],
						   shapes[s][3], k % 4 != 0) > 0)
				bad_cases++;
			if (bad_cases > 3)
				break;
		}
	CHECK(bad_cases == 0, "label inheritance differs from the reference model in %d of %d random graphs",
		  bad_cases, cases);
	printf("label inheritance: %d random graphs compared with the reference model\n", cases);
}

/*
 * Sizes where the old materialized sets were quadratic: a chain with one
 * label per revision, and one revision with many labels.  Each must take
 * well under a second even under the sanitizers.
 */
static void
test_label_scale(void)
{
	int			n = 50000;
	MgGraph    *g = mg_graph_new();
	MgError		err;
	char		id[32],
				down[32],
				lab[32];
	const char *dp[1] = {down};
	const char *lp[1] = {lab};
	const char **got;
	clock_t		t0 = clock();
	double		secs;
	bool		ok;
	int			nl;

	for (int i = 0; i < n; i++)
	{
		MgRevInput	in;

		snprintf(id, sizeof(id), "c%d", i);
		snprintf(down, sizeof(down), "c%d", i - 1);
		snprintf(lab, sizeof(lab), "l%d", i);
		memset(&in, 0, sizeof(in));
		in.id = id;
		in.down = dp;
		in.ndown = i > 0;
		in.labels = lp;
		in.nlabels = 1;
		mg_graph_add(g, &in);
	}
	ok = mg_graph_finish(g, &err);
	/* a chain is one segment: every revision carries every label */
	nl = ok ? mg_rev_labels(g, mg_lookup(g, "c0"), &got) : -1;
	CHECK(nl == n, "chain base carries %d labels", nl);
	nl = ok ? mg_rev_labels(g, mg_lookup(g, "c49999"), &got) : -1;
	CHECK(nl == n, "chain head carries %d labels", nl);
	CHECK(ok && mg_rev_has_label(g, mg_lookup(g, "c0"), "l49999") &&
		  mg_rev_has_label(g, mg_lookup(g, "c49999"), "l0"),
		  "chain base carries the head's label");
	secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
	CHECK(secs < 5, "labelled chain of %d took %.2f s", n, secs);
	mg_graph_free(g);

	/* one revision with 300,000 labels under a base */
	{
		int			nlab = 300000;
		char	  **names = malloc(sizeof(char *) * nlab);
		MgRevInput	in;
		const char *base = "b0";

		t0 = clock();
		g = mg_graph_new();
		memset(&in, 0, sizeof(in));
		in.id = "b0";
		mg_graph_add(g, &in);
		for (int i = 0; i < nlab; i++)
		{
			names[i] = malloc(16);
			snprintf(names[i], 16, "lab%d", i);
		}
		in.id = "big";
		in.down = &base;
		in.ndown = 1;
		in.labels = (const char *const *) names;
		in.nlabels = nlab;
		mg_graph_add(g, &in);
		ok = mg_graph_finish(g, &err);
		nl = ok ? mg_rev_labels(g, 0, &got) : -1;
		CHECK(nl == nlab, "base under the big revision carries %d labels", nl);
		CHECK(ok && nl > 1 && strcmp(got[0], "lab0") == 0 && strcmp(got[1], "lab1") == 0,
			  "labels sorted");
		CHECK(ok && mg_rev_has_label(g, 0, "lab299999"), "has_label on the big revision");
		secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
		CHECK(secs < 5, "revision with %d labels took %.2f s", nlab, secs);
		mg_graph_free(g);
		for (int i = 0; i < nlab; i++)
			free(names[i]);
		free(names);
	}
}

int
main(void)
{
	test_validation();
	test_normalized_deps();
	test_rows();
	test_long_chain();
	test_long_cycle();
	test_check_name();
	test_clip();
	test_shown_utf8();
	test_wide_merge();
	test_plan_reverse();
	test_large_shapes();
	test_label_inheritance();
	test_label_scale();
	printf("core unit tests: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
