"""Add invoice status."""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = 'e0e0e0e0e001'
down_revision = 'd0d0d0d0d001'
branch_labels = None
depends_on = None

status = postgresql.ENUM('open', 'paid', 'void', name='invoice_status',
                         create_type=False)


def upgrade():
    status.create(op.get_bind())
    op.add_column('invoice', sa.Column('status', status,
                                       server_default='open', nullable=False))
    op.alter_column('account', 'name', type_=sa.String(200),
                    existing_type=sa.String(100), existing_nullable=False)


def downgrade():
    op.alter_column('account', 'name', type_=sa.String(100),
                    existing_type=sa.String(200), existing_nullable=False)
    op.drop_column('invoice', 'status')
    status.drop(op.get_bind())
