"""Alembic environment of the shop project (adoption test, 017_adopt_alembic.pl).

Online mode only: the database is SHOP_URL (a SQLAlchemy URL).  Each
command runs in one transaction, as on PostgreSQL Alembic does by default.
"""
import os

from alembic import context
from sqlalchemy import create_engine

engine = create_engine(os.environ["SHOP_URL"])
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None,
                      transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
