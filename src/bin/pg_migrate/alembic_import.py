"""Render an Alembic project's revisions as SQL, for pg_migrate import-alembic.

pg_migrate runs this program with the interpreter the user names
(--python): the revision modules import the project's own code and types,
so they must run in the project's Python.  It needs nothing but the
Alembic and SQLAlchemy the project already uses.  It never writes files:
it prints what it found as records on standard output, and pg_migrate
(mg_alembic_import.c) writes the revision files, so that the file format
has one owner.

Offline (the default), each revision's upgrade() and downgrade() run
against a MigrationContext for PostgreSQL in "as_sql" mode, one body each.
The project's env.py is not run: it would add the version table's
statements and transaction statements, which pg_migrate's own executor
issues.  With --online URL, real Alembic upgrades an empty database from
base to heads and downgrades it back to base, and the SQL each revision
sent is taken from SQLAlchemy's cursor events, with its parameters
rendered as literals by the driver.

Records: each is a line "KEY LENGTH" followed by LENGTH bytes of UTF-8
and a newline.  A revision starts with "rev" and ends with "end"; between
them come "dir" (output subdirectory), "file" (file name), "source" (the
.py file), "down", "label", "dep" (repeated as needed), "message",
"transactional" (0 or 1), "upgrade" or "upgrade_problem", "downgrade" or
"downgrade_problem", and any number of "review" and "error" records.
After the revisions, one "head" record per head.  Exit status 0 when
records were printed (a revision that could not be rendered is a record,
not a failure), 2 when the project could not be read (the message is on
standard error).
"""

import argparse
import contextlib
import io
import os
import re
import sys
import traceback


def out(key, value):
    data = value.encode("utf-8", "surrogateescape")
    sys.stdout.buffer.write(b"%s %d\n" % (key.encode("ascii"), len(data)))
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.write(b"\n")


def fail(message):
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.exit(2)


def as_list(value):
    """A down_revision, branch_labels or depends_on value as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def first_line(doc):
    for line in (doc or "").splitlines():
        line = line.strip()
        if line:
            return line
    return ""


def error_text(exc):
    """The Python error: its type and message, then the traceback's last frames."""
    head = "%s: %s" % (type(exc).__name__, str(exc).strip().replace("\n", " "))
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return head, tb


def reason_for(exc, tb):
    """Why offline rendering failed, in words a reviewer can act on."""
    text = "%s %s" % (type(exc).__name__, exc)
    if "reflection.py" in tb or "inspection.py" in tb or "MockConnection" in text:
        return "it reflects the live database"
    if "NoneType" in text:
        return "it reads data through the connection (op.get_bind()), which offline mode does not have"
    if "literal" in text.lower():
        return "it uses a value SQLAlchemy cannot render as a literal"
    return "its Python code failed without a database connection"


class Layout:
    """Which version location each revision file is in, and its output directory."""

    def __init__(self, script, base):
        self.locations = []
        used = set()
        for loc in script._version_locations:
            loc = os.path.realpath(loc)
            rel = os.path.relpath(loc, base)
            if rel.startswith(os.pardir) or os.path.isabs(rel) or rel == os.curdir:
                rel = os.path.basename(loc) or "versions"
            name = rel
            n = 2
            while name in used:
                name = "%s_%d" % (rel, n)
                n += 1
            used.add(name)
            self.locations.append((loc, name))
        self.locations.sort(key=lambda x: -len(x[0]))

    def dir_of(self, path):
        path = os.path.realpath(path)
        for loc, name in self.locations:
            if path.startswith(loc + os.sep):
                sub = os.path.dirname(os.path.relpath(path, loc))
                return os.path.join(name, sub) if sub else name
        return "versions"


class Capture:
    """Statements of one body, and whether they ran in an autocommit block."""

    def __init__(self):
        self.statements = []
        self.autocommit = False
        self.in_block = False
        self.reads = []
        self.mark = 0

    def add(self, sql):
        sql = sql.strip()
        if sql:
            self.statements.append(sql)
            if self.in_block:
                self.autocommit = True

    def body(self):
        return "\n\n".join(self.statements)


