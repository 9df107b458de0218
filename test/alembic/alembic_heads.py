"""Print "alembic heads" for version directories, as Alembic 1.8 does.

Usage: alembic_heads.py VERSION_DIR...

The first directory's parent is the script location.  Alembic 1.8 takes
revision files in os.listdir order, which no file system guarantees; this
wrapper sorts the names, as Alembic 1.10 and pg_migrate do, so that the
order of the heads can be compared as well as the set.  Branch labels are a
Python set in Alembic: their order within a line is not deterministic, so
the comparison sorts them.
"""
import os
import sys

from alembic import command
from alembic.config import Config
from alembic.script.base import Script

_orig = Script._list_py_dir.__func__


def _sorted_list_py_dir(cls, scriptdir, path):
    return sorted(_orig(cls, scriptdir, path))


Script._list_py_dir = classmethod(_sorted_list_py_dir)

dirs = [os.path.abspath(d) for d in sys.argv[1:]]
cfg = Config()
cfg.set_main_option("script_location", os.path.dirname(dirs[0]))
cfg.set_main_option("version_locations", " ".join(dirs))
command.heads(cfg)
