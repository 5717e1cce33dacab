"""SQL of the Product Library's products and variants (tables `catalog_products`, `catalog_variants`).

Reads are set-based: any number of products is loaded with three statements (products, their
variants, their categories), so a page of a list costs the same few queries whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Row, and_, delete, func, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stockledger.domain import products as p
from stockledger.store.catalog import sort_key
from stockledger.store.sql import chunked
from stockledger.store.tables import catalog_products as cp
from stockledger.store.tables import catalog_variants as cv
from stockledger.store.tables import product_categories as pc

# After (created_ms, product_uuid): the library's list order.
Position = tuple[int, str]


def _dump(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _load(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def product_row(org: str, product: p.Product) -> dict[str, Any]:
    vat = product.vat_percentage
    return {
        "org_uuid": org,
        "product_uuid": product.uuid,
        "name": product.name,
        "updated_ms": product.updated_ms,
        "created_ms": product.created_ms,
        "etag": product.etag,
        "created_by": product.created_by,
        "updated_by": product.updated_by,
        "description": product.description,
        "category_uuid": None if product.category is None else product.category.uuid,
        "legacy_categories": _dump(list(product.categories) or None),
        "image_lookup_keys": _dump(list(product.image_lookup_keys) or None),
        "presentation": _dump(p.presentation_json(product.presentation)),
        "option_definitions": _dump(p.definitions_json(product.option_definitions)),
        "external_reference": product.external_reference,
        "unit_name": product.unit_name,
        "vat_percentage": None if vat is None else format(vat, "f"),
        "tax_exempt": product.tax_exempt,
        "tax_rates": _dump(list(product.tax_rates) or None),
        "tax_code": product.tax_code,
        "online": _dump(None if product.online is None else dict(product.online)),
        "product_metadata": _dump(None if product.metadata is None else dict(product.metadata)),
    }


def variant_rows(org: str, product: p.Product) -> list[dict[str, Any]]:
    return [
        {
            "org_uuid": org,
            "product_uuid": product.uuid,
            "variant_uuid": v.uuid,
            "name": v.name,
            "sku": v.sku,
            "barcode": v.barcode,
            "sort_key": sort_key(product.name, v.name),
            "updated_ms": product.updated_ms,
            "position": position,
            "description": v.description,
            "unit_name": v.unit_name,
            "price_amount": None if v.price is None else v.price.amount,
            "price_currency": None if v.price is None else v.price.currency_id,
            "cost_price_amount": None if v.cost_price is None else v.cost_price.amount,
            "cost_price_currency": None if v.cost_price is None else v.cost_price.currency_id,
            "options": _dump(p.options_json(v.options)),
            "presentation": _dump(p.presentation_json(v.presentation)),
        }
        for position, v in enumerate(product.variants)
    ]


# The variant columns read, in this order (unpacked by position: a list reads 50,000 of them).
_VARIANT_COLUMNS = (
    cv.c.product_uuid,
    cv.c.variant_uuid,
    cv.c.name,
    cv.c.description,
    cv.c.sku,
    cv.c.barcode,
    cv.c.unit_name,
    cv.c.price_amount,
    cv.c.price_currency,
    cv.c.cost_price_amount,
    cv.c.cost_price_currency,
    cv.c.options,
    cv.c.presentation,
)


def _variant(row: Sequence[Any]) -> p.Variant:
    (
        _,
        uuid,
        name,
        description,
        sku,
        barcode,
        unit_name,
        amount,
        currency,
        cost,
        cost_currency,
        options,
        look,
    ) = row
    return p.Variant(
        uuid=uuid,
        name=name,
        description=description,
        sku=sku,
        barcode=barcode,
        unit_name=unit_name,
        price=None if amount is None or currency is None else p.Price(int(amount), currency),
        cost_price=None if cost is None or cost_currency is None else p.Price(int(cost), cost_currency),
        options=None if options is None else p.options_from_json(orjson.loads(options)),
        presentation=None if look is None else p.presentation_from_json(orjson.loads(look)),
    )


def _product(row: Row[Any], variants: list[p.Variant], category_names: dict[str, str]) -> p.Product:
    category = None
    if row.category_uuid is not None and row.category_uuid in category_names:
        category = p.Category(row.category_uuid, category_names[row.category_uuid])
    return p.Product(
        uuid=row.product_uuid,
        name=row.name,
        variants=tuple(variants),
        description=row.description,
        category=category,
        categories=tuple(_load(row.legacy_categories) or ()),
        image_lookup_keys=tuple(_load(row.image_lookup_keys) or ()),
        presentation=p.presentation_from_json(_load(row.presentation)),
        option_definitions=p.definitions_from_json(_load(row.option_definitions)),
        external_reference=row.external_reference,
        unit_name=row.unit_name,
        vat_percentage=None if row.vat_percentage is None else Decimal(row.vat_percentage),
        tax_exempt=bool(row.tax_exempt),
        tax_rates=tuple(_load(row.tax_rates) or ()),
        tax_code=row.tax_code,
        online=_load(row.online),
        metadata=_load(row.product_metadata),
        etag=row.etag,
        created_ms=int(row.created_ms),
        updated_ms=int(row.updated_ms),
        created_by=row.created_by,
        updated_by=row.updated_by,
    )


async def _complete(conn: AsyncConnection, org: str, rows: Sequence[Row[Any]]) -> list[p.Product]:
    """Products of `rows` (in their order) with their variants and category names: two statements."""
    if not rows:
        return []
    uuids = [r.product_uuid for r in rows]
    variants: dict[str, list[p.Variant]] = {u: [] for u in uuids}
    for part in chunked(uuids):
        stmt = (
            select(*_VARIANT_COLUMNS)
            .where(cv.c.org_uuid == org, cv.c.product_uuid.in_(part))
            .order_by(cv.c.product_uuid, cv.c.position, cv.c.variant_uuid)
        )
        for row in (await conn.execute(stmt)).all():
            variants[row[0]].append(_variant(row))
    wanted = sorted({r.category_uuid for r in rows if r.category_uuid is not None})
    names: dict[str, str] = {}
    if wanted:
        stmt_c = select(pc.c.uuid, pc.c.name).where(pc.c.org_uuid == org, pc.c.uuid.in_(wanted))
        names = {u: n for u, n in (await conn.execute(stmt_c)).all()}
    return [_product(r, variants[r.product_uuid], names) for r in rows]


async def load(conn: AsyncConnection, org: str, product_uuids: Iterable[str]) -> dict[str, p.Product]:
    """The stored products among `product_uuids`, by UUID. Writers hold the organization's lock, so
    what they load stays as it is until they commit."""
    wanted = sorted(set(product_uuids))
    rows: list[Row[Any]] = []
    for part in chunked(wanted):
        stmt = select(cp).where(cp.c.org_uuid == org, cp.c.product_uuid.in_(part))
        rows.extend((await conn.execute(stmt)).all())
    return {product.uuid: product for product in await _complete(conn, org, rows)}


async def load_one(conn: AsyncConnection, org: str, product_uuid: str) -> p.Product | None:
    return (await load(conn, org, [product_uuid])).get(product_uuid)


async def page(conn: AsyncConnection, org: str, *, after: Position | None, limit: int) -> list[p.Product]:
    """Products oldest first (then by UUID), after the keyset position `after`."""
    stmt = select(cp).where(cp.c.org_uuid == org)
    if after is not None:
        stmt = stmt.where(tuple_(cp.c.created_ms, cp.c.product_uuid) > tuple_(*after))
    stmt = stmt.order_by(cp.c.created_ms, cp.c.product_uuid).limit(limit)
    return await _complete(conn, org, (await conn.execute(stmt)).all())


async def search_page(
    conn: AsyncConnection, org: str, text: str, *, after: Position | None, limit: int
) -> list[p.Product]:
    """Like `page`, only the products whose name, UUID, or a variant's name, SKU, barcode or UUID
    contains `text` (any case). A scan of the organization's rows: `LIKE '%…%'` has no index."""
    needle = text.lower()
    variant_hit = (
        select(cv.c.variant_uuid)
        .where(
            cv.c.org_uuid == cp.c.org_uuid,
            cv.c.product_uuid == cp.c.product_uuid,
            or_(
                func.lower(cv.c.name).contains(needle, autoescape=True),
                func.lower(cv.c.sku).contains(needle, autoescape=True),
                func.lower(cv.c.barcode).contains(needle, autoescape=True),
                cv.c.variant_uuid.contains(needle, autoescape=True),
            ),
        )
        .exists()
    )
    hit = or_(
        func.lower(cp.c.name).contains(needle, autoescape=True),
        cp.c.product_uuid.contains(needle, autoescape=True),
        variant_hit,
    )
    stmt = select(cp).where(cp.c.org_uuid == org, hit)
    if after is not None:
        stmt = stmt.where(tuple_(cp.c.created_ms, cp.c.product_uuid) > tuple_(*after))
    stmt = stmt.order_by(cp.c.created_ms, cp.c.product_uuid).limit(limit)
    return await _complete(conn, org, (await conn.execute(stmt)).all())


