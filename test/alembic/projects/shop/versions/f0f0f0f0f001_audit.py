"""Create audit log."""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'f0f0f0f0f001'
down_revision = None
branch_labels = ('audit',)
depends_on = 'a0a0a0a0a001'


def upgrade():
    op.create_table(
        'audit_log',
        sa.Column('id', postgresql.UUID, nullable=False),
        sa.Column('account_id', sa.Integer, nullable=True),
        sa.Column('note', postgresql.JSONB, nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_audit_log'),
    )


def downgrade():
    op.drop_table('audit_log')
