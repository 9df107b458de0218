"""Side branch from the first revision"""
revision = '3c4d5e6f7081'
down_revision = ('1a2b3c4d5e6f',)
branch_labels = ('side',)
depends_on = None

def upgrade():
    pass

def downgrade():
    pass
