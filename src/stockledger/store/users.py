"""Back-office accounts: one row per person, keyed by organization and UUID, found by e-mail at sign-in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.store.tables import users


@dataclass(frozen=True)
class UserRecord:
    org_uuid: str
    uuid: str
    email: str
    name: str
    password_hash: str = field(repr=False)  # never in a log line or an error message
    role: str
    must_change_password: bool
    failed_attempts: int
    locked_until_ms: int | None
    disabled_ms: int | None
    created_ms: int
    updated_ms: int


COLUMNS = [users.c[f.name] for f in UserRecord.__dataclass_fields__.values()]


def record_of(row: Any) -> UserRecord:
    return UserRecord(*row)


async def insert_user(conn: AsyncConnection, record: UserRecord) -> None:
    await conn.execute(
        insert(users).values(
            {name: getattr(record, name) for name in UserRecord.__dataclass_fields__},
        )
    )


async def by_email(conn: AsyncConnection, email: str) -> UserRecord | None:
    row = (await conn.execute(select(*COLUMNS).where(users.c.email == email))).first()
    return record_of(row) if row else None


async def by_uuid(
    conn: AsyncConnection, org: str, uuid: str, *, for_update: bool = False
) -> UserRecord | None:
    stmt = select(*COLUMNS).where(users.c.org_uuid == org, users.c.uuid == uuid)
    if for_update and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    return record_of(row) if row else None


async def list_users(conn: AsyncConnection, org: str | None = None) -> list[UserRecord]:
    stmt = select(*COLUMNS).order_by(users.c.org_uuid, users.c.created_ms, users.c.email)
    if org is not None:
        stmt = stmt.where(users.c.org_uuid == org)
    return [record_of(row) for row in (await conn.execute(stmt)).all()]


async def count_users(conn: AsyncConnection, org: str) -> int:
    return int(await conn.scalar(select(func.count()).select_from(users).where(users.c.org_uuid == org)) or 0)


async def active_owners(conn: AsyncConnection, org: str, owner_role: str) -> list[str]:
    """UUIDs of the organization's owners who are not disabled."""
    rows = await conn.execute(
        select(users.c.uuid).where(
            users.c.org_uuid == org, users.c.role == owner_role, users.c.disabled_ms.is_(None)
        )
    )
    return [str(uuid) for (uuid,) in rows.all()]


async def change(conn: AsyncConnection, org: str, uuid: str, now_ms: int, **values: Any) -> bool:
    """Set the given columns (and updated_ms) of one account; False when there is no such account."""
    result = await conn.execute(
        update(users).where(users.c.org_uuid == org, users.c.uuid == uuid).values(updated_ms=now_ms, **values)
    )
    return bool(result.rowcount)


async def record_failure(
    conn: AsyncConnection, email: str, now_ms: int, *, max_failures: int, lockout_ms: int
) -> int | None:
    """Count a wrong password for the account of `email`, in one statement (concurrent attempts each
    count): the `max_failures`-th in a row locks the account until now + `lockout_ms` and starts the
    count again. A locked account is left as it is. The same statement runs for an e-mail that names
    no account (it changes nothing), so both cost the same. Returns the lock's end when this failure
    locked the account."""
    reached = users.c.failed_attempts + 1 >= max_failures
    until = now_ms + lockout_ms
    result = await conn.execute(
        update(users)
        .where(
            users.c.email == email,
            or_(users.c.locked_until_ms.is_(None), users.c.locked_until_ms <= now_ms),
        )
        .values(
            failed_attempts=case((reached, 0), else_=users.c.failed_attempts + 1),
            locked_until_ms=case((reached, until), else_=users.c.locked_until_ms),
        )
        .returning(users.c.locked_until_ms)
    )
    row = result.first()
    if row is None or row[0] != until:
        return None
    return until


async def record_success(
    conn: AsyncConnection, org: str, uuid: str, now_ms: int, new_hash: str | None
) -> UserRecord | None:
    """A right password: the failure count starts again (and a hash of outdated parameters is
    replaced). None, changing nothing, when the account was locked or disabled meanwhile."""
    values: dict[str, Any] = {"failed_attempts": 0, "locked_until_ms": None}
    if new_hash is not None:
        values["password_hash"] = new_hash
    result = await conn.execute(
        update(users)
        .where(
            users.c.org_uuid == org,
            users.c.uuid == uuid,
            users.c.disabled_ms.is_(None),
            or_(users.c.locked_until_ms.is_(None), users.c.locked_until_ms <= now_ms),
        )
        .values(values)
        .returning(*COLUMNS)
    )
    row = result.first()
    return record_of(row) if row else None


async def names_of(conn: AsyncConnection, org: str, uuids: set[str]) -> dict[str, str]:
    """UUID → name of the organization's accounts among `uuids` (disabled ones too: history keeps them)."""
    if not uuids:
        return {}
    rows = await conn.execute(
        select(users.c.uuid, users.c.name).where(
            and_(users.c.org_uuid == org, users.c.uuid.in_(sorted(uuids)))
        )
    )
    return {str(uuid): str(name) for uuid, name in rows.all()}
