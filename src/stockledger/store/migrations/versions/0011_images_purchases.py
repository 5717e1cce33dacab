"""Purchase API reads: each purchase keeps its document, time, receipt number and refund link;
images registered through the image service

Revision ID: 0011_images_purchases
Revises: 0010_instance_settings

Purchases recorded before this revision get their document back from the event log (every recorded
purchase appended its `PurchaseCreated` event, with the document as payload, in the same
transaction), then their time, receipt number and refund link from that document as new purchases
do (domain/purchase_fields.py). A purchase whose event is gone keeps no document, its recording time
and the next receipt number of its organization.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

from stockledger.domain.ids import canonical_uuid
from stockledger.domain.purchase_fields import recorded_fields
from stockledger.exact_json import loads_exact

revision = "0011_images_purchases"
down_revision = "0010_instance_settings"
branch_labels = None
depends_on = None

BACKFILL_BATCH_ROWS = 500  # events read per query: bounded memory whatever the size of the log

_outbox = sa.table(
    "outbox",
    sa.column("id", sa.BigInteger),
    sa.column("org_uuid", sa.String),
    sa.column("event_name", sa.String),
    sa.column("payload", sa.Text),
)
_purchases = sa.table(
    "purchases",
    sa.column("org_uuid", sa.String),
    sa.column("purchase_uuid", sa.String),
    sa.column("created_ms", sa.BigInteger),
    sa.column("document", sa.Text),
    sa.column("timestamp_ms", sa.BigInteger),
    sa.column("purchase_number", sa.BigInteger),
    sa.column("refunds_purchase_uuid", sa.String),
)


def _documents_from_events(bind: Any) -> None:
    """Give each recorded purchase the document of its PurchaseCreated event (the first one)."""
    p = _purchases.c
    update = (
        sa.update(_purchases)
        .where(
            p.org_uuid == sa.bindparam("org"),
            p.purchase_uuid == sa.bindparam("uuid"),
            p.document.is_(None),
        )
        .values(
            document=sa.bindparam("document"),
            timestamp_ms=sa.bindparam("stamp"),
            purchase_number=sa.bindparam("number"),
            refunds_purchase_uuid=sa.bindparam("refunds"),
        )
    )
    last_id = 0
    while True:
        batch = bind.execute(
            sa.select(_outbox.c.id, _outbox.c.org_uuid, _outbox.c.payload)
            .where(_outbox.c.event_name == "PurchaseCreated", _outbox.c.id > last_id)
            .order_by(_outbox.c.id)
            .limit(BACKFILL_BATCH_ROWS)
        ).all()
        if not batch:
            return
        last_id = batch[-1][0]
        for _id, org, payload in batch:
            try:
                document = loads_exact(payload)
            except json.JSONDecodeError:
                continue
            purchase_uuid = (
                canonical_uuid(document.get("purchaseUuid")) if isinstance(document, dict) else None
            )
            if purchase_uuid is None:
                continue
            fields = recorded_fields(document, purchase_uuid)
            bind.execute(
                update,
                {
                    "org": org,
                    "uuid": purchase_uuid,
                    "document": payload,
                    "stamp": fields.timestamp_ms,
                    "number": fields.purchase_number,
                    "refunds": fields.refunds_purchase_uuid,
                },
            )


def _defaults_for_the_rest(bind: Any) -> None:
    """Recording time for purchases without a time; the organization's next numbers, in time order,
    for purchases without a receipt number."""
    p = _purchases.c
    bind.execute(sa.update(_purchases).where(p.timestamp_ms.is_(None)).values(timestamp_ms=p.created_ms))
    highest = dict(
        bind.execute(
            sa.select(p.org_uuid, sa.func.max(p.purchase_number))
            .where(p.purchase_number.is_not(None))
            .group_by(p.org_uuid)
        ).all()
    )
    unnumbered = bind.execute(
        sa.select(p.org_uuid, p.purchase_uuid)
        .where(p.purchase_number.is_(None))
        .order_by(p.org_uuid, p.timestamp_ms, p.purchase_uuid)
    ).all()
    number_it = (
        sa.update(_purchases)
        .where(p.org_uuid == sa.bindparam("org"), p.purchase_uuid == sa.bindparam("uuid"))
        .values(purchase_number=sa.bindparam("number"))
    )
    for org, purchase_uuid in unnumbered:
        highest[org] = int(highest.get(org) or 0) + 1
        bind.execute(number_it, {"org": org, "uuid": purchase_uuid, "number": highest[org]})


def upgrade() -> None:
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("timestamp_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("purchase_number", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("refunds_purchase_uuid", sa.String(length=36), nullable=True))
    bind = op.get_bind()
    _documents_from_events(bind)
    _defaults_for_the_rest(bind)
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.alter_column("timestamp_ms", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("purchase_number", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_index(
            "ix_purchases_org_timestamp", ["org_uuid", "timestamp_ms", "purchase_uuid"], unique=False
        )
        batch_op.create_index("ix_purchases_org_number", ["org_uuid", "purchase_number"], unique=False)
        batch_op.create_index("ix_purchases_org_refunds", ["org_uuid", "refunds_purchase_uuid"], unique=False)

    op.create_table(
        "product_images",
        sa.Column("org_uuid", sa.String(length=36), nullable=False),
        sa.Column("lookup_key", sa.String(length=191), nullable=False),
        sa.Column("image_format", sa.String(length=8), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("source_digest", sa.String(length=64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("org_uuid", "lookup_key", name=op.f("pk_product_images")),
    )
    with op.batch_alter_table("product_images", schema=None) as batch_op:
        batch_op.create_index("ix_product_images_key", ["lookup_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("product_images", schema=None) as batch_op:
        batch_op.drop_index("ix_product_images_key")
    op.drop_table("product_images")
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index("ix_purchases_org_refunds")
        batch_op.drop_index("ix_purchases_org_number")
        batch_op.drop_index("ix_purchases_org_timestamp")
        batch_op.drop_column("refunds_purchase_uuid")
        batch_op.drop_column("purchase_number")
        batch_op.drop_column("timestamp_ms")
        batch_op.drop_column("document")
