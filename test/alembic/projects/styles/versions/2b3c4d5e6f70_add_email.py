# -*- coding: utf-8 -*-
'''Add email to account.'''
from alembic import op
import sqlalchemy as sa

revision = "2b3c4d5e6f70"   # double quotes
down_revision = "1a2b3c4d5e6f"
branch_labels = None
depends_on = None
# down_revision = "ffffffffffff"

NOTE = """
down_revision = 'still_not_this'
"""

def upgrade():
    revision = "inside_a_function"
    op.add_column('account', sa.Column('email', sa.String(200)))


def downgrade():
    op.drop_column('account', 'email')
