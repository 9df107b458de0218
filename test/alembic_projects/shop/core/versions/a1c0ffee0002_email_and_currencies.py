"""Add account email; currencies with their rows.

Revision ID: a1c0ffee0002
Revises: a1c0ffee0001
"""
from alembic import op
import sqlalchemy as sa

revision = "a1c0ffee0002"
down_revision = "a1c0ffee0001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("accounts", sa.Column("email", sa.String(length=200), nullable=True))
    op.create_unique_constraint("uq_accounts_email", "accounts", ["email"])
    op.create_index("ix_accounts_created", "accounts", ["created"], unique=False)
    currencies = op.create_table(
        "currencies",
        sa.Column("code", sa.String(length=3), nullable=False),
        sa.Column("name", sa.Unicode(length=60), nullable=False),
        sa.Column("decimals", sa.SmallInteger(), nullable=False, server_default="2"),
        sa.PrimaryKeyConstraint("code", name="pk_currencies"),
    )
    op.bulk_insert(currencies, [
        {"code": "EUR", "name": "Euro", "decimals": 2},
        {"code": "JPY", "name": "Yen", "decimals": 0},
        {"code": "CHF", "name": "Franc d'or", "decimals": 2},
    ])


def downgrade():
    op.drop_table("currencies")
    op.drop_index("ix_accounts_created", table_name="accounts")
    op.drop_constraint("uq_accounts_email", "accounts", type_="unique")
    op.drop_column("accounts", "email")
