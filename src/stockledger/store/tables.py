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
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
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
    # The profile integrations read (GET /api/resources/organizations/self); NULL = the default.
    Column("name", String(255)),
    Column("country", String(2)),
    Column("currency", String(3)),
    Column("language", String(2)),
    Column("time_zone", String(64)),
    Column("vat_percentage", String(16)),  # a decimal in plain notation, e.g. "12.5" (never a float)
    Column("contact_email", String(254)),
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
    Column("label", String(100), nullable=True),  # what people call the key: "Webshop", "Till 2"
    Index("ix_api_keys_org", "org_uuid"),
)

# Purchases recorded from a point of sale (spec §9): one row per purchase UUID makes recording
# idempotent; `result` is the JSON answer of the first submission, replayed to every later one.
# The Purchase API (v2) reads them back: `document` is the purchase as received (NULL only where the
# event log no longer held it when the column was added), `timestamp_ms` the purchase's own time
# (the document's, else the recording time) and with the UUID the keyset of `GET /purchases/v2`.
purchases = Table(
    "purchases",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("purchase_uuid", String(UUID_LEN), primary_key=True),
    Column("channel", String(16), nullable=False),  # API, WEBHOOK or IMPORT
    Column("result", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("document", Text, nullable=True),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("purchase_number", BigInteger, nullable=False),  # the document's, else the next of the org
    Column("refunds_purchase_uuid", String(UUID_LEN), nullable=True),  # a refund: the purchase it refunds
    Index("ix_purchases_org_timestamp", "org_uuid", "timestamp_ms", "purchase_uuid"),
    Index("ix_purchases_org_number", "org_uuid", "purchase_number"),
    Index("ix_purchases_org_refunds", "org_uuid", "refunds_purchase_uuid"),
)

# Images registered through the image service (product-library-api §4): the lookup key handed out
# for a source (an image URL, or uploaded bytes known by their digest; the bytes are not kept).
product_images = Table(
    "product_images",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("lookup_key", String(191), primary_key=True),  # clients index keys of up to 191 characters
    Column("image_format", String(8), nullable=False),
    Column("source_url", Text, nullable=True),  # NULL for an upload of bytes
    Column("source_digest", String(64), nullable=False),  # sha256 hex of the URL or of the bytes
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    # GET /productimage/{size}/{key} carries no organization: keys are unique by construction.
    Index("ix_product_images_key", "lookup_key"),
)

# The signing key of the merchant's own Zettle subscription, verifying the PurchaseCreated receiver.
purchase_connections = Table(
    "purchase_connections",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("signing_key", String(255), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

# Low-stock configuration per (location, variant) (spec §6). Only non-default rows are stored.
low_stock_levels = Table(
    "low_stock_levels",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("location_uuid", String(UUID_LEN), primary_key=True),
    Column("product_uuid", String(UUID_LEN), primary_key=True),
    Column("variant_uuid", String(UUID_LEN), primary_key=True),
    Column("level_units", BigInteger, nullable=True),  # thousandths; NULL = the server default applies
    Column("alert", Boolean, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    # The low-stock view scans the alerted rows of one location in (product, variant) order.
    Index(
        "ix_low_stock_levels_alerted", "org_uuid", "location_uuid", "alert", "product_uuid", "variant_uuid"
    ),
)

# ---- the Product Library (product-library-api §2) ------------------------------------------
# The tables began as the back office's catalog of names (hence their names) and grew into the
# library's products and variants: one model that the library API, the catalog extension, the CSV
# import, names learnt from purchases and the back office all read and write. Balances never depend
# on them (spec §8 Q12): tracking and stock work for products the library does not hold.
# Nested members (presentation, options, online, metadata, …) are JSON text: they are only ever read
# and written whole, with their product.

catalog_products = Table(
    "catalog_products",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("product_uuid", String(UUID_LEN), primary_key=True),
    Column("name", String(256), nullable=True),  # NULL: known only by UUID (a purchase line without one)
    Column("updated_ms", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("etag", String(32), nullable=False),  # changes on every write (spec §1.5)
    Column("created_by", String(255), nullable=True),
    Column("updated_by", String(255), nullable=True),
    Column("description", Text, nullable=True),
    Column("category_uuid", String(UUID_LEN), nullable=True),  # → product_categories
    Column("legacy_categories", Text, nullable=True),  # JSON array of strings (`categories`)
    Column("image_lookup_keys", Text, nullable=True),  # JSON array of strings
    Column("presentation", Text, nullable=True),  # JSON object
    Column("option_definitions", Text, nullable=True),  # JSON: `variantOptionDefinitions.definitions`
    Column("external_reference", String(128), nullable=True),
    Column("unit_name", String(32), nullable=True),
    Column("vat_percentage", String(16), nullable=True),  # a decimal in plain notation, e.g. "12.5"
    Column("tax_exempt", Boolean, nullable=False, server_default=text("false")),
    Column("tax_rates", Text, nullable=True),  # JSON array of tax-rate UUIDs
    Column("tax_code", String(255), nullable=True),
    Column("online", Text, nullable=True),  # JSON object, as written
    Column("product_metadata", Text, nullable=True),  # JSON object `metadata`, as written
    # The library lists products oldest first, a page at a time along this index.
    Index("ix_catalog_products_org_created", "org_uuid", "created_ms", "product_uuid"),
    Index("ix_catalog_products_org_category", "org_uuid", "category_uuid"),
)

catalog_variants = Table(
    "catalog_variants",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("product_uuid", String(UUID_LEN), primary_key=True),
    Column("variant_uuid", String(UUID_LEN), primary_key=True),
    Column("name", String(256), nullable=True),
    Column("sku", String(255), nullable=True),
    Column("barcode", String(255), nullable=True),
    # casefold(product name) + U+001F + casefold(variant name); NULL while the product has no name.
    # The stock page walks this index in order (keyset paging), so it stays fast at any size.
    Column("sort_key", String(520), nullable=True),
    Column("updated_ms", BigInteger, nullable=False),
    Column("position", Integer, nullable=False, server_default=text("0")),  # order within the product
    Column("description", Text, nullable=True),
    Column("unit_name", String(32), nullable=True),
    Column("price_amount", BigInteger, nullable=True),  # minor units
    Column("price_currency", String(3), nullable=True),
    Column("cost_price_amount", BigInteger, nullable=True),
    Column("cost_price_currency", String(3), nullable=True),
    Column("options", Text, nullable=True),  # JSON array of {name, value}
    Column("presentation", Text, nullable=True),  # JSON object
    Index("ix_catalog_variants_org_sku", "org_uuid", "sku"),
    Index("ix_catalog_variants_org_sort", "org_uuid", "sort_key", "product_uuid", "variant_uuid"),
    # A variant UUID names one variant of the organization (the Inventory API keys stock by it).
    Index("ix_catalog_variants_org_variant", "org_uuid", "variant_uuid"),
    Index("ix_catalog_variants_org_barcode", "org_uuid", "barcode"),
)

# Categories of the library (§3.9); products name at most one.
product_categories = Table(
    "product_categories",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("uuid", String(UUID_LEN), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("etag", String(32), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    Column("updated_by", String(255), nullable=True),
)

# The back office pages a store's stock by balance (keyset on units, then the key); this index serves it.
Index(
    "ix_balances_org_location_units",
    balances.c.org_uuid,
    balances.c.location_uuid,
    balances.c.units,
    balances.c.product_uuid,
    balances.c.variant_uuid,
)

# Pusher subscriptions (spec §7). `event_names` is a JSON array; empty means every event. The client
# chooses the UUID, so it is unique per organization only: another organization's UUID is no
# business of this one (neither visible nor blocked).
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("uuid", String(UUID_LEN), nullable=False),
    Column("org_uuid", String(UUID_LEN), nullable=False),
    Column("transport_name", String(32), nullable=False),
    Column("event_names", Text, nullable=False),
    Column("destination", Text, nullable=False),
    Column("contact_email", String(512), nullable=False),
    Column("status", String(16), nullable=False),
    Column("signing_key", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("org_uuid", "uuid"),
)

# One row per (subscription, outbox message): the delivery log and the retry state. A subscription is
# (org_uuid, subscription_uuid); a message belongs to one organization, so (subscription_uuid,
# message_uuid) is unique even where two organizations chose the same subscription UUID.
deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer().with_variant(BigInteger, "postgresql"), primary_key=True, autoincrement=True),
    Column("org_uuid", String(UUID_LEN), nullable=False),
    Column("subscription_uuid", String(UUID_LEN), nullable=False),
    Column("outbox_id", BigInteger, nullable=False),  # per-subscription delivery order
    Column("message_uuid", String(UUID_LEN), nullable=False),
    Column("event_name", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # PENDING, DELIVERED, FAILED, CANCELLED
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("failures", Integer, nullable=False, server_default=text("0")),  # position in the schedule
    Column("last_status", String(255), nullable=True),
    Column("last_attempt_ms", BigInteger, nullable=True),
    Column("next_attempt_ms", BigInteger, nullable=True),
    Column("lease_until_ms", BigInteger, nullable=True),  # claimed by a dispatcher until then
    Column("created_ms", BigInteger, nullable=False),
    UniqueConstraint("subscription_uuid", "message_uuid"),
    Index("ix_deliveries_due", "state", "next_attempt_ms"),
    Index("ix_deliveries_subscription_order", "subscription_uuid", "state", "outbox_id"),
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

# Stocktake uploads of the back office: the parsed, checked rows of one CSV file (zlib-compressed
# JSON) with the balances its preview showed, kept until applied or a day old.
stocktakes = Table(
    "stocktakes",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("uuid", String(UUID_LEN), primary_key=True),
    Column("location_uuid", String(UUID_LEN), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("applied_ms", BigInteger, nullable=True),
    Index("ix_stocktakes_created", "created_ms"),
)

# Settings of the installation, not of an organization: e.g. `secret_fingerprint`, which lets a
# command notice that it runs with another secret than the one the stored API keys were signed with.
instance_settings = Table(
    "instance_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

# Readiness (GET /readyz) proves the database accepts writes by committing a row here and deleting it
# in the same transaction: the table stays empty, so exports and imports never see it.
write_probes = Table(
    "write_probes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("at_ms", BigInteger, nullable=False),
)

# Back-office sessions (web/session.py): the signed cookie names one of these rows, so signing out
# (deleting the row) ends the session on the server, whatever copies of the cookie exist. `id` is
# the SHA-256 of the cookie's session id: the table alone cannot be turned into a cookie.
ui_sessions = Table(
    "ui_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("org_uuid", String(UUID_LEN), nullable=False),
    # Exactly one of the two: the API key a session was opened with (when the setting allows it), or
    # the account of the person who signed in.
    Column("key_id", String(64), nullable=True),
    Column("user_uuid", String(UUID_LEN), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Index("ix_ui_sessions_expires", "expires_ms"),
    Index("ix_ui_sessions_org_uuid_user_uuid", "org_uuid", "user_uuid"),
)

# People who sign in to the back office. An e-mail names one account in the whole installation
# (stored lower-case, so the unique key ignores letter case): sign-in needs no organization.
users = Table(
    "users",
    metadata,
    Column("org_uuid", String(UUID_LEN), primary_key=True),
    Column("uuid", String(UUID_LEN), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("name", String(255), nullable=False),
    Column("password_hash", String(255), nullable=False),  # argon2id, in its own encoded form
    Column("role", String(16), nullable=False),  # domain.accounts.Role
    # Set when an owner chose the password (a new account, a reset): replaced at the next sign-in.
    Column("must_change_password", Boolean, nullable=False, server_default=text("false")),
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_until_ms", BigInteger, nullable=True),
    Column("disabled_ms", BigInteger, nullable=True),  # NULL: active
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    UniqueConstraint("email"),
)
