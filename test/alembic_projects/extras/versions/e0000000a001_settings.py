"""Settings and their rows.

Revision ID: e0000000a001
Revises:
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "e0000000a001"
down_revision = None
branch_labels = None
depends_on = None

mood = postgresql.ENUM("calm", "busy", name="mood", create_type=False)


def upgrade():
    mood.create(op.get_bind(), checkfirst=False)
    settings = op.create_table(
        "settings",
        sa.Column("key", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("mood", mood, nullable=True),
    )
    op.bulk_insert(settings, [{"key": "color", "value": "blue"},
                              {"key": "size", "value": "large"}])


def downgrade():
    op.drop_table("settings")
    mood.drop(op.get_bind(), checkfirst=False)
