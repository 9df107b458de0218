"""Create accounts.

The first revision of the core module: a table with a UUID key, a JSON
column and an enum, and named constraints.

Revision ID: a1c0ffee0001
Revises:
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlalchemy_utils

revision = "a1c0ffee0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade():
    op.create_table(
        "accounts",
        sa.Column("id", sqlalchemy_utils.types.uuid.UUIDType(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("status", sa.Enum("active", "closed", name="account_status"),
                  nullable=False, server_default="active"),
        sa.Column("settings", sqlalchemy_utils.types.json.JSONType(), nullable=True),
        sa.Column("created", sa.DateTime(), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
        sa.CheckConstraint("length(name) > 0", name="ck_accounts_name_nonempty"),
    )


def downgrade():
    op.drop_table("accounts")
    op.execute("DROP TYPE account_status")
