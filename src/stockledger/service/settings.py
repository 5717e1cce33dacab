"""Organization settings (spec §8): the negative-stock policy (enforced by `domain.ledger`) and the
organization's profile that integrations read (name, country, currency, language, …)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.organization import EffectiveProfile, apply_changes, effective
from stockledger.service import organizations
from stockledger.service.context import Actor
from stockledger.store import orgs
from stockledger.store.db import Database
from stockledger.store.tables import organizations as organizations_table
from stockledger.store.unit_of_work import WriteClaim


@dataclass(frozen=True)
class OrgSettings:
    org_uuid: str
    allow_negative_stock: bool
    profile: EffectiveProfile  # the defaults filled in
    created_ms: int


async def _read(conn: AsyncConnection, org: str) -> OrgSettings:
    stored, created_ms = await orgs.profile(conn, org)
    return OrgSettings(org, await orgs.allows_negative_stock(conn, org), effective(stored, org), created_ms)


async def get(db: Database, actor: Actor) -> OrgSettings:
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> OrgSettings:
        return await _read(conn, actor.org)

    return await db.read(work)


async def put(
    db: Database,
    actor: Actor,
    *,
    allow_negative_stock: bool | None = None,
    profile_changes: dict[str, object] | None = None,
    claim: WriteClaim | None = None,
) -> OrgSettings:
    """Change what is given, keep the rest. `profile_changes`: values already parsed by
    `domain.organization.parse_changes` (None resets a field to its default)."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> OrgSettings:
        await orgs.lock(conn, actor.org)
        if allow_negative_stock is not None:
            await conn.execute(
                update(organizations_table)
                .where(organizations_table.c.uuid == actor.org)
                .values(allow_negative_stock=allow_negative_stock)
            )
        if profile_changes:
            stored, _ = await orgs.profile(conn, actor.org)
            await orgs.save_profile(conn, actor.org, apply_changes(stored, profile_changes))
        return await _read(conn, actor.org)

    return await db.write(work, claim=claim)
