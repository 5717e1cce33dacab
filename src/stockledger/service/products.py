"""Product Library use cases (product-library-api §2, §3, §5): list and search, get, create, update,
delete (the legacy variant calls are service/product_variants.py). The API, the catalog extension,
the CSV import and the back office all write products through here.

Every write is one transaction under the organization's lock (the house lock order): it checks
everything before it writes, stores the product with a new etag, and appends its event
(`ProductCreated`, `ProductUpdated`, `ProductDeleted`) to the outbox in the same transaction. A
write that changes nothing writes nothing: same etag, no event. Stock is none of the library's
business (spec §8 Q12): deleting a product leaves its tracking and balances as they are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from stockledger.domain import products as p
from stockledger.domain.errors import (
    ServiceError,
    Violation,
    not_found,
    precondition_failed,
    validation_error,
)
from stockledger.domain.product_input import parse_product
from stockledger.domain.product_patch import check_patch, patch_document, request_document
from stockledger.service import organizations
from stockledger.service.context import Actor
from stockledger.store import categories, library, orgs, outbox
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import UnitOfWork, WriteClaim

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500  # a page is one transaction and one answer held in memory
LIST_PAGE_SIZE = 500  # products read per statement round while a whole list is produced
MAX_BULK_DELETE = 500  # uuids of one bulk delete; clients send 50 or 100 (spec §3.7)


def already_exists(product_uuid: str) -> ServiceError:
    """Duplicate create: clients branch on this errorType (without the trailing S, spec §1.3)."""
    return ServiceError(f"Product {product_uuid} already exists", 400, "ITEM_ALREADY_EXIST")


def product_not_found(product_uuid: str) -> ServiceError:
    return not_found(f"Product {product_uuid} not found")


# ---- reads ---------------------------------------------------------------------------------------


async def find_product(db: Database, actor: Actor, product_uuid: str) -> p.Product | None:
    """The product, or None when the library does not hold it."""

    async def work(conn: Any) -> p.Product | None:
        return await library.load_one(conn, actor.org, product_uuid)

    return await db.read(work)


async def get_product(db: Database, actor: Actor, product_uuid: str) -> p.Product:
    """The product; 404 ENTITY_NOT_FOUND when the library does not hold it."""
    found = await find_product(db, actor, product_uuid)
    if found is None:
        raise product_not_found(product_uuid)
    return found


async def count_products(db: Database, actor: Actor) -> int:
    async def work(conn: Any) -> int:
        return await library.count(conn, actor.org)

    return await db.read(work)


async def option_values(db: Database, actor: Actor) -> dict[str, list[str]]:
    """The options the library's variants use: option name → its values, in order of first use."""

    async def work(conn: Any) -> list[p.VariantOption]:
        return await library.variant_options(conn, actor.org)

    found: dict[str, list[str]] = {}
    for option in await db.read(work):
        values = found.setdefault(option.name, [])
        if option.value not in values:
            values.append(option.value)
    return found


@dataclass(frozen=True)
class ProductPage:
    """One page of products (oldest first) and the cursor of the next page (None on the last)."""

    products: list[p.Product]
    next_cursor: str | None


def _cursor(product: p.Product) -> str:
    return f"{product.created_ms}.{product.uuid}"


def _position(cursor: str | None) -> library.Position | None:
    if not cursor:
        return None
    created, _, uuid = cursor.partition(".")
    if not (created.isascii() and created.isdigit() and len(created) <= 18 and uuid):
        raise validation_error([Violation("cursor", "is not a cursor of this list")])
    return int(created), uuid


