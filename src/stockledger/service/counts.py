"""Stock counts (spec §8): set balances to counted values, recording the differences in the ledger."""

from __future__ import annotations

from dataclasses import dataclass

from stockledger.domain.changes import Change, Source
from stockledger.domain.errors import ServiceError, Violation, not_tracked, validation_error
from stockledger.domain.ledger import Request
from stockledger.domain.locations import LocationType
from stockledger.domain.quantity import format_units
from stockledger.service import organizations, posting
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef, resolve_location
from stockledger.service.inventory_writes import check_limit
from stockledger.service.results import BalanceRecord, LocationBalances
from stockledger.store import balances, locations, orgs, write_path
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import UnitOfWork, WriteClaim


@dataclass(frozen=True)
class Count:
    """One counted variant: the absolute `units` found, optionally the balance the counter expected."""

    product_uuid: str
    variant_uuid: str
    units: int
    expected_units: int | None
    path: str


def _difference(count: Count, current: int, location: str, bin_: str, supplier: str) -> Change | None:
    """A lower count discards the difference to BIN; a higher one restocks it from SUPPLIER."""
    diff = count.units - current
    if diff < 0:
        return Change(count.product_uuid, count.variant_uuid, location, bin_, -diff, count.path)
    if diff > 0:
        return Change(count.product_uuid, count.variant_uuid, supplier, location, diff, count.path)
    return None


async def apply_counts(
    db: Database,
    actor: Actor,
    counts: list[Count],
    *,
    location_uuid: str | None,
    external_uuid: str | None,
    max_changes: int,
    default_low_stock_units: int,
    claim: WriteClaim | None = None,
) -> LocationBalances:
    """All counts in one transaction; any stale `expectedBalance` → 409 BALANCE_CHANGED, nothing applies."""
    check_limit(len(counts), max_changes, "counts")
    seen: dict[tuple[str, str], str] = {}
    for count in counts:
        key = (count.product_uuid, count.variant_uuid)
        if key in seen:
            raise validation_error(
                [Violation(f"{count.path}.variantUuid", f"is already counted in {seen[key]}")]
            )
        seen[key] = count.path
    await organizations.ensure(db, actor.org)

    async def work(uow: UnitOfWork) -> LocationBalances:
        conn = uow.conn
        await orgs.lock(conn, actor.org)
        prelude = await write_path.prelude(conn, actor.org, (c.product_uuid for c in counts))
        all_locations = prelude.locations
        location = resolve_location(all_locations, LocationRef(uuid=location_uuid), in_path=False)
        if location.type != LocationType.STORE:
            raise validation_error([Violation("locationUuid", "must be a STORE-type location")])
        for count in counts:
            if count.product_uuid not in prelude.tracked:
                raise not_tracked(count.product_uuid, f"{count.path}.productUuid")
        current = await balances.current_units(
            conn, actor.org, [(location.uuid, c.product_uuid, c.variant_uuid) for c in counts]
        )

        def units_now(count: Count) -> int:
            return current.get((location.uuid, count.product_uuid, count.variant_uuid), 0)

        stale = [c for c in counts if c.expected_units is not None and c.expected_units != units_now(c)]
        if stale:
            raise ServiceError(
                f"{stale[0].path}.expectedBalance differs from the current balance",
                409,
                "BALANCE_CHANGED",
                [
                    Violation(f"{c.path}.expectedBalance", f"current balance is {format_units(units_now(c))}")
                    for c in stale
                ],
                extra={
                    "currentBalances": [
                        {
                            "locationUuid": location.uuid,
                            "productUuid": c.product_uuid,
                            "variantUuid": c.variant_uuid,
                            "balance": format_units(units_now(c)),
                        }
                        for c in counts
                    ]
                },
            )
        bin_ = locations.by_type(all_locations, LocationType.BIN)
        supplier = locations.by_type(all_locations, LocationType.SUPPLIER)
        assert bin_ is not None and supplier is not None
        changes = [
            change
            for c in counts
            if (change := _difference(c, units_now(c), location.uuid, bin_.uuid, supplier.uuid)) is not None
        ]
        counted = posting.Posting(actor, Request(changes), external_uuid)
        await posting.post(
            uow,
            actor.org,
            [counted],
            prelude,
            source=Source.COUNT,
            at_ms=now_ms(),
            default_low_stock_units=default_low_stock_units,
            known=current,
        )
        records = [
            BalanceRecord(location.uuid, location.type, c.product_uuid, c.variant_uuid, c.units)
            for c in sorted(counts, key=lambda c: (c.product_uuid, c.variant_uuid))
        ]
        return LocationBalances(location.uuid, records)

    return await db.unit_of_work(work, claim=claim)
