# The env.py of the test projects: online only, against the database
# that ALEMBIC_TEST_URL names (driver.py sets it), one transaction per
# revision as Alembic recommends when a revision uses autocommit_block().
import os

from alembic import context
from sqlalchemy import create_engine

config = context.config


def run_online():
    engine = create_engine(os.environ["ALEMBIC_TEST_URL"])
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=os.environ.get("ALEMBIC_TEST_URL", "postgresql://"),
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_online()
