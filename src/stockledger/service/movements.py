"""Applying movements: PUT /inventory and bulk v2 (spec §5), the ledger invariant's only writer.

Every write runs in one transaction that first takes the organization's row lock (allocating its
change sequence numbers), then validates against the locked state, then updates the balances,
appends the ledger rows and the outbox events. A failure anywhere rolls all of it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain import events
from stockledger.domain.errors import ServiceError, Violation, not_tracked, validation_error
from stockledger.domain.locations import LocationType
from stockledger.domain.movements import (
    BalanceKey,
    Change,
    Source,
    check_balance_range,
    check_net_changes,
    leaves_range,
    net_deltas,
)
from stockledger.domain.quantity import MAX_NET_CHANGE_UNITS, format_units
from stockledger.metrics import MOVEMENTS
from stockledger.service import idempotency, low_stock, organizations, settings, tracking, write_queue
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef, records, resolve_location
from stockledger.service.results import LocationBalances
from stockledger.store import balances, locations, movements, orgs, outbox, products, write_path
from stockledger.store.db import Database, WriteClaim, after_commit, is_transient, write_claim
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
    last_seq: int | None = None,
    low_stock_configured: bool = True,
) -> Applied:
    """Apply validated changes; the caller holds the organization lock and checked tracking.

    `last_seq`: the caller already reserved the changes' sequence numbers (`write_path.lock_allocating`).
    `low_stock_configured=False`: the caller read under the lock that no alert is configured.
    """
    if not changes:
        return Applied()
    if last_seq is None:
        last_seq = await orgs.allocate_seq(conn, actor.org, len(changes))
    first_seq = last_seq - len(changes) + 1
    seq_by_key: dict[BalanceKey, int] = {}
    for offset, change in enumerate(changes):
        for location in (change.from_location, change.to_location):
            seq_by_key[(location, change.product_uuid, change.variant_uuid)] = first_seq + offset
    deltas = net_deltas(changes)
    check_net_changes(changes, deltas, source)
    changed = await balances.apply_deltas(conn, actor.org, deltas, seq_by_key, at_ms)
    check_balance_range(changes, changed, source)
    await settings.check_negative_stock(conn, actor.org, changes, changed, all_locations, source.value)
    recorded = movements.plan(changes, first_seq)
    to_emit = _balance_changed(actor, changed, all_locations, external_uuid, at_ms)
    if low_stock_configured:
        to_emit += await low_stock.crossing_events(conn, actor, changed, at_ms)
    # The ledger rows, then the events in this order: one statement on PostgreSQL.
    await write_path.append_ledger(
        conn,
        actor.org,
        recorded,
        to_emit,
        source=source.value,
        actor=actor.label,
        external_uuid=external_uuid,
        at_ms=at_ms,
    )
    after_commit(conn, lambda: MOVEMENTS.labels(source.value).inc(len(changes)))
    return Applied(changed, last_seq)


def _balance_changed(
    actor: Actor,
    changed: dict[BalanceKey, tuple[int, int]],
    all_locations: list[Location],
    external_uuid: str | None,
    at_ms: int,
) -> list[outbox.Event]:
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
    if not after:
        return []
    payload = events.inventory_balance_changed(
        actor.org, actor.change_info(at_ms), before, after, external_uuid
    )
    return [outbox.event("InventoryBalanceChanged", payload)]


async def _answer(
    conn: AsyncConnection,
    actor: Actor,
    location: Location,
    variants: Iterable[tuple[str, str]],
    changed: dict[BalanceKey, tuple[int, int]] | None = None,
) -> LocationBalances:
    """Post-update balance records in `location` of the given (product, variant) pairs. Balances the
    request just changed are known from the upsert (`changed`); only the others are read."""
    wanted = sorted(set(variants))
    keys = [(location.uuid, p, v) for p, v in wanted]
    current = {key: changed[key][1] for key in keys if changed and key in changed}
    current.update(await balances.current_units(conn, actor.org, [k for k in keys if k not in current]))
    return _balances_in(location, wanted, current)


def _balances_in(
    location: Location, variants: Iterable[tuple[str, str]], units: dict[BalanceKey, int]
) -> LocationBalances:
    """The answer's records: the (product, variant) pairs that have a balance in `location` (`units`)."""
    rows = [
        balances.BalanceRow(p, v, units[(location.uuid, p, v)])
        for p, v in sorted(set(variants))
        if (location.uuid, p, v) in units
    ]
    return LocationBalances(location.uuid, records(location, rows))