def render_offline(script_dir, config, scripts):
    from alembic.runtime.environment import EnvironmentContext

    current = [None]

    env = EnvironmentContext(config, script_dir)
    with env:
        env.configure(dialect_name="postgresql", as_sql=True,
                      output_buffer=io.StringIO(), literal_binds=True)
        ctx = env.get_context()
        impl = ctx.impl

        def static_output(text):
            current[0].add(text)

        # autocommit_block() of offline mode ends the transaction with
        # emit_commit() and starts a new one with emit_begin(): those
        # mark the block instead of being statements
        def emit_commit():
            current[0].in_block = True

        def emit_begin():
            current[0].in_block = False

        impl.static_output = static_output
        impl.emit_commit = emit_commit
        impl.emit_begin = emit_begin

        from alembic.operations import Operations
        results = {}
        for sc in scripts:
            res = {}
            for phase in ("upgrade", "downgrade"):
                cap = Capture()
                current[0] = cap
                try:
                    fn = getattr(sc.module, phase)
                    with Operations.context(ctx):
                        fn()
                    res[phase] = cap
                except Exception as exc:
                    head, tb = error_text(exc)
                    res[phase] = (reason_for(exc, tb), head, tb)
            results[sc.revision] = res
        return results


def render_online(script_dir, config, scripts, url):
    import sqlalchemy as sa
    from alembic.runtime.environment import EnvironmentContext
    from alembic.runtime.migration import MigrationContext

    results = {sc.revision: {} for sc in scripts}
    current = [None]
    engine = sa.create_engine(url)

    def before_execute(conn, cursor, statement, parameters, context, executemany):
        cap = current[0]
        if cap is None:
            return
        cap.mark = len(cap.statements)
        if executemany:
            plist = list(parameters)
        else:
            plist = [parameters]
        for p in plist:
            if p:
                text = cursor.mogrify(statement, p)
                if isinstance(text, bytes):
                    text = text.decode(conn.dialect.encoding or "utf-8")
            else:
                text = statement
            text = text.strip()
            if not text.endswith(";"):
                text += ";"
            cap.add(text)

    def after_execute(conn, cursor, statement, parameters, context, executemany):
        cap = current[0]
        if cap is None:
            return
        # A statement that returned rows gave the revision data to act on:
        # the revision needs review.  A pure read (SELECT, SHOW) changes
        # nothing, so it is left out of the body.
        if cursor.description is not None:
            cap.reads.append(" ".join(statement.split())[:120])
            if re.match(r"\s*(select|show)\b", statement, re.I):
                del cap.statements[cap.mark:]

    sa.event.listen(engine, "before_cursor_execute", before_execute)
    sa.event.listen(engine, "after_cursor_execute", after_execute)

    orig_block = MigrationContext.autocommit_block

    @contextlib.contextmanager
    def autocommit_block(self):
        with orig_block(self):
            cap = current[0]
            if cap is not None:
                cap.in_block = True
            try:
                yield
            finally:
                if cap is not None:
                    cap.in_block = False

    MigrationContext.autocommit_block = autocommit_block

    by_module = {}
    for sc in scripts:
        for phase in ("upgrade", "downgrade"):
            fn = getattr(sc.module, phase, None)
            if fn is None:
                continue

            def wrapped(*a, _fn=fn, _rev=sc.revision, _phase=phase, **kw):
                cap = Capture()
                current[0] = cap
                try:
                    _fn(*a, **kw)
                except Exception as exc:
                    head, tb = error_text(exc)
                    results[_rev][_phase] = ("it failed when Alembic ran it online", head, tb)
                    raise
                finally:
                    current[0] = None
                results[_rev][_phase] = cap
            by_module[(sc.revision, phase)] = (sc.module, fn)
            setattr(sc.module, phase, wrapped)

    def run(target, upgrade):
        def fn(rev, context):
            if upgrade:
                return script_dir._upgrade_revs(target, rev)
            return script_dir._downgrade_revs(target, rev)

        env = EnvironmentContext(config, script_dir, fn=fn,
                                 destination_rev=target)
        with env, engine.connect() as connection:
            env.configure(connection=connection, transaction_per_migration=True)
            with env.begin_transaction():
                env.run_migrations()

    failed = None
    try:
        run("heads", True)
    except Exception as exc:
        failed = exc
    if failed is None:
        try:
            run("base", False)
        except Exception as exc:
            failed = exc
    for (rev, phase), (module, fn) in by_module.items():
        setattr(module, phase, fn)
    MigrationContext.autocommit_block = orig_block
    for sc in scripts:
        for phase in ("upgrade", "downgrade"):
            if phase in results[sc.revision]:
                continue
            if failed is not None:
                head, tb = error_text(failed)
                results[sc.revision][phase] = (
                    "it did not run: Alembic stopped at an earlier failure", head, tb)
            else:
                results[sc.revision][phase] = (
                    "Alembic did not run it", "", "")
    engine.dispose()
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-c", "--config", default="alembic.ini")
    ap.add_argument("--script-location")
    ap.add_argument("--version-location", action="append", default=[])
    ap.add_argument("--online", metavar="URL")
    args = ap.parse_args()

    try:
        from alembic.config import Config
        from alembic.script import ScriptDirectory
    except ImportError as exc:
        fail("could not import Alembic with %s: %s" % (sys.executable, exc))

    have_ini = os.path.isfile(args.config)
    if not have_ini and not args.script_location:
        fail("configuration file \"%s\" does not exist" % args.config)
    config = Config(args.config if have_ini else None)
    base = os.path.dirname(os.path.abspath(args.config)) if have_ini else os.getcwd()
    if have_ini:
        # relative paths of alembic.ini are relative to the current
        # directory for Alembic; the usual case is running from the
        # file's directory
        here = base
        config.set_main_option("here", here)
    if args.script_location:
        config.set_main_option("script_location", args.script_location)
    if args.version_location:
        sep = " "
        config.set_main_option("version_path_separator", "space")
        config.set_main_option("version_locations",
                               sep.join(args.version_location))
    if not config.get_main_option("script_location"):
        fail("no script_location in \"%s\"" % args.config)

    try:
        script_dir = ScriptDirectory.from_config(config)
        scripts = list(script_dir.walk_revisions())
        heads = script_dir.get_heads()
    except Exception as exc:
        fail("could not read the Alembic scripts: %s: %s" % (type(exc).__name__, exc))
    # Alembic's map order (version locations in order, each directory's
    # files in the order Alembic read them) breaks ties between branches
    # in its step order; pg_migrate breaks them by registration order.  The
    # records come in map order, and the files are named by it, so that
    # loading the directories in the order they come registers the
    # revisions in the same order.
    position = {}
    for key, rev in script_dir.revision_map._revision_map.items():
        if rev is not None and key == rev.revision and key not in position:
            position[key] = len(position)
    scripts.sort(key=lambda sc: position.get(sc.revision, len(position)))

    layout = Layout(script_dir, base)
    if args.online:
        results = render_online(script_dir, config, scripts, args.online)
    else:
        results = render_offline(script_dir, config, scripts)

    for sc in scripts:
        mod = sc.module
        out("rev", sc.revision)
        out("dir", layout.dir_of(sc.path))
        out("file", "%04d_%s.sql" % (position.get(sc.revision, len(position)) + 1,
                                      re.sub(r"\.pyc?$", "", os.path.basename(sc.path))))
        out("source", os.path.relpath(sc.path, base))
        for d in as_list(getattr(mod, "down_revision", None)):
            out("down", d)
        for lbl in as_list(getattr(mod, "branch_labels", None)):
            out("label", lbl)
        for d in as_list(getattr(mod, "depends_on", None)):
            out("dep", d)
        out("message", first_line(mod.__doc__))
        res = results[sc.revision]
        autocommit = False
        for phase in ("upgrade", "downgrade"):
            r = res[phase]
            if isinstance(r, Capture):
                out(phase, r.body())
                autocommit = autocommit or r.autocommit
                if r.reads:
                    n = len(r.reads)
                    out("review", "%s read data with %d statement%s (the first: %s)"
                        % (phase, n, "" if n == 1 else "s", r.reads[0]))
            else:
                reason, head, tb = r
                out(phase + "_problem", "%s: %s" % (reason, head) if head else reason)
                if tb:
                    out(phase + "_error", tb)
        out("transactional", "0" if autocommit else "1")
        out("end", "")
    for h in heads:
        out("head", h)
    return 0


if __name__ == "__main__":
    sys.exit(main())
