"""users base"""
revision = 'aaa0001'
down_revision = None
branch_labels = ('users',)
depends_on = None
