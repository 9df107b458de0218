"""merge email and side

Revision ID: 4d5e6f708192
"""
revision = '4d5e6f708192'
down_revision = ['2b3c4d5e6f70',
                 "3c4d5e6f7081",  # the side branch
                 ]
branch_labels = None
depends_on = None

def upgrade():
    pass

def downgrade():
    pass
