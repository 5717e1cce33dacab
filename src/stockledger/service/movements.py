"""Applying movements: PUT /inventory and bulk v2 (spec §5), the ledger invariant's only writer.

Every write runs in one transaction that first takes the organization's row lock (allocating its
change sequence numbers), then validates against the locked state, then updates the balances,
appends the ledger rows and the outbox events. A failure anywhere rolls all of it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain import events
from stockledger.domain.errors import Violation, not_tracked, validation_error
from stockledger.domain.locations import LocationType
from stockledger.domain.movements import BalanceKey, Change, Source, net_deltas
from stockledger.domain.quantity import format_units
from stockledger.metrics import MOVEMENTS
from stockledger.service import low_stock, organizations, settings, tracking
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef, records, resolve_location
from stockledger.service.results import LocationBalances
from stockledger.store import balances, locations, movements, orgs, outbox, products
from stockledger.store.db import Database, after_commit
from stockledger.store.locations import Location
from stockledger.store.sql import now_ms


@dataclass
class Applied:
    """What one request did to the balances: (before, after) units per changed key."""

    changed: dict[BalanceKey, tuple[int, int]] = field(default_factory=dict)
    last_seq: int = 0


@dataclass(frozen=True)
class ProductChange:
    """One entry of a bulk request."""

    product_uuid: str
    tracking: str  # START_TRACKING, STOP_TRACKING or NO_CHANGE
    changes: list[Change]
    path: str


def check_limit(count: int, limit: int, path: str) -> None:
    if count > limit:
        raise validation_error([Violation(path, f"must contain at most {limit} changes")])


def check_locations(all_locations: list[Location], changes: Iterable[Change]) -> None:
    """Both ends of every change must be locations of this organization."""
    known = {loc.uuid for loc in all_locations}
    violations = []
    for change in changes:
        if change.from_location not in known:
            violations.append(Violation(f"{change.path}.fromLocationUuid", "unknown location"))
        if change.to_location not in known:
            violations.append(Violation(f"{change.path}.toLocationUuid", "unknown location"))
    if violations:
        raise validation_error(violations)


async def apply_locked(
    conn: AsyncConnection,
    actor: Actor,
    changes: list[Change],
    all_locations: list[Location],
    *,
    source: Source,
    external_uuid: str | None,
    at_ms: int,
) -> Applied:
    """Apply validated changes; the caller holds the organization lock and checked tracking."""
    if not changes:
        return Applied()
    last_seq = await orgs.allocate_seq(conn, actor.org, len(changes))
    first_seq = last_seq - len(changes) + 1
    seq_by_key: dict[BalanceKey, int] = {}
    for offset, change in enumerate(changes):
        for location in (change.from_location, change.to_location):
            seq_by_key[(location, change.product_uuid, change.variant_uuid)] = first_seq + offset
    changed = await balances.apply_deltas(conn, actor.org, net_deltas(changes), seq_by_key, at_ms)
    await settings.check_negative_stock(conn, actor.org, changes, changed, all_locations, source.value)
    await movements.record(
        conn,
        actor.org,
        changes,
        first_seq,
        source=source.value,
        actor=actor.label,
        external_uuid=external_uuid,
        at_ms=at_ms,
    )
    await _emit_balance_changed(conn, actor, changed, all_locations, external_uuid, at_ms)
    await low_stock.emit_crossings(conn, actor, changed, at_ms)
    after_commit(conn, lambda: MOVEMENTS.labels(source.value).inc(len(changes)))
    return Applied(changed, last_seq)


async def _emit_balance_changed(
    conn: AsyncConnection,
    actor: Actor,
    changed: dict[BalanceKey, tuple[int, int]],
    all_locations: list[Location],
    external_uuid: str | None,
    at_ms: int,
) -> None:
    """One InventoryBalanceChanged per request, covering the changed balances of STORE-type locations."""
    stores = {loc.uuid for loc in all_locations if loc.type == LocationType.STORE}
    before, after = [], []
    for (location, product, variant), (units_before, units_after) in changed.items():
        if location in stores and units_before != units_after:
            before.append(
                events.balance_record(actor.org, location, product, variant, format_units(units_before))
            )
            after.append(
                events.balance_record(actor.org, location, product, variant, format_units(units_after))
            )
    if after:
        payload = events.inventory_balance_changed(
            actor.org, actor.change_info(at_ms), before, after, external_uuid
        )
        await outbox.append(conn, actor.org, "InventoryBalanceChanged", payload, at_ms)


async def _answer(
    conn: AsyncConnection, actor: Actor, location: Location, variants: Iterable[tuple[str, str]]
) -> LocationBalances:
    """Post-update balance records in `location` of the given (product, variant) pairs."""
    wanted = sorted(set(variants))
    current = await balances.current_units(conn, actor.org, [(location.uuid, p, v) for p, v in wanted])
    rows = [
        balances.BalanceRow(p, v, current[(location.uuid, p, v)])
        for p, v in wanted
        if (location.uuid, p, v) in current
    ]
    return LocationBalances(location.uuid, records(location, rows))


async def update_balances(
    db: Database,
    actor: Actor,
    changes: list[Change],
    *,
    return_location: str | None,
    external_uuid: str | None,
    max_changes: int,
) -> LocationBalances:
    """PUT /organizations/{org}/inventory: all changes in order, in one transaction, or none."""
    check_limit(len(changes), max_changes, "changes")
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> LocationBalances:
        await orgs.lock(conn, actor.org)
        all_locations = await locations.list_all(conn, actor.org)
        answer_location = resolve_location(
            all_locations,
            LocationRef(uuid=return_location, uuid_path="returnBalanceForLocationUuid"),
            in_path=False,
        )
        check_locations(all_locations, changes)
        tracked = await products.tracked_among(conn, actor.org, (c.product_uuid for c in changes))
        for change in changes:
            if change.product_uuid not in tracked:
                raise not_tracked(change.product_uuid, f"{change.path}.productUuid")
        await apply_locked(
            conn,
            actor,
            changes,
            all_locations,
            source=Source.API,
            external_uuid=external_uuid,
            at_ms=now_ms(),
        )
        return await _answer(
            conn, actor, answer_location, ((c.product_uuid, c.variant_uuid) for c in changes)
        )

    return await db.write(work)


async def bulk(
    db: Database,
    actor: Actor,
    product_changes: list[ProductChange],
    *,
    return_location: str | None,
    max_changes: int,
) -> LocationBalances:
    """POST /v2/inventory/bulk: per product START_TRACKING, then its changes, then STOP_TRACKING."""
    all_changes = [c for pc in product_changes for c in pc.changes]
    check_limit(len(all_changes), max_changes, "productChanges")
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> LocationBalances:
        await orgs.lock(conn, actor.org)
        at_ms = now_ms()
        all_locations = await locations.list_all(conn, actor.org)
        answer_location = resolve_location(
            all_locations,
            LocationRef(uuid=return_location, uuid_path="returnBalanceForLocationUuid"),
            in_path=False,
        )
        check_locations(all_locations, all_changes)
        tracked = await products.tracked_among(conn, actor.org, (pc.product_uuid for pc in product_changes))
        toggles: list[tuple[str, bool]] = []  # tracking switches, in request order
        for pc in product_changes:  # simulate the tracking state in request order to validate
            if pc.tracking == "START_TRACKING":
                if pc.product_uuid not in tracked:
                    toggles.append((pc.product_uuid, True))
                tracked.add(pc.product_uuid)
            for change in pc.changes:
                if change.product_uuid not in tracked:
                    raise not_tracked(change.product_uuid, f"{pc.path}.productUuid")
            if pc.tracking == "STOP_TRACKING":
                if pc.product_uuid not in tracked:
                    raise not_tracked(pc.product_uuid, f"{pc.path}.productUuid")
                tracked.discard(pc.product_uuid)
                toggles.append((pc.product_uuid, False))
        # Switches up to the last START run before the movements, the trailing STOPs after them:
        # request order is kept, so the final tracking state is the one the request describes
        # (e.g. STOP then START of one product leaves it tracked).
        split = max((i + 1 for i, (_, on) in enumerate(toggles) if on), default=0)
        for product, on in toggles[:split]:
            await tracking.set_tracking_locked(conn, actor, product, on, at_ms)
        await apply_locked(
            conn, actor, all_changes, all_locations, source=Source.BULK, external_uuid=None, at_ms=at_ms
        )
        answer = await _answer(
            conn, actor, answer_location, ((c.product_uuid, c.variant_uuid) for c in all_changes)
        )
        for product, on in toggles[split:]:
            await tracking.set_tracking_locked(conn, actor, product, on, at_ms)
        return answer

    return await db.write(work)
