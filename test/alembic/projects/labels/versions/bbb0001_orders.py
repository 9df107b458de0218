"""orders base"""
revision = 'bbb0001'
down_revision = None
branch_labels = ('orders', 'shop')
depends_on = 'aaa0001'
