r"""After the merge \ with a backslash"""
revision = r'5e6f70819203'
down_revision = u'4d5e6f708192'
branch_labels = 'tail'
depends_on = None

def upgrade():
    pass

def downgrade():
    pass
