"""Movement requests: PUT /inventory (spec §5), POST /v3/movements and bulk v2, posted through
`service.posting`.

Concurrent PUTs and v3 movements of one organization wait in its write queue and share one
transaction (`store/write_queue.py`); `posting.post` answers each as if it ran alone right after the
ones before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError

from stockledger.domain import ledger
from stockledger.domain.changes import BalanceKey, Change, Source
from stockledger.domain.errors import ServiceError, Violation, not_tracked, validation_error
from stockledger.domain.locations import Location
from stockledger.service import organizations, posting, tracking
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef, records, resolve_location
from stockledger.service.results import LocationBalances
from stockledger.store import balances, orgs, write_path
from stockledger.store.db import Database, is_transient
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import UnitOfWork, WriteClaim


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


def _answer_location(all_locations: list[Location], uuid: str | None) -> Location:
    """The location whose balances a PUT or bulk request answers with (the default STORE if unnamed)."""
    return resolve_location(
        all_locations, LocationRef(uuid=uuid, uuid_path="returnBalanceForLocationUuid"), in_path=False
    )


def _shown(location: Location, changes: Iterable[Change]) -> frozenset[BalanceKey]:
    """The balances an answer shows: the request's variants in the answer's location."""
    return frozenset((location.uuid, c.product_uuid, c.variant_uuid) for c in changes)


def _balances_in(
    location: Location, changes: Iterable[Change], units: dict[BalanceKey, int]
) -> LocationBalances:
    """The answer's records: the request's variants that have a balance in `location` (`units`)."""
    variants = sorted({(c.product_uuid, c.variant_uuid) for c in changes})
    rows = [
        balances.BalanceRow(p, v, units[(location.uuid, p, v)])
        for p, v in variants
        if (location.uuid, p, v) in units
    ]
    return LocationBalances(location.uuid, records(location, rows))


@dataclass
class _Put:
    """One PUT /inventory or POST /v3/movements waiting in its organization's write queue."""

    actor: Actor
    changes: list[Change]
    return_location: str | None
    external_uuid: str | None
    claim: WriteClaim | None  # the request's Idempotency-Key, claimed with its effect
    answered: bool = True  # False: its answer carries no balances (v3), so none are read for it


async def update_balances(
    db: Database,
    actor: Actor,
    changes: list[Change],
    *,
    return_location: str | None,
    external_uuid: str | None,
    max_changes: int,
    default_low_stock_units: int,
    claim: WriteClaim | None = None,
) -> LocationBalances:
    """PUT /organizations/{org}/inventory: all changes in order, in one transaction, or none.

    Concurrent PUTs of one organization share a transaction (store/write_queue.py): each is
    validated and answered on its own, as if it ran alone right after the ones before it. `claim`:
    the request's Idempotency-Key, claimed in that transaction if the PUT is accepted."""
    check_limit(len(changes), max_changes, "changes")
    put = _Put(actor, changes, return_location, external_uuid, claim)
    result: LocationBalances = await _queued(db, put, default_low_stock_units)
    return result


async def move(
    db: Database,
    actor: Actor,
    changes: list[Change],
    *,
    external_uuid: str | None,
    max_changes: int,
    default_low_stock_units: int,
    claim: WriteClaim | None = None,
) -> None:
    """POST /v3/movements: the PUT's write without its answer. All changes in order, in one
    transaction, or none; queued and batched with the organization's PUTs. `external_uuid` (v3's
    `identifier`) is recorded and echoed in the event, never used to recognise a repeat."""
    check_limit(len(changes), max_changes, "movements")
    await _queued(
        db, _Put(actor, changes, None, external_uuid, claim, answered=False), default_low_stock_units
    )


async def _queued(db: Database, put: _Put, default_low_stock_units: int) -> Any:
    """Queue the request for its organization's write queue; its answer (None when not `answered`)."""
    await organizations.ensure(db, put.actor.org)
    runner = _PutRunner(db, default_low_stock_units)
    return await db.queues.batched(put.actor.org, runner, put, len(put.changes))