async def count(conn: AsyncConnection, org: str) -> int:
    stmt = select(func.count()).select_from(cp).where(cp.c.org_uuid == org)
    return int(await conn.scalar(stmt) or 0)


async def insert(conn: AsyncConnection, org: str, product: p.Product) -> None:
    await conn.execute(cp.insert(), product_row(org, product))
    rows = variant_rows(org, product)
    if rows:
        await conn.execute(cv.insert(), rows)


async def replace(conn: AsyncConnection, org: str, product: p.Product) -> None:
    """Write every member of a stored product: its row, and exactly its variants."""
    row = product_row(org, product)
    await conn.execute(
        update(cp)
        .where(cp.c.org_uuid == org, cp.c.product_uuid == product.uuid)
        .values({k: v for k, v in row.items() if k not in {"org_uuid", "product_uuid"}})
    )
    await conn.execute(delete(cv).where(cv.c.org_uuid == org, cv.c.product_uuid == product.uuid))
    rows = variant_rows(org, product)
    if rows:
        await conn.execute(cv.insert(), rows)


async def delete_many(conn: AsyncConnection, org: str, product_uuids: Sequence[str]) -> None:
    for part in chunked(list(product_uuids)):
        await conn.execute(delete(cv).where(cv.c.org_uuid == org, cv.c.product_uuid.in_(part)))
        await conn.execute(delete(cp).where(cp.c.org_uuid == org, cp.c.product_uuid.in_(part)))


