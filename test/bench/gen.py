#!/usr/bin/python3
"""Synthetic revision histories for make bench.

Usage:
  gen.py history --shape linear|branched --n N --out DIR [--no-alembic]
  gen.py concat --dir DIR --order FILE
  gen.py heads-equal NAME=FILE NAME=FILE ...

history writes, for one shape and size, into DIR:

  index.tsv      one line per revision in registration order:
                 seq, revision, down_revisions, depends_on, branch_labels
                 (comma-separated, "-" for none)
  heads.txt      the heads the generator expects (sorted), one per line
  revs_ddl/      pg_migrate revision files, DDL bodies:
                 CREATE SEQUENCE s_<seq>; / DROP SEQUENCE s_<seq>;
  revs_ins/      the same history with trivial bodies:
                 INSERT INTO bench_t VALUES (<seq>); / DELETE ... WHERE id = <seq>;
  all_ddl.sql,   the bodies concatenated, in registration order (a
  all_ins.sql    topological order); run.sh rewrites them with "concat" in
                 the order our upgrade actually runs the steps
  alembic/       an Alembic project (alembic.ini, env.py reading the
                 SQLAlchemy URL from $BENCH_ALEMBIC_URL, versions/*.py with
                 op.execute() bodies, branch_labels, depends_on)

Shapes (N counts every revision, base and merge points included):

  linear    a chain: revision 0 is the base, revision i has parent i-1.
  branched  revision 0 is the base; revisions 1..20 are the roots of 20
            branches labelled br_00..br_19, each with the base as parent;
            after that revision i extends branch i % 20, except every 200th
            revision, a merge point of two branch tips (it continues the
            first branch; the second goes on from its old tip), and every
            50th revision (offset 25) also depends_on the current tip of
            another branch.

Revision ids are 12 hex digits (Alembic's style), derived from shape and
sequence number; file names are <seq, 6 digits>_<id>.sql (.py for Alembic),
so file order is registration order.

concat rewrites all_ddl.sql and all_ins.sql with the bodies in the order
listed in FILE (one revision id per line, as migrate_upgrade returned them).

heads-equal reads files of heads (one "id ..." per line; "effective" later
on the line marks an effective head) and fails unless all sets agree.

Run with /usr/bin/python3 (Debian's, which sees python3-alembic); the
generator itself needs only the standard library.
"""

import hashlib
import os
import re
import shutil
import sys

NBRANCH = 20
MERGE_EVERY = 200
DEP_EVERY = 50
DEP_OFFSET = 25


def rev_id(shape, seq):
    return hashlib.sha1(("%s-%d" % (shape, seq)).encode()).hexdigest()[:12]


