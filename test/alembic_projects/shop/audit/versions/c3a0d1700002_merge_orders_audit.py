"""Merge orders and audit; orders are audited.

Revision ID: c3a0d1700002
Revises: b2d0d0000002, c3a0d1700001
"""
from alembic import op
import sqlalchemy as sa

revision = "c3a0d1700002"
down_revision = ("b2d0d0000002", "c3a0d1700001")
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("audit_log", sa.Column("order_id", sa.Integer(), nullable=True))
    op.create_foreign_key("fk_audit_log_order", "audit_log", "orders",
                          ["order_id"], ["id"], ondelete="SET NULL")
    op.create_index(op.f("ix_audit_log_order_id"), "audit_log", ["order_id"])


def downgrade():
    op.drop_index(op.f("ix_audit_log_order_id"), table_name="audit_log")
    op.drop_constraint("fk_audit_log_order", "audit_log", type_="foreignkey")
    op.drop_column("audit_log", "order_id")
