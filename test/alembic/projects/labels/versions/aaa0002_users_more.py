"""users: more"""
revision = 'aaa0002'
down_revision = 'aaa0001'
branch_labels = None
depends_on = None
