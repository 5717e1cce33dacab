"""low-stock configuration

Revision ID: 0002_low_stock
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_low_stock"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "low_stock_levels",
        sa.Column("org_uuid", sa.String(length=36), nullable=False),
        sa.Column("location_uuid", sa.String(length=36), nullable=False),
        sa.Column("product_uuid", sa.String(length=36), nullable=False),
        sa.Column("variant_uuid", sa.String(length=36), nullable=False),
        sa.Column("level_units", sa.BigInteger(), nullable=True),
        sa.Column("alert", sa.Boolean(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "org_uuid", "location_uuid", "product_uuid", "variant_uuid", name=op.f("pk_low_stock_levels")
        ),
    )
    with op.batch_alter_table("low_stock_levels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_low_stock_levels_alerted",
            ["org_uuid", "location_uuid", "alert", "product_uuid", "variant_uuid"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("low_stock_levels", schema=None) as batch_op:
        batch_op.drop_index("ix_low_stock_levels_alerted")
    op.drop_table("low_stock_levels")