def build(shape, n):
    """Return a list of dicts: seq, rev, down, deps, labels."""
    revs = []
    if shape == "linear":
        for i in range(n):
            revs.append(dict(seq=i, rev=rev_id(shape, i),
                             down=[revs[-1]["rev"]] if i else [],
                             deps=[], labels=[]))
        return revs
    if shape != "branched":
        raise SystemExit("unknown shape %r" % shape)
    tip = [None] * NBRANCH
    for i in range(n):
        r = dict(seq=i, rev=rev_id(shape, i), down=[], deps=[], labels=[])
        if i == 0:
            pass
        elif i <= NBRANCH:
            k = i - 1
            r["down"] = [revs[0]["rev"]]
            r["labels"] = ["br_%02d" % k]
            tip[k] = r["rev"]
        elif i % MERGE_EVERY == 0:
            a = (i // MERGE_EVERY) % NBRANCH
            b = (a + 7) % NBRANCH
            r["down"] = [tip[a], tip[b]]
            tip[a] = r["rev"]
        else:
            k = i % NBRANCH
            r["down"] = [tip[k]]
            if i % DEP_EVERY == DEP_OFFSET:
                other = tip[(k + 3) % NBRANCH]
                if other not in r["down"]:
                    r["deps"] = [other]
            tip[k] = r["rev"]
        revs.append(r)
    return revs


def heads_of(revs):
    """Heads, sorted; "(effective head)" after one that a revision depends on."""
    parents = set()
    needed = set()
    for r in revs:
        parents.update(r["down"])
        needed.update(r["deps"])
    return sorted(r["rev"] + (" (effective head)" if r["rev"] in needed else "")
                  for r in revs if r["rev"] not in parents)


def bodies(kind, seq):
    if kind == "ddl":
        return ("CREATE SEQUENCE s_%d;" % seq, "DROP SEQUENCE s_%d;" % seq)
    return ("INSERT INTO bench_t VALUES (%d);" % seq,
            "DELETE FROM bench_t WHERE id = %d;" % seq)


def fname(r, ext):
    return "%06d_%s.%s" % (r["seq"], r["rev"], ext)


def write_revfiles(revs, out, kind):
    d = os.path.join(out, "revs_" + kind)
    os.makedirs(d)
    for r in revs:
        up, down = bodies(kind, r["seq"])
        lines = ["-- migrate:revision " + r["rev"],
                 "-- migrate:down_revision " + (",".join(r["down"]) or "none")]
        if r["labels"]:
            lines.append("-- migrate:branch_labels " + ",".join(r["labels"]))
        if r["deps"]:
            lines.append("-- migrate:depends_on " + ",".join(r["deps"]))
        lines += ["-- migrate:message Revision %d." % r["seq"],
                  "-- migrate:upgrade", up,
                  "-- migrate:downgrade", down, ""]
        with open(os.path.join(d, fname(r, "sql")), "w") as f:
            f.write("\n".join(lines))


def write_concat(revs_by_id, order, path, kind):
    with open(path, "w") as f:
        for rev in order:
            f.write(bodies(kind, revs_by_id[rev]["seq"])[0] + "\n")


ALEMBIC_INI = """\
[alembic]
script_location = %(here)s
# the URL comes from $BENCH_ALEMBIC_URL (env.py)

[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARN
handlers = console
qualname =

[logger_sqlalchemy]
level = WARN
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
datefmt = %H:%M:%S
"""

ENV_PY = '''\
"""Alembic environment of a make bench history: Alembic's generic template,
with the database URL taken from $BENCH_ALEMBIC_URL."""
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

url = os.environ.get("BENCH_ALEMBIC_URL", "postgresql://")


def run_migrations_offline():
    context.configure(url=url, target_metadata=None, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
'''

SCRIPT_MAKO = '''\
"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
"""
from alembic import op

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    pass


def downgrade():
    pass
'''


def pytuple(items):
    if not items:
        return "None"
    if len(items) == 1:
        return repr(items[0])
    return "(" + ", ".join(repr(x) for x in items) + ")"


def write_alembic(revs, out):
    d = os.path.join(out, "alembic")
    v = os.path.join(d, "versions")
    os.makedirs(v)
    with open(os.path.join(d, "alembic.ini"), "w") as f:
        f.write(ALEMBIC_INI)
    with open(os.path.join(d, "env.py"), "w") as f:
        f.write(ENV_PY)
    with open(os.path.join(d, "script.py.mako"), "w") as f:
        f.write(SCRIPT_MAKO)
    for r in revs:
        up, down = bodies("ddl", r["seq"])
        text = ('"""Revision %d.\n\nRevision ID: %s\nRevises: %s\n"""\n'
                "from alembic import op\n\n"
                "revision = %r\n"
                "down_revision = %s\n"
                "branch_labels = %s\n"
                "depends_on = %s\n\n\n"
                "def upgrade():\n    op.execute(%r)\n\n\n"
                "def downgrade():\n    op.execute(%r)\n"
                % (r["seq"], r["rev"], ", ".join(r["down"]), r["rev"],
                   pytuple(r["down"]), pytuple(r["labels"]),
                   pytuple(r["deps"]), up.rstrip(";"), down.rstrip(";")))
        with open(os.path.join(v, fname(r, "py")), "w") as f:
            f.write(text)


def cmd_history(args):
    opts = dict(shape=None, n=None, out=None, alembic=True)
    it = iter(args)
    for a in it:
        if a == "--shape":
            opts["shape"] = next(it)
        elif a == "--n":
            opts["n"] = int(next(it))
        elif a == "--out":
            opts["out"] = next(it)
        elif a == "--no-alembic":
            opts["alembic"] = False
        else:
            raise SystemExit("unknown argument %r" % a)
    if not (opts["shape"] and opts["n"] and opts["out"]):
        raise SystemExit("history needs --shape, --n and --out")
    out = opts["out"]
    if os.path.exists(out):
        shutil.rmtree(out)
    os.makedirs(out)
    revs = build(opts["shape"], opts["n"])
    with open(os.path.join(out, "index.tsv"), "w") as f:
        for r in revs:
            f.write("%d\t%s\t%s\t%s\t%s\n" % (
                r["seq"], r["rev"], ",".join(r["down"]) or "-",
                ",".join(r["deps"]) or "-", ",".join(r["labels"]) or "-"))
    with open(os.path.join(out, "heads.txt"), "w") as f:
        f.write("".join(h + "\n" for h in heads_of(revs)))
    by_id = {r["rev"]: r for r in revs}
    order = [r["rev"] for r in revs]
    for kind in ("ddl", "ins"):
        write_revfiles(revs, out, kind)
        write_concat(by_id, order, os.path.join(out, "all_%s.sql" % kind), kind)
    if opts["alembic"]:
        write_alembic(revs, out)


def read_index(d):
    by_id = {}
    with open(os.path.join(d, "index.tsv")) as f:
        for line in f:
            seq, rev = line.split("\t")[:2]
            by_id[rev] = dict(seq=int(seq), rev=rev)
    return by_id


def cmd_concat(args):
    d = order_file = None
    it = iter(args)
    for a in it:
        if a == "--dir":
            d = next(it)
        elif a == "--order":
            order_file = next(it)
        else:
            raise SystemExit("unknown argument %r" % a)
    by_id = read_index(d)
    with open(order_file) as f:
        order = [line.strip() for line in f if line.strip()]
    if sorted(order) != sorted(by_id):
        raise SystemExit("%s: the order does not list every revision once "
                         "(%d listed, %d revisions)" % (order_file, len(order), len(by_id)))
    for kind in ("ddl", "ins"):
        write_concat(by_id, order, os.path.join(d, "all_%s.sql" % kind), kind)


HEAD_RE = re.compile(r"^\s*([A-Za-z0-9_]+)\b(.*)$")


def read_heads(path):
    heads = set()
    with open(path) as f:
        for line in f:
            m = HEAD_RE.match(line)
            if not m:
                continue
            rev, rest = m.group(1), m.group(2)
            heads.add(rev + (" (effective head)" if "effective" in rest else ""))
    return heads


def cmd_heads_equal(args):
    sets = []
    for a in args:
        name, _, path = a.partition("=")
        sets.append((name, read_heads(path)))
    ref_name, ref = sets[0]
    ok = True
    for name, s in sets[1:]:
        if s != ref:
            ok = False
            print("heads differ: %s has %d, %s has %d; only in %s: %s; only in %s: %s"
                  % (ref_name, len(ref), name, len(s), ref_name,
                     " ".join(sorted(ref - s)[:5]), name,
                     " ".join(sorted(s - ref)[:5])), file=sys.stderr)
    if not ok:
        sys.exit(1)
    print("%d heads, agreed by %s" % (len(ref), ", ".join(n for n, _ in sets)))


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "history":
        cmd_history(args)
    elif cmd == "concat":
        cmd_concat(args)
    elif cmd == "heads-equal":
        cmd_heads_equal(args)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