@dataclass
class _Put:
    """One PUT /inventory waiting in its organization's write queue."""

    actor: Actor
    changes: list[Change]
    return_location: str | None
    external_uuid: str | None
    claim: WriteClaim | None  # the request's Idempotency-Key, claimed with its effect


async def update_balances(
    db: Database,
    actor: Actor,
    changes: list[Change],
    *,
    return_location: str | None,
    external_uuid: str | None,
    max_changes: int,
) -> LocationBalances:
    """PUT /organizations/{org}/inventory: all changes in order, in one transaction, or none.

    Concurrent PUTs of one organization share a transaction (service/write_queue.py): each is
    validated and answered on its own, as if it ran alone right after the ones before it."""
    check_limit(len(changes), max_changes, "changes")
    await organizations.ensure(db, actor.org)
    put = _Put(actor, changes, return_location, external_uuid, write_claim.get())
    result: LocationBalances = await write_queue.batched(actor.org, _PutRunner(db), put, len(changes))
    return result


@dataclass(frozen=True)
class _PutRunner:
    """Applies queued PUTs of one database (equal runners' payloads are batched together)."""

    db: Database

    async def __call__(self, puts: list[_Put]) -> list[object]:
        return await _run_puts(self.db, puts)


async def _run_puts(db: Database, puts: list[_Put]) -> list[object]:
    if len(puts) > 1:
        try:
            return await db.write_claimed(lambda conn: _put_batch_or_alone(conn, puts), None)
        except _Alone:
            pass  # rolled back: each runs in its own transaction, as below
    outcomes: list[object] = []
    for put in puts:
        try:
            outcomes.append(await _put_alone(db, put))
        except Exception as exc:
            outcomes.append(exc)
    return outcomes


async def _put_alone(db: Database, put: _Put) -> LocationBalances:
    """One PUT in its own transaction: lock and sequence numbers, one read, upsert, ledger + events."""
    actor, changes = put.actor, put.changes

    async def work(conn: AsyncConnection) -> LocationBalances:
        # The lock and the sequence allocation in one statement, then one read of what validation
        # needs: the fewer round trips under the lock, the sooner the organization's next write runs.
        last_seq = await write_path.lock_allocating(conn, actor.org, len(changes))
        prelude = await write_path.prelude(conn, actor.org, (c.product_uuid for c in changes))
        if prelude is None:  # more products than one IN list takes
            all_locations = await locations.list_all(conn, actor.org)
            tracked = await products.tracked_among(conn, actor.org, (c.product_uuid for c in changes))
            configured = True
        else:
            all_locations, tracked = prelude.locations, prelude.tracked
            configured = prelude.low_stock_configured
        answer_location = _validate(put, all_locations, tracked)
        applied = await apply_locked(
            conn,
            actor,
            changes,
            all_locations,
            source=Source.API,
            external_uuid=put.external_uuid,
            at_ms=now_ms(),
            last_seq=last_seq,
            low_stock_configured=configured,
        )
        return await _answer(
            conn, actor, answer_location, ((c.product_uuid, c.variant_uuid) for c in changes), applied.changed
        )

    return await db.write_claimed(work, put.claim)


