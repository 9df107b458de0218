"""Run real Alembic on a test project, against a PostgreSQL database.

    driver.py PROJECT_DIR DBNAME COMMAND [ARG...]

COMMAND and its arguments are Alembic's command line ("upgrade heads",
"downgrade base", "heads", ...).  The database is reached through libpq's
environment (PGHOST, PGPORT, PGUSER): the URL is handed to the projects'
env.py in ALEMBIC_TEST_URL.  Each migration Alembic runs is printed on
standard output as "step upgrade|downgrade REVISION", in the order run, so
that tests can compare step orders.  Run it with the Python that has
Alembic, SQLAlchemy, sqlalchemy_utils and psycopg2 (/usr/bin/python3 on
Debian).
"""
import logging
import os
import re
import sys
import urllib.parse

from alembic.config import main as alembic_main


class Steps(logging.Handler):
    pattern = re.compile(r"Running (upgrade|downgrade) (.*?) -> (.*?), ")

    def emit(self, record):
        m = self.pattern.match(record.getMessage() + ", ")
        if not m:
            return
        direction, frm, to = m.groups()
        # upgrade "a -> b" runs b; downgrade "b -> a" runs b
        rev = to if direction == "upgrade" else frm
        for r in rev.split(","):
            print("step %s %s" % (direction, r.strip()), flush=True)


def main():
    project, dbname, *cmd = sys.argv[1:]
    q = {}
    for var, key in (("PGHOST", "host"), ("PGPORT", "port"), ("PGUSER", "user")):
        if os.environ.get(var):
            q[key] = os.environ[var]
    os.environ["ALEMBIC_TEST_URL"] = "postgresql+psycopg2:///%s?%s" % (
        urllib.parse.quote(dbname), urllib.parse.urlencode(q))
    log = logging.getLogger("alembic.runtime.migration")
    log.setLevel(logging.INFO)
    log.addHandler(Steps())
    alembic_main(argv=["-c", os.path.join(project, "alembic.ini")] + cmd, prog="alembic")


if __name__ == "__main__":
    main()
