"""Write a random revision history with commands in the fixture format.

usage: random_hist.py SEED [N]

Histories have merges, branch labels and at most one depends_on entry per
revision (Alembic orders several by hash).  A dependency is never also an
ancestor through down_revision (Alembic bug #1373, where we differ on
purpose).  Used for differential testing against Alembic (run_random.sh).
"""
import random
import sys


def main():
    seed = int(sys.argv[1])
    rnd = random.Random(seed)
    n = int(sys.argv[2]) if len(sys.argv) > 2 else rnd.randint(3, 25)
    revs = []
    down = {}
    labels = {}
    deps = {}

    def ancestors(r):
        seen, todo = set(), [r]
        while todo:
            x = todo.pop()
            for p in down[x] + deps.get(x, []):
                if p not in seen:
                    seen.add(p)
                    todo.append(p)
        return seen

    for i in range(n):
        r = "r%d" % i
        if not revs or rnd.random() < 0.1:
            parents = []
        elif len(revs) >= 2 and rnd.random() < 0.15:
            parents = rnd.sample(revs, 2)
            a0 = ancestors(parents[0]) | {parents[0]}
            a1 = ancestors(parents[1]) | {parents[1]}
            if parents[0] in a1 or parents[1] in a0:
                parents = [parents[0]]
        else:
            parents = [rnd.choice(revs[-6:])]
        down[r] = parents
        if revs and rnd.random() < 0.15:
            cand = rnd.choice(revs)
            anc = ancestors(r)
            down_anc = set()
            todo = list(parents)
            while todo:
                x = todo.pop()
                if x not in down_anc:
                    down_anc.add(x)
                    todo.extend(down[x])
            if cand not in down_anc and cand not in anc - down_anc or True:
                if cand not in down_anc:
                    deps[r] = [cand]
        if rnd.random() < 0.2:
            labels[r] = "l%d" % i
        revs.append(r)

    for r in revs:
        line = "rev " + r
        if down[r]:
            line += " down=" + ",".join(down[r])
        if r in deps:
            d = deps[r][0]
            if d in labels and rnd.random() < 0.5:
                d = labels[d]
            line += " deps=" + d
        if r in labels:
            line += " labels=" + labels[r]
        print(line)

    syms = revs + list(labels.values())
    cmds = []
    for _ in range(rnd.randint(4, 12)):
        k = rnd.random()
        s = rnd.choice(syms)
        if k < 0.25:
            cmds.append("upgrade " + rnd.choice(["heads", s, s, s + "@head" if s in labels.values() else s]))
        elif k < 0.45:
            cmds.append("downgrade " + rnd.choice(["base", s, s]))
        elif k < 0.55:
            cmds.append("upgrade " + rnd.choice(["+1", "+2", s + "+1", s + "-1"]))
        elif k < 0.65:
            cmds.append("downgrade " + rnd.choice(["-1", s + "-1"]))
        elif k < 0.75:
            cmds.append("stamp " + rnd.choice(["heads", "base", s]))
        elif k < 0.85:
            cmds.append("history " + rnd.choice([":", s + ":", ":" + s]))
        else:
            cmds.append(rnd.choice(["heads", "current", "labels"]))
    cmds.append("upgrade heads")
    cmds.append("history")
    cmds.append("downgrade base")
    for c in cmds:
        print("cmd " + c)


main()
