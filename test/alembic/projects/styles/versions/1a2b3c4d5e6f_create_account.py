"""Create account

Revision ID: 1a2b3c4d5e6f
Revises:
Create Date: 2026-12-02 10:00:00

revision = 'not_this_one'
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '1a2b3c4d5e6f'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account', sa.Column('id', sa.Integer, primary_key=True))


def downgrade():
    op.drop_table('account')
