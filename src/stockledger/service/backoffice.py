"""Use cases of the back office pages: what each page reads, and the plain-word stock adjustments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.backoffice import StockSort, VariantNames, actor_shown, key_name
from stockledger.domain.balance_chart import BalancePoint, ChartSeries, chart_series
from stockledger.domain.changes import Change
from stockledger.domain.errors import Violation, not_found, validation_error
from stockledger.domain.locations import Location, LocationType, shown_name
from stockledger.service import accounts, inventory_writes, low_stock, organizations
from stockledger.service.context import Actor
from stockledger.service.results import LocationBalances
from stockledger.store import apikeys, locations, ui_paging, ui_queries
from stockledger.store.db import Database
from stockledger.store.ledger_rows import MovementRow
from stockledger.store.sql import now_ms

NO_NAMES = VariantNames(None, None, None, None)
# The chart reads at most this many recent movements of the store (a few a day for a year; uPlot
# draws thousands of points at once); a range reaching further back starts at the oldest one read.
CHART_MAX_MOVEMENTS = 2000


def as_shown(all_locations: list[Location]) -> list[Location]:
    """The locations with the names people see ("Main store", "Sold", … for the system ones)."""
    return [replace(loc, name=shown_name(loc)) for loc in all_locations]


async def _listed(conn: AsyncConnection, org: str) -> list[Location]:
    return as_shown(await locations.list_all(conn, org))


async def actor_names(conn: AsyncConnection, org: str, actors: Iterable[str | None]) -> dict[str, str]:
    """Ledger actor → a name: a person's (back office) or an API key's label (API calls, which
    record the key's subject). Of several keys with one subject the newest labelled one names it."""
    wanted = {a for a in actors if a}
    names: dict[str, str] = {}
    labelled: dict[str, str] = {}
    for key in await apikeys.of_subjects(conn, org, {a for a in wanted if ":" not in a}):  # oldest first
        names[key.sub] = key_name(key.key_id, key.label)
        if key.label:
            labelled[key.sub] = key.label
    names.update(labelled)
    names.update(await accounts.actor_names(conn, org, wanted))
    return names


def stores_of(all_locations: list[Location]) -> list[Location]:
    return [loc for loc in all_locations if loc.type == LocationType.STORE]


def pick_store(all_locations: list[Location], wanted: str | None) -> Location:
    """The STORE-type location asked for, or the default store; anything else → 404."""
    if not wanted:
        return locations.default_store(all_locations)
    for location in stores_of(all_locations):
        if location.uuid == wanted:
            return location
    raise not_found("No such store")


@dataclass(frozen=True)
class StockView:
    stores: list[Location]
    store: Location
    page: ui_queries.StockPage
    total: int  # rows of every page together
    rows_before: int  # rows on the pages before this one
    previous: ui_queries.Cursor | None  # where the page before starts (None: the first page)

    @property
    def first_row(self) -> int:
        return self.rows_before + 1


async def stock_view(
    db: Database,
    actor: Actor,
    store_uuid: str | None,
    *,
    query: str,
    query_uuid: str | None,
    sort: StockSort,
    cursor: ui_queries.Cursor | None,
    limit: int,
) -> StockView:
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> StockView:
        all_locations = await _listed(conn, actor.org)
        store = pick_store(all_locations, store_uuid)
        org, at = actor.org, store.uuid
        page = await ui_queries.stock_page(
            conn, org, at, query=query, query_uuid=query_uuid, sort=sort, cursor=cursor, limit=limit
        )
        # Where the page sits among all rows: two counts and a short backward walk (ui_paging).
        total = await ui_paging.stock_count(conn, org, at, query=query, query_uuid=query_uuid)
        before = await ui_paging.rows_before(
            conn, org, at, sort=sort, cursor=cursor, query=query, query_uuid=query_uuid
        )
        previous = await ui_paging.previous_cursor(
            conn, org, at, sort=sort, cursor=cursor, limit=limit, query=query, query_uuid=query_uuid
        )
        return StockView(stores_of(all_locations), store, page, total, before, previous)

    return await db.read(work)


@dataclass(frozen=True)
class Totals:
    """What the system locations' balances mean: stock received, sold and discarded since tracking
    began (net of returns), all stores together."""

    received: int
    sold: int
    discarded: int


@dataclass(frozen=True)
class VariantView:
    product_uuid: str
    variant_uuid: str
    names: VariantNames
    tracked: bool
    locations: list[Location]
    store: Location
    balances: dict[str, int]
    history: ui_queries.MovementPage
    chart: ChartSeries  # the store's balance over the chosen range
    who: dict[str, str]  # movement UUID → who recorded it, in words

    @property
    def totals(self) -> Totals:
        def balance(kind: LocationType) -> int:
            found = locations.by_type(self.locations, kind.value)
            return self.balances.get(found.uuid, 0) if found else 0

        # SUPPLIER's balance falls by what is received: its negation is the quantity received.
        return Totals(-balance(LocationType.SUPPLIER), balance(LocationType.SOLD), balance(LocationType.BIN))


def balance_series(
    current_units: int, store_uuid: str, newest_first: list[MovementRow]
) -> list[BalancePoint]:
    """Walk back from the current balance through the ledger: the balance after each movement.

    The first point is the balance just before the oldest movement given (at that movement's time).
    """
    points: list[BalancePoint] = []
    units = current_units
    for movement in newest_first:
        points.append(BalancePoint(movement.created_ms, units))
        if movement.to_location == store_uuid:
            units -= movement.units
        if movement.from_location == store_uuid:
            units += movement.units
    if newest_first:
        points.append(BalancePoint(newest_first[-1].created_ms, units))
    points.reverse()
    return points


async def variant_view(
    db: Database,
    actor: Actor,
    product: str,
    variant: str,
    *,
    store_uuid: str | None,
    before_seq: int | None,
    page_size: int,
    range_ms: int | None = None,
) -> VariantView:
    """The variant's page; its chart covers the last `range_ms` (None: since its first movement)."""
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> VariantView:
        all_locations = await _listed(conn, actor.org)
        store = pick_store(all_locations, store_uuid)
        units = await ui_queries.variant_balances(conn, actor.org, product, variant)
        history = await ui_queries.variant_movements(
            conn, actor.org, product, variant, before_seq=before_seq, limit=page_size
        )
        if not units and not history.rows and before_seq is None:
            known = await ui_queries.variant_names(conn, actor.org, product, variant)
            if known.variant_name is None:
                raise not_found("This variant has no stock, no history and no name")
        who = await actor_names(conn, actor.org, (m.actor for m in history.rows))
        recent = await ui_queries.variant_movements(
            conn, actor.org, product, variant, limit=CHART_MAX_MOVEMENTS, location_uuid=store.uuid
        )
        return VariantView(
            product,
            variant,
            await ui_queries.variant_names(conn, actor.org, product, variant),
            await ui_queries.is_tracked(conn, actor.org, product),
            all_locations,
            store,
            units,
            history,
            chart_series(
                balance_series(units.get(store.uuid, 0), store.uuid, recent.rows),
                range_ms=range_ms,
                now_ms=now_ms(),
                complete=recent.next_before is None,
            ),
            {m.uuid: actor_shown(m.actor, m.source, who) for m in history.rows},
        )

    return await db.read(work)


class Adjustment(StrEnum):
    """The plain-word movements of the adjust page: which system location the stock comes from or goes to."""

    RECEIVE = "receive"  # SUPPLIER → store
    SALE = "sale"  # store → SOLD
    DISCARD = "discard"  # store → BIN
    TRANSFER = "transfer"  # store → another store


ADJUSTMENT_LABELS = {
    Adjustment.RECEIVE: "Receive stock (from supplier)",
    Adjustment.SALE: "Record a sale",
    Adjustment.DISCARD: "Discard (damaged, lost, expired)",
    Adjustment.TRANSFER: "Transfer to another store",
}


async def store_locations(db: Database, actor: Actor) -> list[Location]:
    await organizations.ensure(db, actor.org)

    async def work(conn: AsyncConnection) -> list[Location]:
        return await _listed(conn, actor.org)

    return await db.read(work)


async def variant_label(db: Database, actor: Actor, product: str, variant: str) -> VariantNames:
    async def work(conn: AsyncConnection) -> VariantNames:
        return await ui_queries.variant_names(conn, actor.org, product, variant)

    return await db.read(work)


def adjustment_change(
    all_locations: list[Location],
    store: Location,
    kind: Adjustment,
    product: str,
    variant: str,
    units: int,
    to_store: Location | None = None,
) -> Change:
    def system(kind_of: LocationType) -> str:
        found = locations.by_type(all_locations, kind_of.value)
        assert found is not None, "every organization has its system locations"
        return found.uuid

    if kind is Adjustment.RECEIVE:
        src, dst = system(LocationType.SUPPLIER), store.uuid
    elif kind is Adjustment.TRANSFER:
        assert to_store is not None, "a transfer names the store it goes to"
        src, dst = store.uuid, to_store.uuid
    elif kind is Adjustment.SALE:
        src, dst = store.uuid, system(LocationType.SOLD)
    else:
        src, dst = store.uuid, system(LocationType.BIN)
    return Change(product, variant, src, dst, units, "changes[0]")


async def adjust(
    db: Database,
    actor: Actor,
    *,
    store_uuid: str | None,
    kind: Adjustment,
    product: str,
    variant: str,
    units: int,
    external_uuid: str | None,
    max_changes: int,
    default_low_stock_units: int,
    to_store_uuid: str | None = None,
) -> LocationBalances:
    """One movement through the same use case as PUT /inventory: same ledger, events and checks."""
    all_locations = await store_locations(db, actor)
    store = pick_store(all_locations, store_uuid)
    to_store = None
    if kind is Adjustment.TRANSFER:
        to_store = pick_store(all_locations, to_store_uuid or "-")
        if to_store.uuid == store.uuid:
            raise validation_error([Violation("toLocationUuid", "must be another store")])
    change = adjustment_change(all_locations, store, kind, product, variant, units, to_store)
    return await inventory_writes.update_balances(
        db,
        actor,
        [change],
        return_location=store.uuid,
        external_uuid=external_uuid,
        max_changes=max_changes,
        default_low_stock_units=default_low_stock_units,
    )


async def balance_in(db: Database, actor: Actor, store_uuid: str, product: str, variant: str) -> int:
    """The variant's balance in one store now (0 without a balance row)."""

    async def work(conn: AsyncConnection) -> int:
        return (await ui_queries.variant_balances(conn, actor.org, product, variant)).get(store_uuid, 0)

    return await db.read(work)


@dataclass(frozen=True)
class LowStockRow:
    product_uuid: str
    variant_uuid: str
    units: int
    level_units: int  # the level it is evaluated against (its own, or the server default)
    own_level: bool
    product_name: str | None
    variant_name: str | None
    sku: str | None
    barcode: str | None


@dataclass(frozen=True)
class LowStockPage:
    stores: list[Location]
    store: Location
    rows: list[LowStockRow]


async def low_stock_page(
    db: Database, actor: Actor, store_uuid: str | None, *, default_units: int
) -> LowStockPage:
    """The low-stock view (spec §6) of one store, with names and the level each row is judged by
    (its own, or `default_units`)."""
    all_locations = await store_locations(db, actor)
    store = pick_store(all_locations, store_uuid)
    view = await low_stock.low_stock_view(db, actor, store.uuid, default_units=default_units)
    configs = await low_stock.location_configs(db, actor, store.uuid)
    levels = {(c.product_uuid, c.variant_uuid): c.level_units for c in configs.configs}

    async def work(conn: AsyncConnection) -> dict[tuple[str, str], VariantNames]:
        return await ui_queries.names_of(
            conn, actor.org, [(r.product_uuid, r.variant_uuid) for r in view.variants]
        )

    names = await db.read(work)
    rows = []
    for record in view.variants:
        key = (record.product_uuid, record.variant_uuid)
        own = levels.get(key)
        known = names.get(key, NO_NAMES)
        rows.append(
            LowStockRow(
                record.product_uuid,
                record.variant_uuid,
                record.units,
                default_units if own is None else own,
                own is not None,
                known.product_name,
                known.variant_name,
                known.sku,
                known.barcode,
            )
        )
    rows.sort(key=lambda r: (r.units - r.level_units, r.product_name or "~", r.variant_name or "~"))
    return LowStockPage(stores_of(all_locations), store, rows)
