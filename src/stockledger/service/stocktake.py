"""Stocktake by file: parse a CSV of counted balances, check it, keep it for its preview, then apply it
as ONE count (all or nothing) with the previewed balances as `expectedBalance`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain.csv_files import CsvFileError, read_csv
from stockledger.domain.errors import ServiceError
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.locations import Location
from stockledger.domain.quantity import QuantityError, parse_quantity, to_units
from stockledger.domain.text import without_nul
from stockledger.service import counts, organizations
from stockledger.service.backoffice import pick_store
from stockledger.service.context import Actor
from stockledger.store import balances, locations, products, stocktakes
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.stocktakes import StoredStocktake

MAX_ROWS = 50_000  # one count request; well above a shop's catalog, far below the memory it costs
MAX_ERRORS_SHOWN = 200
KEEP_MS = 24 * 3600 * 1000  # an unapplied upload is dropped after a day

# Accepted header names (compared without case, spaces, dashes and underscores).
COLUMNS = {
    "productuuid": "product",
    "variantuuid": "variant",
    "sku": "sku",
    "balance": "balance",
    "count": "balance",
    "counted": "balance",
}


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class Parsed:
    """The rows of a file (line, product, variant, sku, counted units) and what was wrong with it."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    file_error: str | None = None


def _header_key(name: str) -> str:
    return "".join(ch for ch in name.strip().lower() if ch not in " -_")


def parse_csv(data: bytes) -> Parsed:
    """Read the file (any encoding and separator a spreadsheet saves CSV in: domain/csv_files.py);
    every row is checked, every bad one reported by line."""
    parsed = Parsed()
    try:
        table = read_csv(data, max_rows=MAX_ROWS)
    except CsvFileError as exc:
        parsed.file_error = str(exc)
        return parsed
    header = table.header
    columns = {COLUMNS[key]: i for i, name in enumerate(header) if (key := _header_key(name)) in COLUMNS}
    has_ids = "product" in columns and "variant" in columns
    if "balance" not in columns or not (has_ids or "sku" in columns):
        parsed.file_error = (
            "Line 1 must name the columns: balance, and productUuid and variantUuid or sku "
            f"(found: {', '.join(header) or 'nothing'})."
        )
        return parsed
    for line, cells in table.rows:
        _parse_row(parsed, line, cells, columns)
    return parsed


def _parse_row(parsed: Parsed, line: int, cells: list[str], columns: dict[str, int]) -> None:
    def cell(name: str) -> str:
        i = columns.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    product_raw, variant_raw, sku, balance_raw = (
        cell("product"),
        cell("variant"),
        cell("sku"),
        cell("balance"),
    )
    problems: list[str] = []
    product = variant = None
    if product_raw or variant_raw:
        product, variant = canonical_uuid(product_raw), canonical_uuid(variant_raw)
        if product is None:
            problems.append(f"productUuid “{product_raw[:60]}” is not a UUID")
        if variant is None:
            problems.append(f"variantUuid “{variant_raw[:60]}” is not a UUID")
    elif not sku:
        problems.append("give productUuid and variantUuid, or a sku")
    units = 0
    if not balance_raw:
        problems.append("the balance is missing")
    else:
        try:
            quantity = parse_quantity(balance_raw)
            if quantity < 0:
                problems.append("the balance cannot be negative")
            else:
                units = to_units(quantity)
        except QuantityError as exc:
            problems.append(f"the balance “{balance_raw[:30]}” {exc}")
    if problems:
        message = "; ".join(problems)
        parsed.errors.append(RowError(line, message[0].upper() + message[1:] + "."))
        return
    parsed.rows.append({"line": line, "product": product, "variant": variant, "sku": sku, "counted": units})


@dataclass(frozen=True)
class Upload:
    """The outcome of an upload: the stored stocktake's UUID, or the errors that keep it from applying."""

    stocktake_uuid: str | None
    rows_parsed: int
    errors: list[RowError]
    file_error: str | None


