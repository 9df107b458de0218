#!/usr/bin/python3
"""Summarize make bench's raw samples: results.csv, results.md, bench.png.

Usage: report.py --samples FILE --meta FILE --notes FILE --out DIR

samples: shape,n,metric,rep,value (one line per measurement)
meta:    key=value lines (date, machine, versions, wall time)
notes:   free text lines (skipped runs, settings)
"""

import csv
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import defaultdict

# metric: (unit, label, what the figure includes)
METRICS = [
    ("heads_ms", "ms", "migrate_heads()",
     "server: SELECT count(*) FROM migrate_heads(), first call in a fresh backend "
     "(library preloaded), clock_timestamp() around EXECUTE"),
    ("heads_2nd_ms", "ms", "migrate_heads(), 2nd call",
     "server: the same, second call in the same backend"),
    ("noop_ms", "ms", "no-op migrate_upgrade('heads')",
     "server: SELECT count(*) FROM migrate_upgrade('heads') at head (pure planning), "
     "first call in a fresh backend"),
    ("noop_2nd_ms", "ms", "no-op upgrade, 2nd call",
     "server: the same, second call in the same backend"),
    ("heads_mem_kb", "kB", "peak memory, migrate_heads()",
     "backend peak RSS growth during the first call (VmHWM reset before, minus VmRSS "
     "before, minus shared buffers newly mapped (RssShmem growth))"),
    ("noop_mem_kb", "kB", "peak memory, no-op upgrade",
     "the same for the no-op migrate_upgrade('heads')"),
    ("heads_2nd_mem_kb", "kB", "peak memory, migrate_heads(), 2nd call",
     "the same measure on the second call (memory the first call left to malloc is reused)"),
    ("noop_2nd_mem_kb", "kB", "peak memory, no-op upgrade, 2nd call", "idem"),
    ("up_ddl_ours_s", "s", "ours: upgrade heads, DDL",
     "wall: psql -X -q -c \"SELECT count(*) FROM migrate_upgrade('heads')\" from empty, "
     "revisions loaded (CREATE SEQUENCE bodies); connection included"),
    ("up_ddl_psql_s", "s", "psql -1 -f, DDL",
     "wall: psql -X -q -1 -f all.sql, the same bodies in our step order, empty database; "
     "connection included"),
    ("up_ins_ours_s", "s", "ours: upgrade heads, INSERT",
     "wall: as above, one-row INSERT bodies"),
    ("up_ins_psql_s", "s", "psql -1 -f, INSERT", "wall: as above, one-row INSERT bodies"),
    ("down_s", "s", "ours: downgrade base",
     "wall: psql -c \"SELECT count(*) FROM migrate_downgrade('base')\" from heads (DROP SEQUENCE bodies)"),
    ("stamp_s", "s", "ours: stamp heads",
     "wall: psql -c \"SELECT count(*) FROM migrate_stamp('heads')\" from empty"),
    ("load_s", "s", "pg_migrate load",
     "wall: pg_migrate load DIR of N files into a database with the extension and no revisions"),
    ("reload_s", "s", "pg_migrate load, again",
     "wall: the same files again (all unchanged)"),
    ("check_s", "s", "pg_migrate check", "wall: pg_migrate check DIR (offline)"),
    ("heads_cli_s", "s", "pg_migrate heads", "wall: pg_migrate heads (connection included)"),
    ("al_heads_s", "s", "alembic heads",
     "wall: python3 -m alembic heads (offline; versions/__pycache__ warm)"),
    ("al_up_s", "s", "alembic upgrade heads",
     "wall: python3 -m alembic upgrade heads from empty (psycopg2, one transaction)"),
    ("al_sql_s", "s", "alembic upgrade heads --sql",
     "wall: python3 -m alembic upgrade heads --sql > file (offline script)"),
]
INFO = {m[0]: m for m in METRICS}

# ratio name: (numerator, denominator, label)
RATIOS = [
    ("ratio_ddl_ours_psql", "up_ddl_ours_s", "up_ddl_psql_s", "ours / psql -1 -f, DDL bodies"),
    ("ratio_ins_ours_psql", "up_ins_ours_s", "up_ins_psql_s", "ours / psql -1 -f, INSERT bodies"),
    ("ratio_al_heads", "al_heads_s", "heads_cli_s", "alembic heads / pg_migrate heads"),
    ("ratio_al_up", "al_up_s", "up_ddl_ours_s", "alembic upgrade heads / ours upgrade"),
    ("ratio_al_sql", "al_sql_s", "stamp_s", "alembic upgrade --sql / ours stamp heads"),
]


