"""Order lines; the legacy reference goes.

Revision ID: b2d0d0000002
Revises: b2d0d0000001
"""
from alembic import op
import sqlalchemy as sa

revision = "b2d0d0000002"
down_revision = "b2d0d0000001"
branch_labels = None
depends_on = ("a1c0ffee0002",)


def upgrade():
    op.drop_column("orders", "legacy_ref")
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.SmallInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("tags", sa.ARRAY(sa.Text()), nullable=True),
        sa.PrimaryKeyConstraint("order_id", "line", name="pk_order_lines"),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name="fk_order_lines_order",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["currency"], ["currencies.code"], name="fk_order_lines_currency"),
    )
    op.create_index("ix_order_lines_currency", "order_lines", ["currency"],
                    postgresql_where=sa.text("amount > 0"))
    op.execute("COMMENT ON TABLE order_lines IS 'one row per line of an order'")


def downgrade():
    op.drop_index("ix_order_lines_currency", table_name="order_lines")
    op.drop_table("order_lines")
    op.add_column("orders", sa.Column("legacy_ref", sa.String(length=40), nullable=True))