def _validate(put: _Put, all_locations: list[Location], tracked: set[str]) -> Location:
    """Check a PUT against the locked state; the location its answer reports on."""
    answer_location = resolve_location(
        all_locations,
        LocationRef(uuid=put.return_location, uuid_path="returnBalanceForLocationUuid"),
        in_path=False,
    )
    check_locations(all_locations, put.changes)
    for change in put.changes:
        if change.product_uuid not in tracked:
            raise not_tracked(change.product_uuid, f"{change.path}.productUuid")
    return answer_location


class _Alone(Exception):
    """The batch cannot be applied as one (its products are too many for one read, a statement
    failed, or a PUT would take a balance out of range): it is rolled back and its PUTs run one
    transaction each."""


async def _put_batch_or_alone(conn: AsyncConnection, puts: list[_Put]) -> list[object]:
    """`_put_batch`; a database error one PUT may have caused (anything but a transient conflict,
    which retries the batch) rolls the batch back and every PUT runs alone: only the culprit fails."""
    try:
        return await _put_batch(conn, puts)
    except DBAPIError as exc:
        if is_transient(exc):
            raise
        raise _Alone from exc


async def _put_batch(conn: AsyncConnection, puts: list[_Put]) -> list[object]:
    """Several PUTs of one organization in one transaction, each as if it ran alone in arrival order.

    One lock (and sequence allocation), one read for validation, at most one read of balances the
    PUTs must see before writing (for the negative-stock policy, and answers about balances the PUT
    itself does not change), one balance upsert with the summed deltas, one read of low-stock alerts
    (only when the organization has any), one ledger + events statement. A PUT that is refused
    (validation, negative stock, its Idempotency-Key taken) is answered with its error and leaves no
    trace, not even a sequence number; one that takes a balance out of range sends the batch alone.
    Each accepted PUT's (before, after) per balance follows from the upsert's result: before the
    batch = after − the batch's net delta, then each PUT's own deltas in order.
    """
    org = puts[0].actor.org
    total = sum(len(p.changes) for p in puts)
    last_reserved = await write_path.lock_allocating(conn, org, total)
    prelude = await write_path.prelude(conn, org, (c.product_uuid for p in puts for c in p.changes))
    if prelude is None:
        raise _Alone
    all_locations = prelude.locations
    stores = {loc.uuid for loc in all_locations if loc.type == LocationType.STORE}
    outcomes: list[object] = [None] * len(puts)

    valid: list[tuple[int, Location, dict[BalanceKey, int]]] = []
    for i, put in enumerate(puts):
        try:
            at = _validate(put, all_locations, prelude.tracked)
            own = net_deltas(put.changes)
            check_net_changes(put.changes, own, Source.API)
        except ServiceError as exc:
            outcomes[i] = exc
        else:
            valid.append((i, at, own))

    # Balances to know before writing: STORE-type ones a PUT lowers (negative-stock policy), and the
    # ones an answer shows that its PUT does not change.
    watched = {key for _i, _at, own in valid for key, delta in own.items() if delta < 0 and key[0] in stores}
    ahead = watched | {key for i, at, own in valid for key in _answer_keys(puts[i], at) if key not in own}
    before_batch = await balances.current_units(conn, org, ahead) if ahead else {}
    simulated = {key: before_batch.get(key, 0) for key in watched}

    accepted: list[tuple[int, Location, dict[BalanceKey, int]]] = []
    for i, at, own in valid:
        put = puts[i]
        lowered = {
            key: (simulated[key], simulated[key] + delta) for key, delta in own.items() if key in simulated
        }
        try:
            await settings.check_negative_stock(
                conn, org, put.changes, lowered, all_locations, Source.API.value
            )
        except ServiceError as exc:
            outcomes[i] = exc
            continue
        if put.claim is not None and not put.claim.claimed and not await put.claim.claim_locked(conn):
            outcomes[i] = idempotency.key_taken()
            continue
        for key, delta in own.items():
            if key in simulated:
                simulated[key] += delta
        accepted.append((i, at, own))

    used = sum(len(puts[i].changes) for i, _at, _own in accepted)
    next_seq = last_reserved - total + 1
    if used < total:
        await orgs.give_back_seq(conn, org, next_seq + used - 1)
    if not accepted:
        return outcomes

    # Sequence numbers in arrival order; a balance row keeps the number of the last change to it.
    at_ms = now_ms()
    firsts: dict[int, int] = {}
    seq_by_key: dict[BalanceKey, int] = {}
    deltas: dict[BalanceKey, int] = {}
    for i, _at, own in accepted:
        firsts[i] = next_seq
        for change in puts[i].changes:
            for location in (change.from_location, change.to_location):
                seq_by_key[(location, change.product_uuid, change.variant_uuid)] = next_seq
            next_seq += 1
        for key, delta in own.items():
            deltas[key] = deltas.get(key, 0) + delta
    deltas = dict(sorted(deltas.items()))  # the fixed lock order
    if max(map(abs, deltas.values())) > MAX_NET_CHANGE_UNITS:
        raise _Alone  # the PUTs' sum is more than one upsert may add: each is checked on its own
    after_batch = await balances.apply_deltas(conn, org, deltas, seq_by_key, at_ms)

    # Each PUT's (before, after) per balance and its answer, in arrival order.
    running = {key: after - deltas[key] for key, (_before, after) in after_batch.items()}
    touched: set[BalanceKey] = set()  # balance rows that exist at the current PUT (changed up to it)
    changes_of: dict[int, dict[BalanceKey, tuple[int, int]]] = {}
    for i, at, own in accepted:
        changed: dict[BalanceKey, tuple[int, int]] = {}
        for key, delta in own.items():
            if leaves_range(running[key], running[key] + delta):
                raise _Alone  # rolled back; alone, this PUT is refused (400) and the others apply
            changed[key] = (running[key], running[key] + delta)
            running[key] += delta
            touched.add(key)
        changes_of[i] = changed
        # changed up to this PUT: its running value; otherwise as before the batch (if the row existed)
        shown = _answer_keys(puts[i], at)
        units = {key: running[key] for key in shown & touched}
        units.update({key: before_batch[key] for key in shown - touched if key in before_batch})
        outcomes[i] = _balances_in(at, ((c.product_uuid, c.variant_uuid) for c in puts[i].changes), units)

    # The ledger rows and events, in arrival order; the low-stock alerts of the batch in one read.
    configured = prelude.low_stock_configured
    alerted = await low_stock.alerts_for(conn, org, changes_of.values()) if configured else {}
    entries: list[write_path.Entry] = []
    to_emit: list[outbox.Event] = []
    for i, _at, _own in accepted:
        put = puts[i]
        entries += [
            write_path.Entry(m, put.actor.label, put.external_uuid)
            for m in movements.plan(put.changes, firsts[i])
        ]
        to_emit += _balance_changed(put.actor, changes_of[i], all_locations, put.external_uuid, at_ms)
        to_emit += low_stock.crossings(put.actor, changes_of[i], alerted, at_ms)
    await write_path.append_entries(conn, org, entries, to_emit, source=Source.API.value, at_ms=at_ms)

    claims = [puts[i].claim for i, _at, _own in accepted]

    def committed() -> None:
        MOVEMENTS.labels(Source.API.value).inc(used)
        for claim in claims:
            if claim is not None:
                claim.claimed = True

    after_commit(conn, committed)
    return outcomes


def _answer_keys(put: _Put, at: Location) -> set[BalanceKey]:
    return {(at.uuid, c.product_uuid, c.variant_uuid) for c in put.changes}


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
        applied = await apply_locked(
            conn, actor, all_changes, all_locations, source=Source.BULK, external_uuid=None, at_ms=at_ms
        )
        answer = await _answer(
            conn,
            actor,
            answer_location,
            ((c.product_uuid, c.variant_uuid) for c in all_changes),
            applied.changed,
        )
        for product, on in toggles[split:]:
            await tracking.set_tracking_locked(conn, actor, product, on, at_ms)
        return answer

    async with write_queue.serialised(actor.org):
        return await db.write(work)