def read_samples(path):
    """{(shape, n, metric): {rep: value}}"""
    data = defaultdict(dict)
    with open(path) as f:
        for row in csv.DictReader(f):
            data[(row["shape"], int(row["n"]), row["metric"])][int(row["rep"])] = float(row["value"])
    return data


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    return meta


def fmt(v, unit):
    if v is None:
        return "–"
    if unit == "kB":
        return "%.1f MB" % (v / 1024)
    if unit == "ms":
        return "%.1f ms" % v if v < 100 else "%.0f ms" % v
    if unit == "x":
        return "%.2fx" % v
    if v < 1:
        return "%.0f ms" % (v * 1000)
    if v < 10:
        return "%.2f s" % v
    return "%.1f s" % v


def main():
    args = dict(zip(sys.argv[1::2], sys.argv[2::2]))
    data = read_samples(args["--samples"])
    meta = read_meta(args["--meta"])
    notes = [l.rstrip("\n") for l in open(args["--notes"]) if l.strip()]
    out = args["--out"]
    os.makedirs(out, exist_ok=True)

    shapes = []
    sizes = sorted({k[1] for k in data})
    for k in data:
        if k[0] not in shapes:
            shapes.append(k[0])
    shapes.sort(key=lambda s: (s != "linear", s))

    med = {}
    for k, vs in data.items():
        med[k] = statistics.median(vs.values())

    def m(shape, n, metric):
        return med.get((shape, n, metric))

    def ratio(shape, n, num, den):
        """Median of the ratios of each repetition (the two runs were made
        back to back), else the ratio of the medians."""
        a, b = data.get((shape, n, num), {}), data.get((shape, n, den), {})
        pairs = [a[r] / b[r] for r in a if r in b and b[r]]
        if pairs:
            return statistics.median(pairs)
        x, y = m(shape, n, num), m(shape, n, den)
        return x / y if x is not None and y else None

    # ---- CSV
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["shape", "n", "metric", "unit", "median", "min", "max", "reps", "what"])
        for shape in shapes:
            for n in sizes:
                for metric, unit, _, what in METRICS:
                    vs = list(data.get((shape, n, metric), {}).values())
                    if not vs:
                        continue
                    w.writerow([shape, n, metric, unit, "%.6g" % statistics.median(vs),
                                "%.6g" % min(vs), "%.6g" % max(vs), len(vs), what])
                for name, num, den, label in RATIOS:
                    r = ratio(shape, n, num, den)
                    if r is not None:
                        w.writerow([shape, n, name, "x", "%.4g" % r, "", "", "",
                                    label + " (median of the ratios of each repetition)"])

    # ---- Markdown
    L = []
    L.append("# make bench results")
    L.append("")
    L.append("- date: %s; wall time of the run: %s s" % (meta.get("date"), meta.get("wall_s")))
    L.append("- machine: %s, %s cores, %s RAM, %s (load average at the start: %s, at the end: %s)"
             % (meta.get("cpu"), meta.get("cores"), meta.get("ram"), meta.get("kernel"),
                meta.get("load0"), meta.get("load")))
    L.append("- server: %s; a throwaway cluster made by initdb with default settings "
             "(fsync, synchronous_commit and full_page_writes on, shared_buffers 128MB), "
             "except max_locks_per_transaction = %s"
             % (meta.get("postgres"), meta.get("max_locks_per_transaction")))
    L.append("- code: %s" % meta.get("code"))
    L.append("- peers: psql -1 -f; %s" % meta.get("alembic"))
    L.append("- sizes %s, shapes %s; every figure is the median of %s repetitions"
             % (meta.get("sizes"), meta.get("shapes"), meta.get("repeat")))
    L.append("")
    L.append("Histories (test/bench/gen.py): *linear* is a chain of N revisions; "
             "*branched* is one base, 20 labelled branches rooted on it, a merge point every "
             "200 revisions and a cross-branch depends_on every 50. Bodies: "
             "`CREATE SEQUENCE s_<i>;` / `DROP SEQUENCE s_<i>;` (DDL), or "
             "`INSERT INTO bench_t VALUES (<i>);` (trivial).")
    L.append("")
    if notes:
        L.append("Notes:")
        L.append("")
        for note in notes:
            L.append("- " + note)
        L.append("")

    def table(title, cols, intro=None):
        L.append("## " + title)
        L.append("")
        if intro:
            L.append(intro)
            L.append("")
        L.append("| shape | N | " + " | ".join(c[0] for c in cols) + " |")
        L.append("| --- | ---: | " + " | ".join("---:" for _ in cols) + " |")
        for shape in shapes:
            for n in sizes:
                cells = []
                for _, fn in cols:
                    cells.append(fn(shape, n))
                if all(c == "–" for c in cells):
                    continue
                L.append("| %s | %s | %s |" % (shape, "{:,}".format(n), " | ".join(cells)))
        L.append("")

    def best_ratio(shape, n, num, den):
        a, b = data.get((shape, n, num)), data.get((shape, n, den))
        if not a or not b or not min(b.values()):
            return None
        return min(a.values()) / min(b.values())

    def col(metric):
        unit = INFO[metric][1]
        return lambda s, n: fmt(m(s, n, metric), unit)

    def rcol(num, den):
        return lambda s, n: fmt(ratio(s, n, num, den), "x")

    def bcol(num, den):
        return lambda s, n: fmt(best_ratio(s, n, num, den), "x")

    table("Planning (server side)", [
        ("migrate_heads()", col("heads_ms")),
        ("2nd call", col("heads_2nd_ms")),
        ("no-op migrate_upgrade('heads')", col("noop_ms")),
        ("2nd call", col("noop_2nd_ms")),
        ("peak memory, heads", col("heads_mem_kb")),
        ("peak memory, no-op upgrade", col("noop_mem_kb")),
    ], "Server-side time of `SELECT count(*) FROM ...` in a fresh backend (the "
       "library loaded beforehand, the catalog pages in shared buffers), measured with "
       "clock_timestamp() around a PL/pgSQL EXECUTE; \"2nd call\" is the next call in the "
       "same backend. Peak memory: the backend's peak RSS growth during the first call "
       "(VmHWM, reset just before through /proc/self/clear_refs, minus VmRSS before), "
       "less the shared memory it mapped meanwhile (RssShmem growth: shared buffers, "
       "not the backend's own). The no-op upgrade runs at head.")
    table("Execution (wall clock, client side)", [
        ("ours, DDL", col("up_ddl_ours_s")),
        ("psql -1 -f, DDL", col("up_ddl_psql_s")),
        ("ours / psql", rcol("up_ddl_ours_s", "up_ddl_psql_s")),
        ("best / best", bcol("up_ddl_ours_s", "up_ddl_psql_s")),
        ("ours, INSERT", col("up_ins_ours_s")),
        ("psql -1 -f, INSERT", col("up_ins_psql_s")),
        ("ours / psql", rcol("up_ins_ours_s", "up_ins_psql_s")),
        ("best / best", bcol("up_ins_ours_s", "up_ins_psql_s")),
        ("downgrade base", col("down_s")),
        ("stamp heads", col("stamp_s")),
    ], "Ours: `psql -X -q -c \"SELECT count(*) FROM migrate_upgrade('heads')\"` from an "
       "empty version table, the revisions loaded beforehand (not timed), the NOTICE of "
       "each step printed by psql to a file. psql: `psql -X -q -1 -f all.sql`, the same "
       "bodies concatenated in the order our upgrade runs them, in an empty database. "
       "Both start after VACUUM ANALYZE and CHECKPOINT in a fresh database and include "
       "connecting; they run back to back (with Alembic's upgrade, for DDL bodies), "
       "the first one changing at each repetition; \"ours / psql\" is the median of the "
       "ratios of each repetition, \"best / best\" the ratio of the fastest runs "
       "(on a shared machine, the least disturbed estimate). Downgrade: `migrate_downgrade('base')` from heads (DROP SEQUENCE "
       "bodies); stamp: `migrate_stamp('heads')` from empty.")
    table("pg_migrate (wall clock)", [
        ("load", col("load_s")),
        ("load again (unchanged)", col("reload_s")),
        ("check (offline)", col("check_s")),
        ("pg_migrate heads", col("heads_cli_s")),
    ], "`pg_migrate load DIR` of the N DDL revision files into a database that has the "
       "extension and no revisions; again with the same files; `pg_migrate check DIR` "
       "(no database); `pg_migrate heads` (connect, migrate_heads(), print).")
    if any(k[2].startswith("al_") for k in data):
        table("Alembic 1.8 (wall clock)", [
            ("alembic heads", col("al_heads_s")),
            ("/ pg_migrate heads", rcol("al_heads_s", "heads_cli_s")),
            ("alembic upgrade heads", col("al_up_s")),
            ("/ ours upgrade", rcol("al_up_s", "up_ddl_ours_s")),
            ("alembic upgrade heads --sql", col("al_sql_s")),
            ("/ ours stamp heads", rcol("al_sql_s", "stamp_s")),
        ], "`python3 -m alembic heads` (offline), `upgrade heads` (online, psycopg2, one "
           "transaction, from an empty database, Alembic's default INFO log of each step) "
           "and `upgrade heads --sql` (offline script to a file), on the same histories "
           "with op.execute() DDL bodies. Ratios are Alembic / ours: alembic heads against "
           "pg_migrate heads, upgrade against our upgrade with DDL bodies, and the offline "
           "script (planning and writing every step, no body run) against migrate_stamp('heads') "
           "(planning and writing the version table, no body run).")

    # ---- targets
    big = max(sizes)

    def tgt(label, value, ok, shown):
        status = "not measured" if value is None else ("met" if ok else "**missed**")
        L.append("| %s | %s | %s |" % (label, shown, status))

    L.append("## Targets")
    L.append("")
    L.append("| target | measured | |")
    L.append("| --- | --- | --- |")
    if True:
        for metric, label in (("heads_ms", "migrate_heads() < 50 ms"),
                              ("noop_ms", "no-op migrate_upgrade('heads') < 50 ms")):
            v = m("branched", 100000, metric)
            v2 = m("branched", 100000, metric.replace("_ms", "_2nd_ms"))
            tgt("branched 100,000: " + label, v, v is not None and v < 50,
                "%s (2nd call %s)" % (fmt(v, "ms"), fmt(v2, "ms")))
        for metric, label in (("heads_mem_kb", "migrate_heads()"),
                              ("noop_mem_kb", "no-op upgrade")):
            v = m("branched", 100000, metric)
            tgt("branched 100,000: %s backend memory < 64 MB" % label, v,
                v is not None and v < 64 * 1024, fmt(v, "kB"))
    if True:
        for shape in shapes:
            for num, den, limit, what in (("up_ddl_ours_s", "up_ddl_psql_s", 1.10, "DDL"),
                                          ("up_ins_ours_s", "up_ins_psql_s", 1.00, "INSERT")):
                r = ratio(shape, 10000, num, den)
                b = best_ratio(shape, 10000, num, den)
                tgt("%s 10,000: upgrade <= %.2fx psql -1 -f (%s)" % (shape, limit, what), r,
                    r is not None and r <= limit,
                    "%s (best / best %s)" % (fmt(r, "x"), fmt(b, "x")))
        for shape in shapes:
            v = m(shape, 10000, "load_s")
            tgt("%s 10,000: pg_migrate load < 1 s" % shape, v, v is not None and v < 1,
                fmt(v, "s"))
    if True:
        for shape in shapes:
            v = m(shape, 100000, "check_s")
            tgt("%s 100,000: pg_migrate check < 1 s" % shape, v, v is not None and v < 1,
                fmt(v, "s"))
    L.append("")

    # ---- growth exponents
    if len(sizes) >= 2:
        a, b = sizes[-2], sizes[-1]
        L.append("## Growth from N = %s to %s" % ("{:,}".format(a), "{:,}".format(b)))
        L.append("")
        L.append("Exponent k in time ~ N^k between the two largest sizes (1 is linear; "
                 "above 1.2 is flagged).")
        L.append("")
        L.append("| measure | " + " | ".join(shapes) + " |")
        L.append("| --- | " + " | ".join("---:" for _ in shapes) + " |")
        for metric, unit, label, _ in METRICS:
            if unit == "kB" or "_2nd_" in metric:
                continue
            cells = []
            for shape in shapes:
                x, y = m(shape, a, metric), m(shape, b, metric)
                if x and y:
                    k = math.log(y / x) / math.log(b / a)
                    cells.append(("**%.2f**" if k > 1.2 else "%.2f") % k)
                else:
                    cells.append("–")
            if all(c == "–" for c in cells):
                continue
            L.append("| %s | %s |" % (label, " | ".join(cells)))
        L.append("")

    # ---- plot
    png = plot(out, shapes, sizes, m)
    if png:
        L.append("## Plot")
        L.append("")
        L.append("![time against N, log-log](bench.png)")
        L.append("")
    prof = os.path.join(out, "profile.txt")
    if os.path.exists(prof) and os.path.getsize(prof):
        L.append("Profile of planning at the largest branched history: `profile.txt`.")
        L.append("")

    L.append("## What each figure includes")
    L.append("")
    for metric, unit, label, what in METRICS:
        L.append("- `%s` (%s, %s): %s" % (metric, label, unit, what))
    L.append("")
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(L))


