"""orders need users"""
revision = 'bbb0002'
down_revision = 'bbb0001'
branch_labels = None
depends_on = ('users', 'ccc0001')
