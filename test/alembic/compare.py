"""Compare an Alembic transcript with ours, command by command.

usage: compare.py FIXTURE.hist ALEMBIC.out OURS.out

Prints "same", or how the first differing command differs:
  alembic-crash  Alembic failed with a bare exception (one of its crashes
                 listed in doc/semantics.md §12.2, such as rev-N below
                 base); the rest is not compared.
  deliberate     we refuse -N with several current heads (Alembic guesses).
  consistent-rows  a downgrade where Alembic leaves a row and its ancestor
                 (bug #1373, doc/semantics.md §12.1); we keep the rows minimal.
  DIFF           anything else: exit status 1.
Error lines compare as "error": messages differ by design.
"""
import re
import sys


def blocks(path):
    out, cur = [], None
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith("> "):
            cur = [line[2:], []]
            out.append(cur)
        elif cur is not None:
            cur[1].append(line)
    return out


def graph(path):
    parents = {}
    labels = {}
    for line in open(path):
        f = line.split()
        if not f or f[0] != "rev":
            continue
        rev, opts = f[1], dict(x.split("=", 1) for x in f[2:] if "=" in x and not x.startswith("message"))
        parents[rev] = opts.get("down", "").split(",") if opts.get("down") else []
        parents[rev] += opts.get("deps", "").split(",") if opts.get("deps") else []
        for lab in opts.get("labels", "").split(",") if opts.get("labels") else []:
            labels[lab] = rev
    return {r: [labels.get(p, p) for p in ps] for r, ps in parents.items()}


def ancestors(parents, r):
    seen, todo = set(), list(parents.get(r, []))
    while todo:
        x = todo.pop()
        if x not in seen:
            seen.add(x)
            todo.extend(parents.get(x, []))
    return seen


def norm(lines):
    return ["error" if l.startswith("error") else l for l in lines]


def main():
    parents = graph(sys.argv[1])
    for (cmd, la), (_, lo) in zip(blocks(sys.argv[2]), blocks(sys.argv[3])):
        if norm(la) == norm(lo):
            continue
        aerr = [l for l in la if l.startswith("error")]
        oerr = [l for l in lo if l.startswith("error")]
        if aerr and re.match(r"error [A-Za-z]+(Error|Exception)\b", aerr[0]):
            print("alembic-crash:", cmd)
            return 0
        if oerr and "ambiguous with several current heads" in oerr[0]:
            print("deliberate:", cmd)
            return 0
        rows = [l for l in la if l.startswith("rows")]
        if cmd.startswith("downgrade") and rows:
            rs = rows[0].split()[1:]
            if any(x in ancestors(parents, y) for x in rs for y in rs if x != y):
                print("consistent-rows:", cmd)
                return 0
        print("DIFF:", cmd)
        print("  alembic:", la)
        print("  ours:   ", lo)
        return 1
    print("same")
    return 0


sys.exit(main())
