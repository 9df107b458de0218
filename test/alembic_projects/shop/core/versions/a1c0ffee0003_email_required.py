"""Email required and longer; account notes dropped.

Revision ID: a1c0ffee0003
Revises: a1c0ffee0002
"""
from alembic import op
import sqlalchemy as sa

revision = "a1c0ffee0003"
down_revision = "a1c0ffee0002"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE accounts SET email = name || '@example.invalid' WHERE email IS NULL")
    op.alter_column("accounts", "email", existing_type=sa.String(length=200),
                    type_=sa.String(length=320), nullable=False)
    op.alter_column("accounts", "name", new_column_name="display_name",
                    existing_type=sa.String(length=80))
    op.add_column("accounts", sa.Column("notes", sa.Text(), nullable=True))
    op.drop_column("accounts", "notes")
    op.add_column("accounts", sa.Column("currency", sa.String(length=3),
                                        nullable=False, server_default="EUR"))
    op.create_foreign_key("fk_accounts_currency", "accounts", "currencies",
                          ["currency"], ["code"], ondelete="RESTRICT")


def downgrade():
    op.drop_constraint("fk_accounts_currency", "accounts", type_="foreignkey")
    op.drop_column("accounts", "currency")
    op.alter_column("accounts", "display_name", new_column_name="name",
                    existing_type=sa.String(length=80))
    op.alter_column("accounts", "email", existing_type=sa.String(length=320),
                    type_=sa.String(length=200), nullable=True)