async def list_products(
    db: Database,
    actor: Actor,
    *,
    search: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> ProductPage:
    """A page of the library, oldest first; `search`: only products whose name or UUID, or a
    variant's name, SKU, barcode or UUID, contains it (any case). `cursor`: the previous page's
    `next_cursor`. Three statements per page, whatever its size."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise validation_error([Violation("limit", f"must be from 1 to {MAX_PAGE_SIZE}")])
    after = _position(cursor)
    text = (search or "").strip()

    async def work(conn: Any) -> list[p.Product]:
        if text:
            return await library.search_page(conn, actor.org, text, after=after, limit=limit + 1)
        return await library.page(conn, actor.org, after=after, limit=limit + 1)

    found = await db.read(work)
    page = found[:limit]
    return ProductPage(page, _cursor(page[-1]) if len(found) > limit else None)


async def all_products(db: Database, actor: Actor) -> AsyncIterator[list[p.Product]]:
    """The whole library, oldest first, in lists of up to LIST_PAGE_SIZE products: each list is one
    short read transaction (a connection is never held while the caller works on a list)."""
    after: library.Position | None = None
    while True:

        async def work(conn: Any, after: library.Position | None = after) -> list[p.Product]:
            return await library.page(conn, actor.org, after=after, limit=LIST_PAGE_SIZE)

        found = await db.read(work)
        if found:
            yield found
        if len(found) < LIST_PAGE_SIZE:
            return
        after = (found[-1].created_ms, found[-1].uuid)


# ---- the write core ------------------------------------------------------------------------------


async def locked_write(
    db: Database, actor: Actor, work: Callable[[UnitOfWork], Awaitable[T]], claim: WriteClaim | None
) -> T:
    """Run `work` in one write transaction holding the organization's lock."""
    await organizations.ensure(db, actor.org)

    async def unit(uow: UnitOfWork) -> T:
        await orgs.lock(uow.conn, actor.org)
        return await work(uow)

    return await db.unit_of_work(unit, claim=claim)


async def _check_variant_owners(uow: UnitOfWork, org: str, wanted: p.Product) -> None:
    """A variant UUID names one variant of the organization: it identifies stock in the Inventory
    API, so another product may not take it (spec §3.1)."""
    owners = await library.variant_owners(uow.conn, org, [v.uuid for v in wanted.variants])
    taken = [
        Violation(f"variants[{i}].uuid", "belongs to another product")
        for i, v in enumerate(wanted.variants)
        if owners.get(v.uuid, wanted.uuid) != wanted.uuid
    ]
    if taken:
        raise validation_error(taken)


async def _resolve_category(
    uow: UnitOfWork, actor: Actor, requested: p.Category | None, saving: str, at_ms: int
) -> p.Category | None:
    """A product's category, created or renamed as the product names it (spec §8 Q5): a category
    UUID the library does not know is created with the given name; a known one with another name is
    renamed (its other products then change too)."""
    if requested is None:
        return None
    stored = await categories.get(uow.conn, actor.org, requested.uuid)
    if stored is None:
        if requested.name is None:
            raise validation_error([Violation("category.name", "must not be null for a new category")])
        record = p.CategoryRecord(requested.uuid, requested.name, p.new_etag(), at_ms, at_ms, actor.sub)
        await categories.insert(uow.conn, actor.org, record)
        return p.Category(requested.uuid, requested.name)
    if requested.name is None or requested.name == stored.name:
        return p.Category(stored.uuid, stored.name)
    await category_changed(uow, actor, stored.uuid, p.Category(stored.uuid, requested.name), at_ms, {saving})
    await categories.rename(uow.conn, actor.org, stored.uuid, requested.name, p.new_etag(), at_ms, actor.sub)
    return p.Category(stored.uuid, requested.name)


async def category_changed(
    uow: UnitOfWork,
    actor: Actor,
    category_uuid: str,
    now_as: p.Category | None,
    at_ms: int,
    skip: set[str] | frozenset[str] = frozenset(),
) -> None:
    """The products in a renamed (`now_as`) or deleted (None) category changed with it: each gets a
    new etag and a `ProductUpdated` (integrations read `category.name` from the entity). Called
    before the category's row changes, so that the old entities carry the old category."""
    affected = [u for u in await library.in_category(uow.conn, actor.org, category_uuid) if u not in skip]
    if not affected:
        return
    before = await library.load(uow.conn, actor.org, affected)
    changed = [
        (old, replace(old, category=now_as, etag=p.new_etag(), updated_ms=at_ms, updated_by=actor.sub))
        for old in (before[u] for u in sorted(before))
    ]
    await library.restamp(uow.conn, actor.org, [new for _, new in changed], clear_category=now_as is None)
    for old, new in changed:
        payload = p.product_updated(actor.org, old, new)
        await outbox.append(uow, actor.org, p.PRODUCT_UPDATED, payload, at_ms)


async def save(uow: UnitOfWork, actor: Actor, before: p.Product | None, wanted: p.Product) -> p.Product:
    """Store `wanted` (its members; the etag, times and authors are set here) in place of `before`
    (None: create), with its event. The caller holds the organization's lock and checked the rest."""
    at_ms = now_ms()
    await _check_variant_owners(uow, actor.org, wanted)
    category = await _resolve_category(uow, actor, wanted.category, wanted.uuid, at_ms)
    if before is not None:
        unchanged = replace(
            wanted,
            category=category,
            etag=before.etag,
            created_ms=before.created_ms,
            updated_ms=before.updated_ms,
            created_by=before.created_by,
            updated_by=before.updated_by,
        )
        if unchanged == before:
            return before
    saved = replace(
        wanted,
        category=category,
        etag=p.new_etag(),
        created_ms=at_ms if before is None else before.created_ms,
        created_by=actor.sub if before is None else before.created_by,
        updated_ms=at_ms,
        updated_by=actor.sub,
    )
    if before is None:
        await library.insert(uow.conn, actor.org, saved)
        await outbox.append(uow, actor.org, p.PRODUCT_CREATED, p.product_created(actor.org, saved), at_ms)
    else:
        await library.replace(uow.conn, actor.org, saved)
        payload = p.product_updated(actor.org, before, saved)
        await outbox.append(uow, actor.org, p.PRODUCT_UPDATED, payload, at_ms)
    return saved


# ---- writes --------------------------------------------------------------------------------------


async def create_product(
    db: Database, actor: Actor, body: Any, *, claim: WriteClaim | None = None
) -> p.Product:
    """Create a product from a request body (§2.2). A UUID the library holds → 400
    ITEM_ALREADY_EXIST; invalid → 400 naming every property; either way nothing is written."""
    wanted = parse_product(body)

    async def work(uow: UnitOfWork) -> p.Product:
        if await library.exists(uow.conn, actor.org, wanted.uuid):
            raise already_exists(wanted.uuid)
        return await save(uow, actor, None, wanted)

    return await locked_write(db, actor, work, claim)


async def update_product(
    db: Database,
    actor: Actor,
    product_uuid: str,
    patch: Any,
    *,
    if_match: str | None = None,
    claim: WriteClaim | None = None,
) -> p.Product:
    """Merge `patch` into the product (§3.5: JSON merge patch, variants merged by UUID). Missing →
    404 whatever the body or `if_match` say (a client re-creates the product on exactly this);
    `if_match` not matching the etag → 412; an invalid body or result → 400."""

    async def work(uow: UnitOfWork) -> p.Product:
        stored = await library.load_one(uow.conn, actor.org, product_uuid)
        if stored is None:
            raise product_not_found(product_uuid)
        if if_match is not None and not p.etag_matches(if_match, stored.etag):
            raise precondition_failed()
        given = check_patch(patch, product_uuid)
        wanted = parse_product({**patch_document(request_document(stored), given), "uuid": product_uuid})
        return await save(uow, actor, stored, wanted)

    return await locked_write(db, actor, work, claim)


async def change_product(
    db: Database,
    actor: Actor,
    product_uuid: str,
    change: Callable[[p.Product | None], p.Product],
    *,
    claim: WriteClaim | None = None,
) -> p.Product:
    """Store `change(stored product or None)`: for writers that edit typed products (the catalog
    extension, the back office). `change` raises to refuse; the result is stored as `save` does."""

    async def work(uow: UnitOfWork) -> p.Product:
        stored = await library.load_one(uow.conn, actor.org, product_uuid)
        return await save(uow, actor, stored, change(stored))

    return await locked_write(db, actor, work, claim)


async def _delete(uow: UnitOfWork, actor: Actor, doomed: Sequence[p.Product]) -> None:
    at_ms = now_ms()
    await library.delete_many(uow.conn, actor.org, [product.uuid for product in doomed])
    for product in doomed:
        gone = replace(product, etag=p.new_etag(), updated_ms=at_ms, updated_by=actor.sub)
        await outbox.append(uow, actor.org, p.PRODUCT_DELETED, p.product_deleted(actor.org, gone), at_ms)


async def delete_product(
    db: Database, actor: Actor, product_uuid: str, *, claim: WriteClaim | None = None
) -> None:
    """Delete the product and its variants (stock untouched); missing → 404."""

    async def work(uow: UnitOfWork) -> None:
        stored = await library.load_one(uow.conn, actor.org, product_uuid)
        if stored is None:
            raise product_not_found(product_uuid)
        await _delete(uow, actor, [stored])

    await locked_write(db, actor, work, claim)


async def delete_products(
    db: Database, actor: Actor, product_uuids: Sequence[str], *, claim: WriteClaim | None = None
) -> list[str]:
    """Delete those of the products the library holds (unknown UUIDs are skipped); one
    `ProductDeleted` per product deleted. Returns their UUIDs."""
    wanted = list(dict.fromkeys(product_uuids))
    if not wanted:
        raise validation_error([Violation("uuid", "name at least one product")])
    if len(wanted) > MAX_BULK_DELETE:
        raise validation_error([Violation("uuid", f"name at most {MAX_BULK_DELETE} products")])

    async def work(uow: UnitOfWork) -> list[str]:
        stored = await library.load(uow.conn, actor.org, wanted)
        doomed = [stored[u] for u in wanted if u in stored]
        if doomed:
            await _delete(uow, actor, doomed)
        return [product.uuid for product in doomed]

    return await locked_write(db, actor, work, claim)
