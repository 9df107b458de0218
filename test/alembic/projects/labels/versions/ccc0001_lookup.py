"""lookup: only depended on, an effective head"""
revision = 'ccc0001'
down_revision = None
branch_labels = None
depends_on = None
