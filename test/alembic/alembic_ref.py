#!/usr/bin/python3
"""Run a revision-history fixture through real Alembic and print a transcript.

Usage: /usr/bin/python3 alembic_ref.py FIXTURE.hist

The fixture (see README.md) lists revisions in registration order, then
commands.  A throwaway Alembic environment is built in a temporary directory:
one script file per revision, named 0001_<rev>.py, 0002_<rev>.py, ... and
loaded in that (sorted) order, so that Alembic's map insertion order equals
the fixture order.  Commands run online against a throwaway SQLite database,
so the real alembic_version table is maintained by Alembic itself.

This must run under Debian's /usr/bin/python3, which sees python3-alembic
(1.8.1) and python3-sqlalchemy.
"""

import io
import os
import re
import shutil
import sys
import tempfile
import traceback
import warnings

sys.dont_write_bytecode = True

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from alembic.script.base import Script  # noqa: E402


class FixtureError(Exception):
    """A malformed fixture file; this aborts the run (exit status 2)."""


# ---------------------------------------------------------------------------
# Fixture parsing

REV_KEYS = ("down", "deps", "labels", "message")
COMMANDS = ("upgrade", "downgrade", "stamp", "history", "heads", "current",
            "labels")
ID_RE = re.compile(r"^[A-Za-z0-9_]+$")


def _split_list(where, key, value):
    items = value.split(",")
    for item in items:
        if not ID_RE.match(item):
            raise FixtureError("%s: bad %s entry %r" % (where, key, item))
    if len(set(items)) != len(items):
        raise FixtureError("%s: repeated %s entry" % (where, key))
    return items


def parse_fixture(path):
    """Return (revisions, commands) from a .hist file.

    revisions: list of dicts {rev, down, deps, labels, message}
    commands:  list of (line_no, text, argv)
    """
    revs = []
    cmds = []
    with open(path, encoding="utf-8") as f:
        for no, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            where = "%s:%d" % (os.path.basename(path), no)
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if line != line.strip():
                raise FixtureError("%s: leading/trailing whitespace" % where)
            kind, _, rest = line.partition(" ")
            if kind == "rev":
                if cmds:
                    raise FixtureError("%s: rev after cmd" % where)
                revs.append(_parse_rev(where, rest))
            elif kind == "cmd":
                argv = rest.split()
                if not argv or argv[0] not in COMMANDS:
                    raise FixtureError("%s: unknown command %r" % (where, rest))
                _check_cmd(where, argv)
                cmds.append((no, " ".join(argv), argv))
            else:
                raise FixtureError("%s: line must start with rev or cmd" % where)
    seen = set()
    for r in revs:
        if r["rev"] in seen:
            raise FixtureError("revision %s declared twice" % r["rev"])
        seen.add(r["rev"])
    return revs, cmds


def _parse_rev(where, rest):
    head, sep, message = rest.partition(" message=")
    if rest.startswith("message="):
        raise FixtureError("%s: rev without id" % where)
    tokens = head.split(" ")
    if not tokens or not tokens[0] or "=" in tokens[0]:
        raise FixtureError("%s: rev without id" % where)
    rev = {"rev": tokens[0], "down": [], "deps": [], "labels": [],
           "message": message if sep else None}
    if not ID_RE.match(rev["rev"]):
        raise FixtureError("%s: bad revision id %r" % (where, rev["rev"]))
    seen = set()
    for tok in tokens[1:]:
        key, eq, value = tok.partition("=")
        if not eq or key not in REV_KEYS or key == "message" or not value:
            raise FixtureError("%s: bad attribute %r" % (where, tok))
        if key in seen:
            raise FixtureError("%s: %s given twice" % (where, key))
        seen.add(key)
        rev[key] = _split_list(where, key, value)
    return rev


