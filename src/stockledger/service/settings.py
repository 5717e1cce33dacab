"""Organization settings (spec §8): the negative-stock policy (enforced by `domain.ledger`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.service import organizations
from stockledger.service.context import Actor
from stockledger.store import orgs
from stockledger.store.db import Database
from stockledger.store.tables import organizations as organizations_table
from stockledger.store.unit_of_work import WriteClaim


@dataclass(frozen=True)
class OrgSettings:
    allow_negative_stock: bool


async def get(db: Database, actor: Actor) -> OrgSettings:
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> OrgSettings:
        return OrgSettings(await orgs.allows_negative_stock(conn, actor.org))

    return await db.read(work)


async def put(
    db: Database, actor: Actor, *, allow_negative_stock: bool, claim: WriteClaim | None = None
) -> OrgSettings:
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> OrgSettings:
        await orgs.lock(conn, actor.org)
        await conn.execute(
            update(organizations_table)
            .where(organizations_table.c.uuid == actor.org)
            .values(allow_negative_stock=allow_negative_stock)
        )
        return OrgSettings(allow_negative_stock)

    return await db.write(work, claim=claim)