PANELS = [
    ("upgrade from empty, DDL bodies",
     [("up_ddl_ours_s", "ours", 1), ("up_ddl_psql_s", "psql -1 -f", 2),
      ("al_up_s", "alembic", 3)]),
    ("upgrade from empty, one-row INSERT bodies",
     [("up_ins_ours_s", "ours", 1), ("up_ins_psql_s", "psql -1 -f", 2)]),
    ("heads",
     [("heads_ms", "migrate_heads() (server)", 1), ("heads_cli_s", "pg_migrate heads", 4),
      ("al_heads_s", "alembic heads", 3)]),
    ("planning without running bodies",
     [("noop_ms", "no-op upgrade (server)", 1), ("stamp_s", "stamp heads", 4),
      ("al_sql_s", "alembic upgrade --sql", 3)]),
    ("pg_migrate load and check; downgrade",
     [("load_s", "pg_migrate load", 1), ("check_s", "pg_migrate check", 4),
      ("down_s", "downgrade base", 5)]),
    ("planning: peak backend memory",
     [("heads_mem_kb", "migrate_heads()", 1), ("noop_mem_kb", "no-op upgrade", 4)]),
]
COLORS = {1: "#1f77b4", 2: "#2ca02c", 3: "#d62728", 4: "#9467bd", 5: "#ff7f0e"}