def _check_cmd(where, argv):
    name, args = argv[0], argv[1:]
    if name in ("upgrade", "downgrade"):
        ok = len(args) == 1
    elif name == "stamp":
        targets = [a for a in args if a != "--purge"]
        ok = len(targets) >= 1 and args.count("--purge") <= 1 and \
            (args[-1] == "--purge" or "--purge" not in args)
    elif name == "history":
        ok = len(args) <= 1
    else:
        ok = not args
    if not ok:
        raise FixtureError("%s: bad arguments for %s" % (where, name))


# ---------------------------------------------------------------------------
# The temporary Alembic environment

ENV_PY = '''\
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()
'''

SCRIPT_PY = '''\
{doc!r}
import os

from alembic import context

revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {deps!r}


def _record(kind):
    context.config.attributes["steps"].append((kind, revision))
    # Self-test hook: ALEMBIC_REF_FAIL=upgrade:<rev> makes that step fail.
    if os.environ.get("ALEMBIC_REF_FAIL") == kind + ":" + revision:
        raise RuntimeError("ALEMBIC_REF_FAIL " + kind + ":" + revision)


def upgrade():
    _record("upgrade")


def downgrade():
    _record("downgrade")
'''


def _tuple_or_none(items, scalar_if_one):
    if not items:
        return None
    if len(items) == 1 and scalar_if_one:
        return items[0]
    return tuple(items)


def write_environment(tmp, revs):
    script_dir = os.path.join(tmp, "scripts")
    versions = os.path.join(script_dir, "versions")
    os.makedirs(versions)
    with open(os.path.join(script_dir, "env.py"), "w") as f:
        f.write(ENV_PY)
    with open(os.path.join(script_dir, "script.py.mako"), "w") as f:
        f.write("# unused\n")
    for i, r in enumerate(revs, 1):
        text = SCRIPT_PY.format(
            doc=r["message"] if r["message"] is not None else r["rev"],
            rev=r["rev"],
            down=_tuple_or_none(r["down"], True),
            labels=_tuple_or_none(r["labels"], False),
            deps=_tuple_or_none(r["deps"], True),
        )
        name = "%04d_%s.py" % (i, r["rev"])
        with open(os.path.join(versions, name), "w") as f:
            f.write(text)
    return script_dir


def _sorted_list_py_dir(cls, scriptdir, path):
    # Alembic 1.8 loads scripts in os.listdir() order; make it the fixture's
    # order (the files are numbered) so the map insertion order is defined.
    return sorted(_orig_list_py_dir.__func__(cls, scriptdir, path))


_orig_list_py_dir = Script._list_py_dir
Script._list_py_dir = classmethod(_sorted_list_py_dir)


def make_engine(db_path):
    engine = sa.create_engine("sqlite:///%s" % db_path)

    # pysqlite by default neither BEGINs before DDL nor keeps DDL inside the
    # transaction; take control so that everything a command does (CREATE
    # TABLE alembic_version included) is rolled back on error.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN")

    return engine


def read_rows(conn):
    if not sa.inspect(conn).has_table("alembic_version"):
        return []
    return sorted(r[0] for r in
                  conn.exec_driver_sql("SELECT version_num FROM alembic_version"))


# ---------------------------------------------------------------------------
# Commands

def history_revisions(config, rev_range):
    """Revisions listed by `alembic history [-r RANGE]`, in its order.

    Runs command.history itself and takes the revision id out of each line
    ("<parents> -> <rev> ..."); ids never contain ' ', ',' or '-'.
    """
    buf = io.StringIO()
    config.stdout = buf
    try:
        command.history(config, rev_range)
    finally:
        config.stdout = sys.stdout
    out = []
    for line in buf.getvalue().splitlines():
        if not line.strip():
            continue
        _, arrow, rest = line.partition(" -> ")
        if not arrow:
            raise RuntimeError("unparsable history line %r" % line)
        out.append(re.split(r"[ ,]", rest, 1)[0])
    return out


