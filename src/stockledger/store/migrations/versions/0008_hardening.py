"""readiness write probe; subscription UUIDs unique per organization; back-office sessions

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
    op.create_table(
        "ui_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("org_uuid", sa.String(length=36), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ui_sessions")),
    )
    with op.batch_alter_table("ui_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_ui_sessions_expires", ["expires_ms"], unique=False)
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
    with op.batch_alter_table("ui_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_ui_sessions_expires")
    op.drop_table("ui_sessions")
    op.drop_table("write_probes")
