"""Catalog names (Extension): PUT and GET /organizations/{org}/catalog/products/{productUuid}.

A view of the Product Library: the entry is the library product of that UUID (its name, and its
variants' names, SKUs and barcodes); a PUT writes the library product (with its events)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import Field, StringConstraints
from starlette.responses import Response

from stockledger.api.auth import Reader, Writer
from stockledger.api.idempotency import claim_of
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import ERRORS, NO_NUL, Uuid, Wire
from stockledger.domain import products
from stockledger.domain.catalog import CatalogProduct, CatalogVariant
from stockledger.domain.errors import Violation, validation_error
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import catalog
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Catalog (Extension)"])

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=catalog.MAX_TEXT_LEN), NO_NUL
]
OptionalText = (
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=catalog.MAX_TEXT_LEN), NO_NUL] | None
)
# The library's limits: the entry is a library product.
Sku = (
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=products.MAX_SKU_CHARS), NO_NUL] | None
)
Barcode = (
    Annotated[str, StringConstraints(strip_whitespace=True, max_length=products.MAX_BARCODE_CHARS), NO_NUL]
    | None
)


class CatalogVariantIn(Wire):
    uuid: Uuid
    name: OptionalText = None
    sku: Sku = None
    barcode: Barcode = None


class CatalogProductIn(Wire):
    name: Name
    variants: list[CatalogVariantIn] = Field(default_factory=list, max_length=products.MAX_VARIANTS)


class CatalogVariantOut(Wire):
    uuid: str
    name: str | None
    sku: str | None
    barcode: str | None


class CatalogProductOut(Wire):
    productUuid: str
    name: str | None
    variants: list[CatalogVariantOut]


def _blank_to_none(value: str | None) -> str | None:
    return value if value else None


def _out(entry: CatalogProduct) -> dict[str, Any]:
    return {
        "productUuid": entry.product_uuid,
        "name": entry.name,
        "variants": [
            {"uuid": v.uuid, "name": v.name, "sku": v.sku, "barcode": v.barcode} for v in entry.variants
        ],
    }


@router.put("/organizations/{org}/catalog/products/{productUuid}", response_model=CatalogProductOut)
async def put_catalog_product(
    request: Request, org: str, productUuid: str, body: CatalogProductIn, actor: Actor = Writer
) -> Response:
    """Store the names of a product and its variants (replaces the stored entry; the library
    product's other members are kept)."""
    product = path_uuid(productUuid, "productUuid")
    seen: set[str] = set()
    for i, variant in enumerate(body.variants):
        if variant.uuid in seen:
            raise validation_error([Violation(f"variants[{i}].uuid", "is listed twice")])
        seen.add(variant.uuid)
    variants = [
        CatalogVariant(v.uuid, _blank_to_none(v.name), _blank_to_none(v.sku), _blank_to_none(v.barcode))
        for v in body.variants
    ]
    stored = await catalog.put_product(
        app_state(request).db, actor, product, body.name, variants, claim=claim_of(request)
    )
    return json_response(_out(stored))


@router.get("/organizations/{org}/catalog/products/{productUuid}", response_model=CatalogProductOut)
async def get_catalog_product(
    request: Request, org: str, productUuid: str, actor: Actor = Reader
) -> Response:
    """The stored names of a product; unknown → 404."""
    found = await catalog.get_product(app_state(request).db, actor, path_uuid(productUuid, "productUuid"))
    return json_response(_out(found))
