"""The legacy variant calls of the Product Library (product-library-api §3.8): add, change or
remove one variant of a product. Each is a product write (service/products.save): one transaction
under the organization's lock, a new etag and a `ProductUpdated`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from stockledger.domain import products as p
from stockledger.domain.errors import ServiceError, Violation, not_found, validation_error
from stockledger.domain.product_input import parse_product
from stockledger.domain.product_patch import patch_document, request_document
from stockledger.service.context import Actor
from stockledger.service.products import locked_write, product_not_found, save
from stockledger.store import library
from stockledger.store.db import Database
from stockledger.store.unit_of_work import UnitOfWork, WriteClaim


async def add_variant(
    db: Database, actor: Actor, product_uuid: str, body: Any, *, claim: WriteClaim | None = None
) -> p.Product:
    """Append a variant (a VariantDTO body) to the product: 404 product missing, 400 UUID taken."""
    if not isinstance(body, Mapping):
        raise validation_error([Violation("", "the body must be a JSON object")])

    async def work(uow: UnitOfWork) -> p.Product:
        stored = await library.load_one(uow.conn, actor.org, product_uuid)
        if stored is None:
            raise product_not_found(product_uuid)
        document = request_document(stored)
        listed = document.get("variants", [])
        if any(v["uuid"] == str(body.get("uuid", "")).lower() for v in listed):
            raise validation_error([Violation("uuid", "the product already has this variant")])
        document["variants"] = [*listed, body]
        wanted = _with_paths(parse_product, document, f"variants[{len(listed)}]")
        return await save(uow, actor, stored, wanted)

    return await locked_write(db, actor, work, claim)


async def update_variant(
    db: Database,
    actor: Actor,
    product_uuid: str,
    variant_uuid: str,
    body: Any,
    *,
    claim: WriteClaim | None = None,
) -> p.Product:
    """Merge `body` into one variant of the product; 404 when either is missing."""
    if not isinstance(body, Mapping):
        raise validation_error([Violation("", "the body must be a JSON object")])

    async def work(uow: UnitOfWork) -> p.Product:
        stored = await library.load_one(uow.conn, actor.org, product_uuid)
        position = _variant_position(stored, product_uuid, variant_uuid)
        assert stored is not None
        entry = {**body, "uuid": variant_uuid}
        document = patch_document(request_document(stored), {"variants": _replaced(stored, position, entry)})
        wanted = _with_paths(parse_product, document, f"variants[{position}]")
        return await save(uow, actor, stored, wanted)

    return await locked_write(db, actor, work, claim)


async def delete_variant(
    db: Database, actor: Actor, product_uuid: str, variant_uuid: str, *, claim: WriteClaim | None = None
) -> p.Product:
    """Remove one variant; 404 when either is missing, 400 for the product's last variant."""

    async def work(uow: UnitOfWork) -> p.Product:
        stored = await library.load_one(uow.conn, actor.org, product_uuid)
        _variant_position(stored, product_uuid, variant_uuid)
        assert stored is not None
        if len(stored.variants) == 1:
            raise validation_error([Violation("variantUuid", "is the product's last variant")])
        kept = tuple(v for v in stored.variants if v.uuid != variant_uuid)
        return await save(uow, actor, stored, replace(stored, variants=kept))

    return await locked_write(db, actor, work, claim)


def _variant_position(stored: p.Product | None, product_uuid: str, variant_uuid: str) -> int:
    if stored is None:
        raise product_not_found(product_uuid)
    for position, variant in enumerate(stored.variants):
        if variant.uuid == variant_uuid:
            return position
    raise not_found(f"Variant {variant_uuid} of product {product_uuid} not found")


def _replaced(stored: p.Product, position: int, entry: Mapping[str, Any]) -> list[Any]:
    listed: list[Any] = [{"uuid": v.uuid} for v in stored.variants]
    listed[position] = entry
    return listed


def _with_paths(parse: Callable[[Any], p.Product], document: Mapping[str, Any], prefix: str) -> p.Product:
    """Parse a product document for a call whose body is one variant: the violations of that variant
    are named from the body (`price.amount`, not `variants[2].price.amount`)."""
    try:
        return parse(document)
    except ServiceError as exc:
        if exc.violations:
            renamed = [
                Violation(v.property_name.removeprefix(prefix).removeprefix("."), v.message)
                if v.property_name.startswith(prefix)
                else v
                for v in exc.violations
            ]
            raise validation_error(renamed) from None
        raise
