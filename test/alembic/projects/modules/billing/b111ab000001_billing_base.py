"""Create billing tables."""
revision = "b111ab000001"
down_revision = None
branch_labels = ("billing",)
depends_on = "core"
