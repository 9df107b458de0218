"""Create account."""
from alembic import op
import sqlalchemy as sa

revision = 'a0a0a0a0a001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'account',
        sa.Column('id', sa.Integer, nullable=False),
        sa.Column('name', sa.String(100), nullable=False),
        sa.Column('created_at', sa.DateTime, server_default=sa.text('now()'),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_account'),
    )


def downgrade():
    op.drop_table('account')