def run_command(config, conn, argv, emit):
    name, args = argv[0], argv[1:]
    steps = config.attributes["steps"]
    if name in ("upgrade", "downgrade"):
        getattr(command, name)(config, args[0])
    elif name == "stamp":
        purge = "--purge" in args
        targets = [a for a in args if a != "--purge"]
        command.stamp(config, targets if len(targets) > 1 else targets[0],
                      purge=purge)
    elif name == "heads":
        script = ScriptDirectory.from_config(config)
        rmap = script.revision_map
        for rev in rmap.heads:
            kind = "head" if rmap.get_revision(rev)._is_real_head else "effective"
            emit("out %s %s" % (rev, kind))
    elif name == "current":
        script = ScriptDirectory.from_config(config)
        rows = MigrationContext.configure(conn).get_current_heads()
        for rev in sorted(r.revision for r in script.get_all_current(rows)):
            emit("out %s" % rev)
    elif name == "history":
        for rev in history_revisions(config, args[0] if args else None):
            emit("out %s" % rev)
    elif name == "labels":
        # Extra: the inherited branch_labels of every revision, map order.
        script = ScriptDirectory.from_config(config)
        for rev in script.revision_map.get_revisions(_map_order(script)):
            emit(" ".join(["out", rev.revision] + sorted(rev.branch_labels)))
    else:  # pragma: no cover - parse_fixture rejects it
        raise AssertionError(name)
    for kind, rev in steps:
        emit("step %s %s" % (kind, rev))


def _map_order(script):
    """Revision ids in map insertion order (= fixture order)."""
    rmap = script.revision_map._revision_map
    out = []
    for key, rev in rmap.items():
        if rev is not None and rev.revision == key and key not in out:
            out.append(key)
    return out


def one_line(text):
    return " ".join(str(text).split())


def run(path, out):
    revs, cmds = parse_fixture(path)

    def emit(line):
        out.write(line + "\n")

    tmp = tempfile.mkdtemp(prefix="alembic_ref_")
    try:
        script_dir = write_environment(tmp, revs)
        config = Config()
        config.set_main_option("script_location", script_dir)
        engine = make_engine(os.path.join(tmp, "db.sqlite"))
        with engine.connect() as conn:
            config.attributes["connection"] = conn
            for no, text, argv in cmds:
                emit("> " + text)
                config.attributes["steps"] = []
                pending = []  # output held back until the command succeeds
                before = read_rows(conn)
                failed = False
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    trans = conn.begin()
                    try:
                        run_command(config, conn, argv, pending.append)
                    except Exception as exc:  # noqa: BLE001 - any error counts
                        trans.rollback()
                        failed = True
                        msg = one_line(exc)
                        if type(exc).__name__ != "CommandError":
                            msg = "%s: %s" % (type(exc).__name__, msg) \
                                if msg else type(exc).__name__
                        emit("error " + msg)
                        if os.environ.get("ALEMBIC_REF_TRACE"):
                            traceback.print_exc()
                    else:
                        trans.commit()
                        for line in pending:
                            emit(line)
                for w in caught:
                    sys.stderr.write("%s:%d: %s: warning: %s\n" % (
                        os.path.basename(path), no,
                        w.category.__name__, one_line(w.message)))
                after = read_rows(conn)
                if failed and after != before:
                    raise RuntimeError(
                        "%s:%d: version table changed by a failed command "
                        "(%s -> %s)" % (path, no, before, after))
                if argv[0] in ("upgrade", "downgrade", "stamp"):
                    emit(" ".join(["rows"] + after))
        engine.dispose()
    finally:
        shutil.rmtree(tmp)


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: /usr/bin/python3 %s FIXTURE.hist\n" % argv[0])
        return 2
    out = io.StringIO()
    try:
        run(argv[1], out)
    except FixtureError as exc:
        sys.stderr.write("fixture error: %s\n" % exc)
        return 2
    sys.stdout.write(out.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
