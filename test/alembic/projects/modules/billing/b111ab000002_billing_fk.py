"""Billing: foreign key to core."""
revision = "b111ab000002"
down_revision = "b111ab000001"
branch_labels = ()
depends_on = ("c0ffee000002",)