async def upload(db: Database, actor: Actor, store_uuid: str | None, filename: str, data: bytes) -> Upload:
    """Parse and check the file against the catalog and the store; keep it only when every row is good."""
    parsed = parse_csv(data)
    filename = without_nul(filename)  # shown on the preview, never looked up
    if parsed.file_error:
        return Upload(None, 0, parsed.errors, parsed.file_error)
    await organizations.ensure(db, actor.org)

    async def check(conn: AsyncConnection) -> tuple[Location, list[RowError]]:
        store = pick_store(await locations.list_all(conn, actor.org), store_uuid)
        errors = list(parsed.errors)
        by_sku = await stocktakes.variants_by_sku(
            conn, actor.org, {r["sku"] for r in parsed.rows if r["product"] is None}
        )
        good: list[dict[str, Any]] = []
        for row in parsed.rows:
            if row["product"] is None:
                matches = by_sku.get(row["sku"], [])
                if len(matches) != 1:
                    why = "is not in the catalog" if not matches else "belongs to several variants"
                    errors.append(RowError(row["line"], f"The SKU “{row['sku'][:60]}” {why}."))
                    continue
                row["product"], row["variant"] = matches[0]
            good.append(row)
        tracked = await products.tracked_among(conn, actor.org, {r["product"] for r in good})
        seen: dict[tuple[str, str], int] = {}
        for row in good:
            key = (row["product"], row["variant"])
            if row["product"] not in tracked:
                errors.append(RowError(row["line"], f"Product {row['product']} is not tracked."))
            elif key in seen:
                errors.append(RowError(row["line"], f"This variant is already counted on line {seen[key]}."))
            else:
                seen[key] = row["line"]
        if errors:
            return store, errors
        current = await balances.current_units(
            conn, actor.org, [(store.uuid, r["product"], r["variant"]) for r in good]
        )
        names = await stocktakes.names_of(conn, actor.org, list(seen))
        for row in good:
            row["current"] = current.get((store.uuid, row["product"], row["variant"]), 0)
            pname, vname, sku = names.get((row["product"], row["variant"]), (None, None, None))
            row.update(productName=pname, variantName=vname, sku=row["sku"] or sku)
        parsed.rows = good
        return store, []

    store, errors = await db.read(check)
    if errors:
        errors.sort(key=lambda e: e.line)
        return Upload(None, len(parsed.rows) + len(parsed.errors), errors, None)
    stocktake_uuid = str(uuid.uuid4())

    async def keep(conn: AsyncConnection) -> None:
        await stocktakes.insert(
            conn, actor.org, stocktake_uuid, store.uuid, filename, parsed.rows, now_ms(), KEEP_MS
        )

    await db.write(keep)
    return Upload(stocktake_uuid, len(parsed.rows), [], None)


def stocktake_not_found() -> ServiceError:
    return ServiceError(
        "This stocktake is not known (uploads are kept for a day). Upload the file again.", 404, "NOT_FOUND"
    )


async def load(db: Database, actor: Actor, stocktake_uuid: str) -> StoredStocktake:
    async def work(conn: AsyncConnection) -> StoredStocktake | None:
        return await stocktakes.get(conn, actor.org, stocktake_uuid)

    found = await db.read(work)
    if found is None:
        raise stocktake_not_found()
    return found


async def apply(db: Database, actor: Actor, stocktake_uuid: str, *, default_low_stock_units: int) -> None:
    """One count request with every row; a balance changed since the preview → nothing applies, the
    stored preview takes the new balances (the rows that changed are marked) for a second look."""
    taken = await load(db, actor, stocktake_uuid)
    if taken.applied_ms is not None:
        raise ServiceError("This stocktake has already been applied.", 409, "ALREADY_APPLIED")
    rows = taken.rows
    wanted = [
        counts.Count(r["product"], r["variant"], r["counted"], r["current"], f"counts[{i}]")
        for i, r in enumerate(rows)
    ]
    try:
        await counts.apply_counts(
            db,
            actor,
            wanted,
            location_uuid=taken.location_uuid,
            external_uuid=f"stocktake {stocktake_uuid}",
            max_changes=MAX_ROWS,
            default_low_stock_units=default_low_stock_units,
        )
    except ServiceError as exc:
        if exc.error_type != "BALANCE_CHANGED":
            raise
        now = {
            (b["productUuid"], b["variantUuid"]): to_units(parse_quantity(b["balance"]))
            for b in exc.extra.get("currentBalances", [])  # type: ignore[attr-defined]
        }
        for row in rows:
            units = now.get((row["product"], row["variant"]), row["current"])
            row.pop("was", None)
            if units != row["current"]:
                row["was"], row["current"] = row["current"], units

        async def refresh(conn: AsyncConnection) -> None:
            await stocktakes.update_rows(conn, actor.org, stocktake_uuid, rows)

        await db.write(refresh)
        return

    async def done(conn: AsyncConnection) -> None:
        await stocktakes.mark_applied(conn, actor.org, stocktake_uuid, now_ms())

    await db.write(done)