async def variant_owners(conn: AsyncConnection, org: str, variant_uuids: Sequence[str]) -> dict[str, str]:
    """variant UUID → the product holding it, for those of `variant_uuids` some product holds."""
    found: dict[str, str] = {}
    for part in chunked(sorted(set(variant_uuids))):
        stmt = select(cv.c.variant_uuid, cv.c.product_uuid).where(
            cv.c.org_uuid == org, cv.c.variant_uuid.in_(part)
        )
        for variant, product in (await conn.execute(stmt)).all():
            found.setdefault(variant, product)
    return found


async def sku_holders(
    conn: AsyncConnection, org: str, skus: Sequence[str]
) -> dict[str, set[tuple[str, str]]]:
    """sku → the (product, variant) pairs holding it, for those of `skus` some variant holds."""
    found: dict[str, set[tuple[str, str]]] = {}
    for part in chunked(sorted(set(skus))):
        stmt = select(cv.c.sku, cv.c.product_uuid, cv.c.variant_uuid).where(
            cv.c.org_uuid == org, cv.c.sku.in_(part)
        )
        for sku, product, variant in (await conn.execute(stmt)).all():
            found.setdefault(sku, set()).add((product, variant))
    return found


async def in_category(conn: AsyncConnection, org: str, category_uuid: str) -> list[str]:
    stmt = select(cp.c.product_uuid).where(cp.c.org_uuid == org, cp.c.category_uuid == category_uuid)
    return list((await conn.scalars(stmt)).all())


async def restamp(
    conn: AsyncConnection, org: str, stamps: Sequence[p.Product], *, clear_category: bool
) -> None:
    """Store new etags and update times (and, with `clear_category`, no category) of products whose
    category changed under them (a rename or a deletion)."""
    for product in stamps:
        values: dict[str, Any] = {
            "etag": product.etag,
            "updated_ms": product.updated_ms,
            "updated_by": product.updated_by,
        }
        if clear_category:
            values["category_uuid"] = None
        await conn.execute(
            update(cp).where(and_(cp.c.org_uuid == org, cp.c.product_uuid == product.uuid)).values(values)
        )


async def exists(conn: AsyncConnection, org: str, product_uuid: str) -> bool:
    stmt = select(cp.c.product_uuid).where(cp.c.org_uuid == org, cp.c.product_uuid == product_uuid)
    return (await conn.scalar(stmt)) is not None


async def variant_options(conn: AsyncConnection, org: str) -> list[p.VariantOption]:
    """Every option of every variant of the organization, oldest product first."""
    stmt = (
        select(cv.c.options)
        .select_from(
            cv.join(cp, and_(cp.c.org_uuid == cv.c.org_uuid, cp.c.product_uuid == cv.c.product_uuid))
        )
        .where(cv.c.org_uuid == org, cv.c.options.is_not(None))
        .order_by(cp.c.created_ms, cv.c.product_uuid, cv.c.position)
    )
    found: list[p.VariantOption] = []
    for (text,) in (await conn.execute(stmt)).all():
        found.extend(p.options_from_json(orjson.loads(text)) or ())
    return found
