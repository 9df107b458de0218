"""Create invoice."""
from alembic import op
import sqlalchemy as sa

revision = 'b0b0b0b0b001'
down_revision = 'a0a0a0a0a001'
branch_labels = ('billing',)
depends_on = None


def upgrade():
    op.create_table(
        'invoice',
        sa.Column('id', sa.Integer, nullable=False),
        sa.Column('account_id', sa.Integer, nullable=False),
        sa.Column('amount', sa.Numeric(10, 2), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_invoice'),
        sa.ForeignKeyConstraint(['account_id'], ['account.id'],
                                name='fk_invoice_account'),
    )
    op.create_index('ix_invoice_account', 'invoice', ['account_id'])


def downgrade():
    op.drop_index('ix_invoice_account', table_name='invoice')
    op.drop_table('invoice')