@dataclass(frozen=True)
class _PutRunner:
    """Applies queued PUTs of one database in one transaction (equal runners' PUTs are batched)."""

    db: Database
    default_low_stock_units: int

    async def __call__(self, puts: list[_Put]) -> list[object]:
        # Each PUT's claim is its own: `posting.post` claims those of the accepted ones.
        try:
            return await self.db.unit_of_work(lambda uow: _put_all(uow, puts, self.default_low_stock_units))
        except posting.PostAlone:
            pass
        except DBAPIError as exc:
            if len(puts) == 1 or is_transient(exc):
                raise
        # A database error one of several PUTs may have caused (a transient conflict was retried by
        # `Database`), or PUTs that cannot be posted together: the batch rolled back, each PUT runs in
        # its own transaction and only the culprit fails.
        outcomes: list[object] = []
        for put in puts:
            try:
                outcomes += await self([put])
            except Exception as exc:
                outcomes.append(exc)
        return outcomes


async def _put_all(uow: UnitOfWork, puts: list[_Put], default_low_stock_units: int) -> list[object]:
    """PUTs of one organization: the lock with their sequence numbers and one read of the organization's
    state, then `posting.post`. A PUT whose answer's location is unknown is refused before its changes."""
    conn = uow.conn
    org = puts[0].actor.org
    last_seq = await write_path.lock_allocating(conn, org, sum(len(p.changes) for p in puts))
    prelude = await write_path.prelude(conn, org, (c.product_uuid for p in puts for c in p.changes))
    answer_at: list[Location | ServiceError | None] = []  # None: answered without balances
    for put in puts:
        try:
            answer_at.append(
                _answer_location(prelude.locations, put.return_location) if put.answered else None
            )
        except ServiceError as exc:
            answer_at.append(exc)
    postings = [
        posting.Posting(
            put.actor,
            ledger.Request(put.changes, _shown(at, put.changes) if isinstance(at, Location) else frozenset()),
            put.external_uuid,
            put.claim,
            at if isinstance(at, ServiceError) else None,
        )
        for put, at in zip(puts, answer_at, strict=True)
    ]
    results = await posting.post(
        uow,
        org,
        postings,
        prelude,
        source=Source.API,
        at_ms=now_ms(),
        default_low_stock_units=default_low_stock_units,
        last_seq=last_seq,
        tracked=prelude.tracked,
    )
    answers: list[object] = []
    for put, at, result in zip(puts, answer_at, results, strict=True):
        if isinstance(result, ledger.Posted):
            answers.append(_balances_in(at, put.changes, result.shown) if isinstance(at, Location) else None)
        else:
            answers.append(result)
    return answers


async def bulk(
    db: Database,
    actor: Actor,
    product_changes: list[ProductChange],
    *,
    return_location: str | None,
    max_changes: int,
    default_low_stock_units: int,
    claim: WriteClaim | None = None,
) -> LocationBalances:
    """POST /v2/inventory/bulk: per product START_TRACKING, then its changes, then STOP_TRACKING."""
    all_changes = [c for pc in product_changes for c in pc.changes]
    check_limit(len(all_changes), max_changes, "productChanges")
    await organizations.ensure(db, actor.org)

    async def work(uow: UnitOfWork) -> LocationBalances:
        conn = uow.conn
        await orgs.lock(conn, actor.org)
        at_ms = now_ms()
        prelude = await write_path.prelude(conn, actor.org, (pc.product_uuid for pc in product_changes))
        answer_location = _answer_location(prelude.locations, return_location)
        unknown = ledger.check_locations(all_changes, {loc.uuid for loc in prelude.locations})
        if unknown is not None:
            raise unknown
        tracked = set(prelude.tracked)
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
            await tracking.set_tracking_locked(uow, actor, product, on, at_ms)
        request = ledger.Request(all_changes, _shown(answer_location, all_changes))
        (posted,) = await posting.post(
            uow,
            actor.org,
            [posting.Posting(actor, request)],
            prelude,
            source=Source.BULK,
            at_ms=at_ms,
            default_low_stock_units=default_low_stock_units,
        )
        assert isinstance(posted, ledger.Posted)  # a lone request's refusal is raised
        answer = _balances_in(answer_location, all_changes, posted.shown)
        for product, on in toggles[split:]:
            await tracking.set_tracking_locked(uow, actor, product, on, at_ms)
        return answer

    async with db.queues.serialised(actor.org):
        return await db.unit_of_work(work, claim=claim)
