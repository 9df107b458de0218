"""second

Revision ID: 8e7d6c5b4a39
Revises: 9f8e7d6c5b4a
"""
from typing import Sequence, Union

revision: str = '8e7d6c5b4a39'
down_revision: Union[str, Sequence[str], None] = ('9f8e7d6c5b4a',)
branch_labels: Union[str, Sequence[str], None] = ('main',)
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
