"""Concurrent index and a new enum value.

Revision ID: e0000000a002
Revises: e0000000a001
"""
from alembic import op

revision = "e0000000a002"
down_revision = "e0000000a001"
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.execute("ALTER TYPE mood ADD VALUE 'sleepy'")
        op.create_index("ix_settings_value", "settings", ["value"],
                        postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("ix_settings_value", table_name="settings",
                      postgresql_concurrently=True)
