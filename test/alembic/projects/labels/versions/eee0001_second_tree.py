"""a second tree"""
revision = 'eee0001'
down_revision = ()
branch_labels = ['audit']
depends_on = None
