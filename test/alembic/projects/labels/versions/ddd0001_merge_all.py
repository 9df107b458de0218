"""merge users and orders"""
revision = 'ddd0001'
down_revision = ('aaa0002', 'bbb0002')
branch_labels = None
depends_on = []
