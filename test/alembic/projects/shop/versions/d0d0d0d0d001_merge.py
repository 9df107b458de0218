"""Merge billing and email."""
from alembic import op

revision = 'd0d0d0d0d001'
down_revision = ('b0b0b0b0b001', 'c0c0c0c0c001')
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE VIEW account_invoices AS"
               " SELECT a.id, a.email, i.amount"
               " FROM account AS a JOIN invoice AS i ON i.account_id = a.id")


def downgrade():
    op.execute("DROP VIEW account_invoices")
