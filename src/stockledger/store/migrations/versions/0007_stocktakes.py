"""stocktake uploads of the back office

Revision ID: 0007_stocktakes
Revises: 0006_catalog
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_stocktakes"
down_revision = "0006_catalog"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stocktakes",
        sa.Column("org_uuid", sa.String(length=36), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("location_uuid", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("applied_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("org_uuid", "uuid", name=op.f("pk_stocktakes")),
    )
    with op.batch_alter_table("stocktakes", schema=None) as batch_op:
        batch_op.create_index("ix_stocktakes_created", ["created_ms"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("stocktakes", schema=None) as batch_op:
        batch_op.drop_index("ix_stocktakes_created")
    op.drop_table("stocktakes")
