"""Audit log.

Revision ID: c3a0d1700001
Revises:
"""
from alembic import op
import sqlalchemy as sa
import sqlalchemy_utils

revision = "c3a0d1700001"
down_revision = None
branch_labels = ("audit",)
depends_on = None


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("actor", sqlalchemy_utils.UUIDType(), nullable=True),
        sa.Column("payload", sqlalchemy_utils.JSONType(), nullable=False),
        sa.Column("kind", sa.Enum("insert", "update", "delete", name="audit_kind"), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.execute("CREATE SEQUENCE audit_log_ids OWNED BY audit_log.id")
    op.alter_column("audit_log", "id", server_default=sa.text("nextval('audit_log_ids')"),
                    existing_type=sa.BigInteger())


def downgrade():
    op.drop_table("audit_log")
    op.execute("DROP TYPE audit_kind")
