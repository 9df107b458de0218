"""Widen every text column of settings found by reflection.

Revision ID: e0000000a004
Revises: e0000000a003
"""
from alembic import op
import sqlalchemy as sa

revision = "e0000000a004"
down_revision = "e0000000a003"
branch_labels = None
depends_on = None


def upgrade():
    insp = sa.inspect(op.get_bind())
    for col in insp.get_columns("settings"):
        if isinstance(col["type"], sa.String) and col["name"] != "key":
            op.alter_column("settings", col["name"], comment="checked")


def downgrade():
    pass
