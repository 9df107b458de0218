"""Core: second step."""
revision = "c0ffee000002"
down_revision = "c0ffee000001"
branch_labels = ()
depends_on = None
