"""A second head off the side branch"""
revision = '6f7081920314'
down_revision = '3c4d5e6f7081'
branch_labels = None
depends_on = None; x = 1

def upgrade():
    pass

def downgrade():
    pass
