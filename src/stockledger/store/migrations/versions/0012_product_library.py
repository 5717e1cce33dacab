"""the Product Library: the catalog's tables grow into the library's products, variants and categories

Revision ID: 0012_product_library
Revises: 0011_images_purchases

Every existing catalog entry becomes a library product with its variants: it keeps its names, SKUs
and barcodes, is created when it was last updated, gets an etag, and lists its variants in UUID
order (the order the catalog answered them in).
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012_product_library"
down_revision = "0011_images_purchases"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 1000

PRODUCT_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("created_ms", sa.BigInteger(), nullable=True),  # NOT NULL once filled (below)
    sa.Column("etag", sa.String(length=32), nullable=True),  # idem
    sa.Column("created_by", sa.String(length=255), nullable=True),
    sa.Column("updated_by", sa.String(length=255), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("category_uuid", sa.String(length=36), nullable=True),
    sa.Column("legacy_categories", sa.Text(), nullable=True),
    sa.Column("image_lookup_keys", sa.Text(), nullable=True),
    sa.Column("presentation", sa.Text(), nullable=True),
    sa.Column("option_definitions", sa.Text(), nullable=True),
    sa.Column("external_reference", sa.String(length=128), nullable=True),
    sa.Column("unit_name", sa.String(length=32), nullable=True),
    sa.Column("vat_percentage", sa.String(length=16), nullable=True),
    sa.Column("tax_exempt", sa.Boolean(), nullable=False, server_default=sa.text("false")),
    sa.Column("tax_rates", sa.Text(), nullable=True),
    sa.Column("tax_code", sa.String(length=255), nullable=True),
    sa.Column("online", sa.Text(), nullable=True),
    sa.Column("product_metadata", sa.Text(), nullable=True),
]

VARIANT_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("position", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("unit_name", sa.String(length=32), nullable=True),
    sa.Column("price_amount", sa.BigInteger(), nullable=True),
    sa.Column("price_currency", sa.String(length=3), nullable=True),
    sa.Column("cost_price_amount", sa.BigInteger(), nullable=True),
    sa.Column("cost_price_currency", sa.String(length=3), nullable=True),
    sa.Column("options", sa.Text(), nullable=True),
    sa.Column("presentation", sa.Text(), nullable=True),
]


def _backfill_products() -> None:
    """created = last update, a fresh etag each (32 upper-case hex digits, as Zettle's look)."""
    conn = op.get_bind()
    products = sa.table(
        "catalog_products",
        sa.column("org_uuid"),
        sa.column("product_uuid"),
        sa.column("updated_ms"),
        sa.column("created_ms"),
        sa.column("etag"),
    )
    rows = conn.execute(sa.select(products.c.org_uuid, products.c.product_uuid, products.c.updated_ms)).all()
    stmt = (
        products.update()
        .where(
            products.c.org_uuid == sa.bindparam("o"),
            products.c.product_uuid == sa.bindparam("p"),
        )
        .values(created_ms=sa.bindparam("c"), etag=sa.bindparam("e"))
    )
    for start in range(0, len(rows), BACKFILL_BATCH):
        batch = rows[start : start + BACKFILL_BATCH]
        conn.execute(
            stmt,
            [{"o": o, "p": p, "c": updated, "e": secrets.token_hex(16).upper()} for o, p, updated in batch],
        )


def _backfill_positions() -> None:
    """Variants keep the order the catalog answered them in: by UUID within their product."""
    conn = op.get_bind()
    variants = sa.table(
        "catalog_variants",
        sa.column("org_uuid"),
        sa.column("product_uuid"),
        sa.column("variant_uuid"),
        sa.column("position"),
    )
    rows = conn.execute(
        sa.select(variants.c.org_uuid, variants.c.product_uuid, variants.c.variant_uuid).order_by(
            variants.c.org_uuid, variants.c.product_uuid, variants.c.variant_uuid
        )
    ).all()
    stmt = (
        variants.update()
        .where(
            variants.c.org_uuid == sa.bindparam("o"),
            variants.c.product_uuid == sa.bindparam("p"),
            variants.c.variant_uuid == sa.bindparam("v"),
        )
        .values(position=sa.bindparam("n"))
    )
    params = []
    previous: tuple[str, str] | None = None
    position = 0
    for org, product, variant in rows:
        position = position + 1 if previous == (org, product) else 0
        previous = (org, product)
        if position:
            params.append({"o": org, "p": product, "v": variant, "n": position})
    for start in range(0, len(params), BACKFILL_BATCH):
        conn.execute(stmt, params[start : start + BACKFILL_BATCH])


def upgrade() -> None:
    with op.batch_alter_table("catalog_products", schema=None) as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=255), type_=sa.String(length=256))
        for column in PRODUCT_COLUMNS:
            batch_op.add_column(column)
    _backfill_products()
    with op.batch_alter_table("catalog_products", schema=None) as batch_op:
        batch_op.alter_column("created_ms", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("etag", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_index(
            "ix_catalog_products_org_created", ["org_uuid", "created_ms", "product_uuid"], unique=False
        )
        batch_op.create_index("ix_catalog_products_org_category", ["org_uuid", "category_uuid"], unique=False)

    with op.batch_alter_table("catalog_variants", schema=None) as batch_op:
        batch_op.alter_column("name", existing_type=sa.String(length=255), type_=sa.String(length=256))
        for column in VARIANT_COLUMNS:
            batch_op.add_column(column)
        batch_op.create_index("ix_catalog_variants_org_variant", ["org_uuid", "variant_uuid"], unique=False)
        batch_op.create_index("ix_catalog_variants_org_barcode", ["org_uuid", "barcode"], unique=False)
    _backfill_positions()

    op.create_table(
        "product_categories",
        sa.Column("org_uuid", sa.String(length=36), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("etag", sa.String(length=32), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("org_uuid", "uuid", name=op.f("pk_product_categories")),
    )


def downgrade() -> None:
    op.drop_table("product_categories")
    with op.batch_alter_table("catalog_variants", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_variants_org_barcode")
        batch_op.drop_index("ix_catalog_variants_org_variant")
        for column in reversed(VARIANT_COLUMNS):
            batch_op.drop_column(column.name)
        batch_op.alter_column("name", existing_type=sa.String(length=256), type_=sa.String(length=255))
    with op.batch_alter_table("catalog_products", schema=None) as batch_op:
        batch_op.drop_index("ix_catalog_products_org_category")
        batch_op.drop_index("ix_catalog_products_org_created")
        for column in reversed(PRODUCT_COLUMNS):
            batch_op.drop_column(column.name)
        batch_op.alter_column("name", existing_type=sa.String(length=256), type_=sa.String(length=255))
