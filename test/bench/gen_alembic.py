"""Generate an Alembic version directory of N revision files.

Usage: gen_alembic.py --n N --out DIR

For the bench of "pg_migrate check --alembic" against "alembic heads"
(alembic_check.sh).  The files look like the ones "alembic revision" writes
and teams then edit: a docstring with the Revision ID / Revises / Create
Date lines, imports, the four header assignments, and upgrade() and
downgrade() bodies of a few op calls.  The styles vary the way real
directories do: single and double quotes, the type-annotated assignments of
newer templates on every third file, tuples and lists.

The graph: one base; 16 branches labelled br_00 .. br_15 off it; then
revision i extends branch i % 16, except that every 250th revision merges
the tips of two neighbouring branches (the second then starts again from
the base) and every 40th (offset 20) also depends on another branch's tip.  DIR/heads.txt holds the heads (one id a line, sorted), computed here,
so that both programs can be checked against the generator.
"""
import os
import random
import sys

TEMPLATE_PLAIN = '''"""{message}

Revision ID: {rev}
Revises: {revises}
Create Date: 2026-12-02 12:{minute:02d}:{second:02d}.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = {q}{rev}{q}
down_revision = {down}
branch_labels = {labels}
depends_on = {deps}


def upgrade():
    op.create_table(
        {q}t_{i}{q},
        sa.Column({q}id{q}, sa.Integer(), nullable=False),
        sa.Column({q}name{q}, sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint({q}id{q}),
    )
    op.create_index({q}ix_t_{i}_name{q}, {q}t_{i}{q}, [{q}name{q}])


def downgrade():
    op.drop_index({q}ix_t_{i}_name{q}, table_name={q}t_{i}{q})
    op.drop_table({q}t_{i}{q})
'''

TEMPLATE_TYPED = '''"""{message}

Revision ID: {rev}
Revises: {revises}
Create Date: 2026-12-02 12:{minute:02d}:{second:02d}.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = {q}{rev}{q}
down_revision: Union[str, Sequence[str], None] = {down}
branch_labels: Union[str, Sequence[str], None] = {labels}
depends_on: Union[str, Sequence[str], None] = {deps}


def upgrade() -> None:
    op.add_column({q}t_{i}{q}, sa.Column({q}extra{q}, sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column({q}t_{i}{q}, {q}extra{q})
'''


def pyval(items, q, as_list=False):
    """A Python literal for a list of ids: None, a string, a tuple or a list."""
    if not items:
        return "None"
    if len(items) == 1 and not as_list:
        return q + items[0] + q
    inner = ", ".join(q + x + q for x in items)
    return "[" + inner + "]" if as_list else "(" + inner + ("," if len(items) == 1 else "") + ")"


def main(argv):
    n = None
    out = None
    i = 0
    while i < len(argv):
        if argv[i] == "--n":
            n = int(argv[i + 1])
            i += 2
        elif argv[i] == "--out":
            out = argv[i + 1]
            i += 2
        else:
            sys.exit("usage: gen_alembic.py --n N --out DIR")
    if n is None or out is None or n < 20:
        sys.exit("usage: gen_alembic.py --n N --out DIR (N >= 20)")
    rnd = random.Random(13)
    os.makedirs(out, exist_ok=True)
    nbranch = 16
    ids = []
    used = set()
    while len(ids) < n:
        rev = "%012x" % rnd.getrandbits(48)
        if rev not in used:
            used.add(rev)
            ids.append(rev)
    revs = []      # (rev, down, labels, deps)
    tips = [None] * nbranch
    revs.append((ids[0], [], [], []))
    for b in range(nbranch):
        rev = ids[1 + b]
        revs.append((rev, [ids[0]], ["br_%02d" % b], []))
        tips[b] = rev
    for k in range(1 + nbranch, n):
        rev = ids[k]
        b = k % nbranch
        deps = []
        if tips[b] is None:
            # a branch merged away starts again from the base
            down = [ids[0]]
        elif k % 250 == 0 and tips[(b + 1) % nbranch] is not None:
            down = [tips[b], tips[(b + 1) % nbranch]]
            tips[(b + 1) % nbranch] = None
        else:
            down = [tips[b]]
            other = (b + 5) % nbranch
            if k % 40 == 20 and tips[other] is not None:
                deps = [tips[other]]
        revs.append((rev, down, [], deps))
        tips[b] = rev
    children = set()
    for rev, down, labels, deps in revs:
        children.update(down)
    heads = sorted(r[0] for r in revs if r[0] not in children)

    for k, (rev, down, labels, deps) in enumerate(revs):
        q = "'" if k % 2 else '"'
        tmpl = TEMPLATE_TYPED if k % 3 == 2 else TEMPLATE_PLAIN
        text = tmpl.format(
            message="Revision %d of the generated history" % k,
            rev=rev, revises=", ".join(down), minute=(k // 60) % 60,
            second=k % 60, q=q, i=k,
            down=pyval(down, q, as_list=(k % 7 == 3 and len(down) > 1)),
            labels=pyval(labels, q, as_list=(k % 5 == 0)) if labels else "None",
            deps=pyval(deps, q) if deps else "None")
        with open(os.path.join(out, "%06d_%s_revision.py" % (k, rev)), "w") as f:
            f.write(text)
    with open(os.path.join(out, "heads.txt"), "w") as f:
        f.write("".join(h + "\n" for h in heads))


if __name__ == "__main__":
    main(sys.argv[1:])
