"""Add email to account."""
from alembic import op
import sqlalchemy as sa

revision = "c0c0c0c0c001"
down_revision = "a0a0a0a0a001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('account', sa.Column('email', sa.String(200), nullable=True))
    op.create_unique_constraint('uq_account_email', 'account', ['email'])


def downgrade():
    op.drop_constraint('uq_account_email', 'account', type_='unique')
    op.drop_column('account', 'email')
