"""catalog names for the back office

Revision ID: 0006_catalog
Revises: 0005_purchases
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_catalog"
down_revision = "0005_purchases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_products",
        sa.Column("org_uuid", sa.String(length=36), nullable=False),
        sa.Column("product_uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_uuid", "product_uuid", name=op.f("pk_catalog_products")),
    )
    op.create_table(
        "catalog_variants",
        sa.Column("org_uuid", sa.String(length=36), nullable=False),
        sa.Column("product_uuid", sa.String(length=36), nullable=False),
        sa.Column("variant_uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("sku", sa.String(length=255), nullable=True),
        sa.Column("barcode", sa.String(length=255), nullable=True),
        sa.Column("sort_key", sa.String(length=520), nullable=True),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_uuid", "product_uuid", "variant_uuid", name=op.f("pk_catalog_variants")),
    )
    with op.batch_alter_table("catalog_variants", schema=None) as batch_op:
        batch_op.create_index("ix_catalog_variants_org_sku", ["org_uuid", "sku"], unique=False)
        batch_op.create_index(
            "ix_catalog_variants_org_sort",
            ["org_uuid", "sort_key", "product_uuid", "variant_uuid"],
            unique=False,
        )
    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.create_index(
            "ix_balances_org_location_units",
            ["org_uuid", "location_uuid", "units", "product_uuid", "variant_uuid"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.drop_index("ix_balances_org_location_units")
    with op.batch_alter_table("catalog_variants", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_variants_org_sort")
        batch_op.drop_index("ix_catalog_variants_org_sku")
    op.drop_table("catalog_variants")
    op.drop_table("catalog_products")
