"""Low-stock configurations (spec §6) and the low-stock view's single indexed query."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, delete, func, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql import Select

from stockledger.domain.changes import BalanceKey
from stockledger.domain.low_stock_rules import LowStockConfig
from stockledger.store.balances import BalanceRow
from stockledger.store.sql import upsert
from stockledger.store.tables import balances, low_stock_levels, products

# Keys per statement when matching (location, product, variant) tuples: far below the bind-parameter
# limits of SQLite (32,766) and PostgreSQL (32,767) at three parameters per key.
KEYS_PER_STATEMENT = 5000
# Rows per multi-row upsert: seven parameters a row keeps a statement far below those limits too.
ROWS_PER_UPSERT = 1000


def _chunks(keys: list[BalanceKey]) -> Iterable[list[BalanceKey]]:
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        yield keys[start : start + KEYS_PER_STATEMENT]


async def save(
    conn: AsyncConnection, org: str, configs: dict[BalanceKey, LowStockConfig], at_ms: int
) -> None:
    """Store each configuration; one equal to the defaults deletes its row instead.

    Keys are unique (a dict), so a multi-row upsert never touches one row twice.
    """
    stored = [(key, cfg) for key, cfg in sorted(configs.items()) if not cfg.is_default]
    removed = [key for key, cfg in sorted(configs.items()) if cfg.is_default]
    if removed:
        await remove(conn, org, removed)
    for start in range(0, len(stored), ROWS_PER_UPSERT):
        rows = [
            {
                "org_uuid": org,
                "location_uuid": key[0],
                "product_uuid": key[1],
                "variant_uuid": key[2],
                "level_units": cfg.level_units,
                "alert": cfg.alert,
                "updated_ms": at_ms,
            }
            for key, cfg in stored[start : start + ROWS_PER_UPSERT]
        ]
        stmt = upsert(conn, low_stock_levels).values(rows)
        stmt = stmt.on_conflict_do_update(
            index_elements=["org_uuid", "location_uuid", "product_uuid", "variant_uuid"],
            set_={
                "level_units": stmt.excluded.level_units,
                "alert": stmt.excluded.alert,
                "updated_ms": stmt.excluded.updated_ms,
            },
        )
        await conn.execute(stmt)


async def remove(conn: AsyncConnection, org: str, keys: Iterable[BalanceKey]) -> None:
    """Delete the configurations of the given (location, product, variant) keys; missing ones are fine."""
    for chunk in _chunks(sorted(set(keys))):
        await conn.execute(
            delete(low_stock_levels).where(
                low_stock_levels.c.org_uuid == org,
                tuple_(
                    low_stock_levels.c.location_uuid,
                    low_stock_levels.c.product_uuid,
                    low_stock_levels.c.variant_uuid,
                ).in_(chunk),
            )
        )


async def configs_of(
    conn: AsyncConnection, org: str, keys: Iterable[BalanceKey]
) -> dict[BalanceKey, LowStockConfig]:
    """The stored configurations of the given (location, product, variant) keys; unset keys are absent."""
    c = low_stock_levels.c
    found: dict[BalanceKey, LowStockConfig] = {}
    for chunk in _chunks(sorted(set(keys))):
        stmt = select(c.location_uuid, c.product_uuid, c.variant_uuid, c.level_units, c.alert).where(
            c.org_uuid == org, tuple_(c.location_uuid, c.product_uuid, c.variant_uuid).in_(chunk)
        )
        for location, product, variant, level, alert in (await conn.execute(stmt)).all():
            found[(location, product, variant)] = LowStockConfig(
                product, variant, None if level is None else int(level), bool(alert)
            )
    return found


async def in_location(
    conn: AsyncConnection, org: str, location_uuid: str, product_uuid: str | None = None
) -> list[LowStockConfig]:
    """The stored configurations of one location (optionally one product), by product then variant."""
    c = low_stock_levels.c
    stmt = (
        select(c.product_uuid, c.variant_uuid, c.level_units, c.alert)
        .where(c.org_uuid == org, c.location_uuid == location_uuid)
        .order_by(c.product_uuid, c.variant_uuid)
    )
    if product_uuid is not None:
        stmt = stmt.where(c.product_uuid == product_uuid)
    return [
        LowStockConfig(p, v, None if level is None else int(level), bool(alert))
        for p, v, level, alert in (await conn.execute(stmt)).all()
    ]


async def alerted_among(
    conn: AsyncConnection, org: str, keys: Iterable[BalanceKey]
) -> dict[BalanceKey, int | None]:
    """Stored level (None = unset) of each given balance key whose alert is on.

    Runs inside every movement, so it selects by the primary key's prefix (location, product) with
    two plain IN lists and keeps the wanted variants here: a request touches few locations, and
    a row-value IN over thousands of keys plans slowly on PostgreSQL.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    c = low_stock_levels.c
    location_ids = sorted({key[0] for key in wanted})
    product_ids = sorted({key[1] for key in wanted})
    found: dict[BalanceKey, int | None] = {}
    for start in range(0, len(product_ids), KEYS_PER_STATEMENT):
        stmt = select(c.location_uuid, c.product_uuid, c.variant_uuid, c.level_units).where(
            c.org_uuid == org,
            c.location_uuid.in_(location_ids),
            c.product_uuid.in_(product_ids[start : start + KEYS_PER_STATEMENT]),
            c.alert == true(),
        )
        for location, product, variant, level in (await conn.execute(stmt)).all():
            key = (location, product, variant)
            if key in wanted:
                found[key] = None if level is None else int(level)
    return found


def low_stock_query(org: str, location_uuid: str, default_units: int) -> Select[Any]:
    """Tracked variants of one location with alert on whose balance is at or below their level.

    Driven by ix_low_stock_levels_alerted (org, location, alert, product, variant): a range scan of
    the alerted configurations, already in answer order, each joined by primary key to its product
    and its balance. A configured variant without a balance row counts as balance 0.
    """
    c = low_stock_levels.c
    units = func.coalesce(balances.c.units, 0)
    return (
        select(c.product_uuid, c.variant_uuid, units)
        .select_from(
            low_stock_levels.join(
                products,
                and_(products.c.org_uuid == c.org_uuid, products.c.product_uuid == c.product_uuid),
            ).outerjoin(
                balances,
                and_(
                    balances.c.org_uuid == c.org_uuid,
                    balances.c.location_uuid == c.location_uuid,
                    balances.c.product_uuid == c.product_uuid,
                    balances.c.variant_uuid == c.variant_uuid,
                ),
            )
        )
        .where(
            c.org_uuid == org,
            c.location_uuid == location_uuid,
            c.alert == true(),
            products.c.tracked == true(),
            units <= func.coalesce(c.level_units, default_units),
        )
        .order_by(c.product_uuid, c.variant_uuid)
    )


async def low_in_location(
    conn: AsyncConnection, org: str, location_uuid: str, default_units: int
) -> list[BalanceRow]:
    stmt = low_stock_query(org, location_uuid, default_units)
    return [BalanceRow(p, v, int(u)) for p, v, u in (await conn.execute(stmt)).all()]
