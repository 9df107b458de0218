"""History rows from the settings.

Reads the settings through the connection and writes one history row for
each: what it writes depends on the rows found.

Revision ID: e0000000a003
Revises: e0000000a002
"""
from alembic import op
import sqlalchemy as sa

revision = "e0000000a003"
down_revision = "e0000000a002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("setting_history",
                    sa.Column("key", sa.String(40), nullable=False),
                    sa.Column("old_value", sa.Text()))
    conn = op.get_bind()
    for key, value in conn.execute(sa.text("SELECT key, value FROM settings ORDER BY key")):
        op.execute(sa.text("INSERT INTO setting_history VALUES (:k, :v)").bindparams(k=key, v=value))


def downgrade():
    op.drop_table("setting_history")