def plot(out, shapes, sizes, m):
    if not shutil.which("gnuplot"):
        print("report.py: gnuplot not found, no plot", file=sys.stderr)
        return None
    ddir = tempfile.mkdtemp(prefix="bench-plot.")
    script = ['set terminal pngcairo size 1500,950 font "sans,10"',
              'set output "%s"' % os.path.join(out, "bench.png"),
              "set multiplot layout 2,3 title \"make bench: time against N (log-log); "
              "solid: linear history, dashed: branched\"",
              "set logscale xy", "set format x \"%.0s%c\"", "set format y \"%g\"",
              "set xlabel \"revisions N\"", "set ylabel \"seconds\"",
              "set key top left font \",8\"", "set grid", "set termoption noenhanced",
              "set xrange [%g:%g]" % (min(sizes) / 1.5, max(sizes) * 1.5)]
    for title, series in PANELS:
        plots = []
        for metric, label, color in series:
            for shape in shapes:
                pts = [(n, m(shape, n, metric)) for n in sizes]
                scale = 1000.0 if metric.endswith(("_ms", "_kb")) else 1.0
                pts = [(n, v / scale) for n, v in pts if v]
                if not pts:
                    continue
                fn = os.path.join(ddir, "%s-%s.dat" % (metric, shape))
                with open(fn, "w") as f:
                    f.write("".join("%d %g\n" % p for p in pts))
                plots.append('"%s" using 1:2 with linespoints lw 2 pt 7 ps 0.8 dt %d '
                             'lc rgb "%s" title "%s%s"'
                             % (fn, 1 if shape == "linear" else 2, COLORS[color], label,
                                "" if shape == "linear" else " (branched)"))
        script.append('set title "%s"' % title)
        script.append('set ylabel "%s"' % ("MB" if "memory" in title else "seconds"))
        if plots:
            script.append("plot " + ", \\\n     ".join(plots))
        else:
            script.append("set multiplot next")
    script.append("unset multiplot")
    gp = os.path.join(ddir, "bench.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    shutil.rmtree(ddir)
    if r.returncode != 0:
        print("report.py: gnuplot failed:\n" + r.stderr, file=sys.stderr)
        return None
    return os.path.join(out, "bench.png")


if __name__ == "__main__":
    main()
