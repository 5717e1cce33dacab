"""The schema. Every key leads with the organization UUID so data can be partitioned by merchant.

Quantities are BIGINT thousandths (see domain.quantity): exact on both SQLite and PostgreSQL.
Times are BIGINT milliseconds since the Unix epoch (UTC): portable and cheap to compare.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    }
)

UUID_LEN = 36

organizations = Table(
    "organizations",
    metadata,
    Column("uuid", String(UUID_LEN), primary_key=True),
    # The change sequence (spec §1): bumped under this row's lock by every committed movement.
    Column("seq", BigInteger, nullable=False, server_default=text("0")),
    Column("allow_negative_stock", Boolean, nullable=False, server_default=text("true")),
    Column("created_ms", BigInteger, nullable=False),
)

locations = Table(
    "locations",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("uuid", String(UUID_LEN), primary_key=True),
    Column("type", String(16), nullable=False),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("is_default", Boolean, nullable=False, server_default=text("false")),
    Column("is_system", Boolean, nullable=False, server_default=text("false")),
    Column("created_ms", BigInteger, nullable=False),
)

products = Table(
    "products",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("product_uuid", String(UUID_LEN), primary_key=True),
    Column("tracked", Boolean, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

balances = Table(
    "balances",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("location_uuid", String(UUID_LEN), primary_key=True),
    Column("product_uuid", String(UUID_LEN), primary_key=True),
    Column("variant_uuid", String(UUID_LEN), primary_key=True),
    Column("units", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),  # sequence number of the last change
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_balances_org_location_seq", "org_uuid", "location_uuid", "seq"),
)

movements = Table(
    "movements",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("uuid", String(UUID_LEN), nullable=False),
    Column("product_uuid", String(UUID_LEN), nullable=False),
    Column("variant_uuid", String(UUID_LEN), nullable=False),
    Column("from_location_uuid", String(UUID_LEN), nullable=False),
    Column("to_location_uuid", String(UUID_LEN), nullable=False),
    Column("units", BigInteger, nullable=False),  # always > 0
    Column("external_uuid", String(255), nullable=True),
    Column("source", String(16), nullable=False),
    Column("actor", String(255), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_movements_org_variant_seq", "org_uuid", "product_uuid", "variant_uuid", "seq"),
    Index("ix_movements_org_from_seq", "org_uuid", "from_location_uuid", "seq"),
    Index("ix_movements_org_to_seq", "org_uuid", "to_location_uuid", "seq"),
    Index("ix_movements_org_external", "org_uuid", "external_uuid"),
    Index("ix_movements_org_created", "org_uuid", "created_ms"),
)

# Transactional outbox: rows written in the same transaction as the change that causes them.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer().with_variant(BigInteger, "postgresql"), primary_key=True, autoincrement=True),
    Column("org_uuid", String(UUID_LEN), nullable=False),
    Column("event_name", String(64), nullable=False),
    Column("message_uuid", String(UUID_LEN), nullable=False, unique=True),
    Column("message_id", String(UUID_LEN), nullable=False),
    Column("payload", Text, nullable=False),  # the payload JSON string, exactly as it will be signed
    Column("timestamp", String(32), nullable=False),  # the envelope timestamp text, exactly as signed
    Column("created_ms", BigInteger, nullable=False),
    Column("dispatched", Boolean, nullable=False, server_default=text("false")),
    Index("ix_outbox_pending", "dispatched", "id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("org_uuid", String(UUID_LEN), nullable=False),
    Column("sub", String(UUID_LEN), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger, nullable=True),
    Index("ix_api_keys_org", "org_uuid"),
)

# Idempotency keys (spec §8): claimed in the same transaction as the write they guard; the response
# is stored right after commit so a retry with the same key replays it.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # sha256 of method, path and body
    Column("created_ms", BigInteger, nullable=False),
    Column("status", Integer, nullable=True),  # null until the response is stored
    Column("content_type", String(255), nullable=True),
    Column("body", LargeBinary, nullable=True),
    Index("ix_idempotency_keys_created", "created_ms"),
)

__all__ = [
    "api_keys",
    "balances",
    "idempotency_keys",
    "locations",
    "metadata",
    "movements",
    "organizations",
    "outbox",
    "products",
]
