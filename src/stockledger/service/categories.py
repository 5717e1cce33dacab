"""Categories of the Product Library (product-library-api §3.9): list, get, create, rename, delete.

A product names at most one category; renaming or deleting one changes its products too (each gets
a new etag and a `ProductUpdated`, service/products.category_changed). Products also create and
rename categories implicitly when they name one (§8 Q5).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from stockledger.domain import products as p
from stockledger.domain.errors import ServiceError, Violation, not_found, validation_error
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.text import NUL_REFUSED, has_nul
from stockledger.service.context import Actor
from stockledger.service.products import category_changed, locked_write
from stockledger.store import categories
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from stockledger.store.unit_of_work import UnitOfWork, WriteClaim

MAX_CATEGORIES_PER_REQUEST = 100


def category_exists(message: str) -> ServiceError:
    return ServiceError(message, 400, "VALIDATION_ERROR", [Violation("name", message)])


def parse_name(value: Any, path: str) -> str:
    if value is None:
        raise validation_error([Violation(path, "must not be null")])
    if not isinstance(value, str):
        raise validation_error([Violation(path, "must be a string")])
    if has_nul(value):
        raise validation_error([Violation(path, NUL_REFUSED)])
    if not value.strip():
        raise validation_error([Violation(path, "must not be blank")])
    if len(value) > p.MAX_CATEGORY_NAME_CHARS:
        raise validation_error([Violation(path, f"must be at most {p.MAX_CATEGORY_NAME_CHARS} characters")])
    return value


def parse_new(items: Any, path: str) -> list[tuple[str, str]]:
    """(uuid, name) of each `{uuid, name}` to create; 400 naming the first bad property."""
    if not isinstance(items, list) or not items:
        raise validation_error([Violation(path, "must list at least one category")])
    if len(items) > MAX_CATEGORIES_PER_REQUEST:
        raise validation_error([Violation(path, f"must have at most {MAX_CATEGORIES_PER_REQUEST} items")])
    found = []
    for i, item in enumerate(items):
        at = f"{path}[{i}]." if path else ""  # the legacy call's body is the one category
        if not isinstance(item, dict):
            raise validation_error([Violation(at.rstrip("."), "must be a JSON object")])
        uuid = canonical_uuid(item.get("uuid"))
        if uuid is None:
            raise validation_error([Violation(f"{at}uuid", "must be a UUID")])
        found.append((uuid, parse_name(item.get("name"), f"{at}name")))
    return found


async def list_categories(db: Database, actor: Actor) -> list[p.CategoryRecord]:
    async def work(conn: Any) -> list[p.CategoryRecord]:
        return await categories.list_all(conn, actor.org)

    return await db.read(work)


async def get_category(db: Database, actor: Actor, category_uuid: str) -> p.CategoryRecord:
    async def work(conn: Any) -> p.CategoryRecord | None:
        return await categories.get(conn, actor.org, category_uuid)

    found = await db.read(work)
    if found is None:
        raise not_found(f"Category {category_uuid} not found")
    return found


def _name_key(name: str) -> str:
    return name.strip().casefold()


async def create_categories(
    db: Database, actor: Actor, new: Sequence[tuple[str, str]], *, claim: WriteClaim | None = None
) -> list[p.CategoryRecord]:
    """Create every category or none: a UUID or a name (any case) already used → 400 "Category
    already exists"."""

    async def work(uow: UnitOfWork) -> list[p.CategoryRecord]:
        existing = await categories.list_all(uow.conn, actor.org)
        uuids = {c.uuid for c in existing}
        names = {_name_key(c.name) for c in existing}
        at_ms = now_ms()
        created = []
        for uuid, name in new:
            if uuid in uuids or _name_key(name) in names:
                raise category_exists(f"Category already exists: {name}")
            uuids.add(uuid)
            names.add(_name_key(name))
            created.append(p.CategoryRecord(uuid, name, p.new_etag(), at_ms, at_ms, actor.sub))
        for record in created:
            await categories.insert(uow.conn, actor.org, record)
        return created

    return await locked_write(db, actor, work, claim)


async def rename_category(
    db: Database, actor: Actor, category_uuid: str, name: str, *, claim: WriteClaim | None = None
) -> p.CategoryRecord:
    """404 unknown; 400 when another category has the name; its products change with it."""

    async def work(uow: UnitOfWork) -> p.CategoryRecord:
        existing = await categories.list_all(uow.conn, actor.org)
        stored = next((c for c in existing if c.uuid == category_uuid), None)
        if stored is None:
            raise not_found(f"Category {category_uuid} not found")
        if any(c.uuid != category_uuid and _name_key(c.name) == _name_key(name) for c in existing):
            raise category_exists(f"Category already exists: {name}")
        if stored.name == name:
            return stored
        at_ms = now_ms()
        renamed = p.CategoryRecord(stored.uuid, name, p.new_etag(), stored.created_ms, at_ms, actor.sub)
        await category_changed(uow, actor, stored.uuid, p.Category(stored.uuid, name), at_ms)
        await categories.rename(uow.conn, actor.org, stored.uuid, name, renamed.etag, at_ms, actor.sub)
        return renamed

    return await locked_write(db, actor, work, claim)


async def delete_category(
    db: Database, actor: Actor, category_uuid: str, *, claim: WriteClaim | None = None
) -> None:
    """404 unknown; its products are left without a category."""

    async def work(uow: UnitOfWork) -> None:
        if await categories.get(uow.conn, actor.org, category_uuid) is None:
            raise not_found(f"Category {category_uuid} not found")
        await category_changed(uow, actor, category_uuid, None, now_ms())
        await categories.remove(uow.conn, actor.org, category_uuid)

    await locked_write(db, actor, work, claim)
