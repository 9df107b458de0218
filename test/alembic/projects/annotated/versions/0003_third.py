"""third, off the first"""
from typing import Sequence, Union

revision: str = "7d6c5b4a3928"
down_revision: Union[str, None] = "9f8e7d6c5b4a"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = "8e7d6c5b4a39"


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
