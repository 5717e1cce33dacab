"""Organizations: creation with their system locations (exactly once), the change sequence, the profile."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.ids import new_location_uuid
from stockledger.domain.locations import SYSTEM_DESCRIPTION, SYSTEM_LOCATION_TYPES, LocationType
from stockledger.domain.organization import Profile
from stockledger.store.sql import now_ms, upsert
from stockledger.store.tables import locations, organizations


async def create_if_missing(conn: AsyncConnection, org: str) -> bool:
    """Create the organization and its system locations unless it exists. True when created now.

    Exactly once under concurrency: the INSERT … ON CONFLICT DO NOTHING on the primary key makes a
    concurrent second transaction wait for the first and then insert nothing (PostgreSQL); SQLite
    writers are serialised by BEGIN IMMEDIATE.
    """
    created_ms = now_ms()
    stmt = (
        upsert(conn, organizations)
        .values(uuid=org, seq=0, allow_negative_stock=True, created_ms=created_ms)
        .on_conflict_do_nothing(index_elements=["uuid"])
        .returning(organizations.c.uuid)
    )
    if (await conn.execute(stmt)).first() is None:
        return False
    await conn.execute(
        locations.insert(),
        [
            {
                "org_uuid": org,
                "uuid": new_location_uuid(),
                "type": kind.value,
                "name": kind.value,
                "description": SYSTEM_DESCRIPTION,
                "is_default": kind is LocationType.STORE,
                "is_system": True,
                "created_ms": created_ms,
            }
            for kind in SYSTEM_LOCATION_TYPES
        ],
    )
    return True


# Statements of the hot write path are built once: building SQLAlchemy constructs per call costs more
# CPU than executing them (their compiled form is cached by SQLAlchemy either way).
_LATEST_SEQ = select(organizations.c.seq).where(organizations.c.uuid == bindparam("org"))
_ALLOCATE_SEQ = (
    update(organizations)
    .where(organizations.c.uuid == bindparam("org"))
    .values(seq=organizations.c.seq + bindparam("count"))
    .returning(organizations.c.seq)
)
_SET_SEQ = update(organizations).where(organizations.c.uuid == bindparam("org")).values(seq=bindparam("seq"))
# FOR NO KEY UPDATE is the row lock an UPDATE takes, without writing a new row version. SQLite renders
# no locking clause: its writers already hold the database's write lock from BEGIN IMMEDIATE.
_LOCK = _LATEST_SEQ.with_for_update(key_share=True)


async def latest_seq(conn: AsyncConnection, org: str) -> int:
    value = await conn.scalar(_LATEST_SEQ, {"org": org})
    return int(value or 0)


async def allocate_seq(conn: AsyncConnection, org: str, count: int) -> int:
    """Reserve `count` sequence numbers; returns the last one. Locks the organization row until commit,
    so sequence numbers are handed out in commit order (a client's `since` never misses a change)."""
    value = (await conn.execute(_ALLOCATE_SEQ, {"org": org, "count": count})).scalar_one()
    return int(value)


async def give_back_seq(conn: AsyncConnection, org: str, last_used: int) -> None:
    """Return sequence numbers reserved in this transaction but not used: the last one used is
    `last_used` (the caller holds the lock, so nobody else reserved any meanwhile)."""
    await conn.execute(_SET_SEQ, {"org": org, "seq": last_used})


async def lock(conn: AsyncConnection, org: str) -> int:
    """Take the organization's write lock without consuming a sequence number; returns the current seq."""
    value = await conn.scalar(_LOCK, {"org": org})
    if value is None:  # pragma: no cover - callers ensure the organization first
        raise LookupError(f"organization {org} does not exist")
    return int(value)


async def allows_negative_stock(conn: AsyncConnection, org: str) -> bool:
    value = await conn.scalar(select(organizations.c.allow_negative_stock).where(organizations.c.uuid == org))
    return True if value is None else bool(value)


_PROFILE_COLUMNS = (
    organizations.c.name,
    organizations.c.country,
    organizations.c.currency,
    organizations.c.language,
    organizations.c.time_zone,
    organizations.c.vat_percentage,
    organizations.c.contact_email,
)


async def profile(conn: AsyncConnection, org: str) -> tuple[Profile, int]:
    """The organization's stored profile (None = not set) and its creation time in epoch ms."""
    row = (
        await conn.execute(
            select(*_PROFILE_COLUMNS, organizations.c.created_ms).where(organizations.c.uuid == org)
        )
    ).first()
    if row is None:  # pragma: no cover - callers ensure the organization first
        raise LookupError(f"organization {org} does not exist")
    stored = Profile(
        name=row.name,
        country=row.country,
        currency=row.currency,
        language=row.language,
        time_zone=row.time_zone,
        vat_percentage=None if row.vat_percentage is None else Decimal(row.vat_percentage),
        contact_email=row.contact_email,
    )
    return stored, int(row.created_ms)


async def save_profile(conn: AsyncConnection, org: str, stored: Profile) -> None:
    """Write every profile field (the caller holds the organization's lock)."""
    vat = None if stored.vat_percentage is None else format(stored.vat_percentage, "f")
    await conn.execute(
        update(organizations)
        .where(organizations.c.uuid == org)
        .values(
            name=stored.name,
            country=stored.country,
            currency=stored.currency,
            language=stored.language,
            time_zone=stored.time_zone,
            vat_percentage=vat,
            contact_email=stored.contact_email,
        )
    )
