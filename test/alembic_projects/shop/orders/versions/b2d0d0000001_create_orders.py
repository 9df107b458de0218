"""Create orders.

Revision ID: b2d0d0000001
Revises:
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
import sqlalchemy_utils

revision = "b2d0d0000001"
down_revision = None
branch_labels = ("orders",)
depends_on = "a1c0ffee0001"

order_state = postgresql.ENUM("new", "paid", "shipped", name="order_state")


def upgrade():
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), sa.Identity(always=False), nullable=False),
        sa.Column("account_id", sqlalchemy_utils.UUIDType(binary=False), nullable=False),
        sa.Column("state", order_state, nullable=False, server_default="new"),
        sa.Column("total", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("meta", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("legacy_ref", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    op.create_foreign_key("fk_orders_account", "orders", "accounts",
                          ["account_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_orders_account_state", "orders", ["account_id", "state"])


def downgrade():
    op.drop_index("ix_orders_account_state", table_name="orders")
    op.drop_constraint("fk_orders_account", "orders", type_="foreignkey")
    op.drop_table("orders")
    op.execute("DROP TYPE order_state")
