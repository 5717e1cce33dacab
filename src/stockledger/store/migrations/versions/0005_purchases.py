"""purchases: recorded purchase UUIDs with their answers, and Zettle receiver signing keys

Revision ID: 0005_purchases
Revises: 0004_extensions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_purchases"
down_revision = "0004_extensions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "purchases",
        sa.Column("org_uuid", sa.String(length=36), nullable=False),
        sa.Column("purchase_uuid", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_uuid", "purchase_uuid", name=op.f("pk_purchases")),
    )
    op.create_table(
        "purchase_connections",
        sa.Column("org_uuid", sa.String(length=36), nullable=False),
        sa.Column("signing_key", sa.String(length=255), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_uuid", name=op.f("pk_purchase_connections")),
    )


def downgrade() -> None:
    op.drop_table("purchase_connections")
    op.drop_table("purchases")
