"""Create core tables."""
revision = "c0ffee000001"
down_revision = None
branch_labels = ("core",)
depends_on = None
