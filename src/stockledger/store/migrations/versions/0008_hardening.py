"""readiness write probe; subscription UUIDs unique per organization

Revision ID: 0008_hardening
Revises: 0007_stocktakes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_hardening"
down_revision = "0007_stocktakes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "write_probes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_write_probes")),
    )
    # A subscription's UUID is chosen by its client: unique per organization, not across them.
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_subscriptions_org")  # the new key leads with the organization
        batch_op.drop_constraint("pk_subscriptions", type_="primary")
        batch_op.create_primary_key("pk_subscriptions", ["org_uuid", "uuid"])


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_constraint("pk_subscriptions", type_="primary")
        batch_op.create_primary_key("pk_subscriptions", ["uuid"])
        batch_op.create_index("ix_subscriptions_org", ["org_uuid"], unique=False)
    op.drop_table("write_probes")
