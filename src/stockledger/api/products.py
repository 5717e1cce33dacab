"""Product Library routes (product-library-api §3.1–§3.8), host `products.izettle.com`.

Literal segments are declared before `{productUuid}` so that `…/products/v2` and
`…/products/v2/count` are never read as a product UUID. Bodies of GET and DELETE requests, and
`If-Match` on POST, GET and DELETE, are ignored (clients send them, §1.1).
"""

from __future__ import annotations

import json
import tempfile
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from stockledger.api.auth import Reader, Writer
from stockledger.api.idempotency import claim_of
from stockledger.api.product_wire import (
    PRODUCT_PATCH_SCHEMA,
    PRODUCT_SCHEMA,
    VARIANT_SCHEMA,
    ProductCountOut,
    ProductOut,
    VariantOptionsOut,
    body_of,
)
from stockledger.api.responses import JSONResponse, SpooledResponse, json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import ERRORS
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.ids import canonical_uuid
from stockledger.domain.products import Product, entity_json, etag_matches
from stockledger.exact_json import loads_exact
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import product_variants, products
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Product Library"])

PRODUCTS = "/organizations/{org}/products"
SPOOL_IN_MEMORY_BYTES = 1024 * 1024  # past this a list is spooled to a temporary file
# Bulk delete names products as `uuid=a&uuid=b`, `uuid[]=a` or, from a client that numbers array
# members, `uuid[0]=a` (spec §3.7).
BULK_DELETE_KEYS = "uuid"

_ETAG = {"ETag": {"description": 'the product\'s etag, quoted: `"D3605CCA…"`', "schema": {"type": "string"}}}
_CREATED: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "Created (headers Location and ETag). No body, unless `returnEntity=true`: "
        "then the created product, as `GET …/products/{productUuid}` answers it.",
        "headers": {**_ETAG, "Location": {"schema": {"type": "string"}}},
    }
}
_NO_CONTENT: dict[int | str, dict[str, Any]] = {204: {"description": "Done, no body"}}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "the etag read before (quoted or not, W/ allowed) or `*`; a mismatch → 412 without body",
    "schema": {"type": "string"},
}


async def read_body(request: Request) -> Any:
    """The request's JSON, numbers exact; empty or malformed → 400."""
    raw = await request.body()
    if not raw.strip():
        raise validation_error([Violation("", "a JSON request body is required")])
    try:
        return loads_exact(raw)
    except json.JSONDecodeError as exc:
        raise validation_error([Violation("", f"malformed JSON: {exc.msg}")]) from None


def location_of(request: Request, org: str, product_uuid: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/organizations/{org}/products/{product_uuid}"


def product_headers(request: Request, actor: Actor, product: Product) -> dict[str, str]:
    return {"ETag": f'"{product.etag}"', "Location": location_of(request, actor.org, product.uuid)}


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


# ---- lists ---------------------------------------------------------------------------------------


async def _whole_library(request: Request, actor: Actor) -> Response:
    """Every product as one JSON array (no envelope, no paging, no `Link` header: §3.2), read a
    page at a time and written to a spool, then sent (a connection is never held for a client)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)
    try:
        spool.write(b"[")
        first = True
        async for page in products.all_products(app_state(request).db, actor):
            items = orjson.dumps([entity_json(product) for product in page])[1:-1]
            spool.write(items if first else b"," + items)
            first = False
        spool.write(b"]")
    except BaseException:
        spool.close()
        raise
    if spool.tell() <= SPOOL_IN_MEMORY_BYTES:
        with spool:
            spool.seek(0)
            return Response(spool.read(), media_type=JSONResponse.media_type)
    return SpooledResponse(spool, media_type=JSONResponse.media_type)


@router.get(PRODUCTS, response_model=list[ProductOut])
async def list_products_v1(request: Request, org: str, actor: Actor = Reader) -> Response:
    """Every product of the library, oldest first (a JSON array)."""
    return await _whole_library(request, actor)


@router.get(
    f"{PRODUCTS}/v2",
    response_model=list[ProductOut],
    openapi_extra={
        "parameters": [
            {
                "name": "sort",
                "in": "query",
                "required": False,
                "description": "`true`: by creation, oldest first (the order is that either way)",
                "schema": {"type": "boolean"},
            }
        ]
    },
)
async def list_products_v2(request: Request, org: str, actor: Actor = Reader) -> Response:
    """Every product of the library, oldest first (a JSON array)."""
    return await _whole_library(request, actor)


@router.get(f"{PRODUCTS}/v2/count", response_model=ProductCountOut)
async def count_products(request: Request, org: str, actor: Actor = Reader) -> Response:
    """`{"productCount": n}`: an object (a client's setup hydrates an object, not an array)."""
    return json_response({"productCount": await products.count_products(app_state(request).db, actor)})


@router.get(f"{PRODUCTS}/options", response_model=list[VariantOptionsOut])
async def product_options(request: Request, org: str, actor: Actor = Reader) -> Response:
    """The options the library's variants use, with their values (Zettle's OpenAPI shape: an array
    holding one `{"options": [{"name", "values"}]}`)."""
    found = await products.option_values(app_state(request).db, actor)
    return json_response([{"options": [{"name": name, "values": values} for name, values in found.items()]}])


# ---- create, bulk delete -------------------------------------------------------------------------


@router.post(
    PRODUCTS,
    status_code=201,
    response_class=Response,
    responses=_CREATED,
    openapi_extra={
        **body_of(PRODUCT_SCHEMA),
        "parameters": [
            {
                "name": "returnEntity",
                "in": "query",
                "required": False,
                "description": "`true`: answer the created product",
                "schema": {"type": "boolean"},
            }
        ],
    },
)
async def create_product(request: Request, org: str, actor: Actor = Writer) -> Response:
    """Create a product (201, `Location`, `ETag`). Its UUID already used → 400 ITEM_ALREADY_EXIST."""
    body = await read_body(request)
    created = await products.create_product(app_state(request).db, actor, body, claim=claim_of(request))
    headers = product_headers(request, actor, created)
    if _true(request.query_params.get("returnEntity")):
        return json_response(entity_json(created), 201, headers)
    return Response(status_code=201, headers=headers)


def bulk_uuids(request: Request) -> list[str]:
    """The `uuid` query values, in order (`uuid`, `uuid[]` and `uuid[n]` keys); a bad one → 400."""
    found = []
    for key, value in request.query_params.multi_items():
        name = key.split("[", 1)[0]
        if name != BULK_DELETE_KEYS or (key != name and not key.endswith("]")):
            continue
        uuid = canonical_uuid(value.strip())
        if uuid is None:
            raise validation_error([Violation("uuid", f"must be a UUID, got {value[:60]!r}")])
        found.append(uuid)
    if not found:
        raise validation_error([Violation("uuid", "name at least one product: ?uuid=…&uuid=…")])
    return found


@router.delete(
    PRODUCTS,
    status_code=204,
    response_class=Response,
    responses=_NO_CONTENT,
    openapi_extra={
        "parameters": [
            {
                "name": "uuid",
                "in": "query",
                "required": True,
                "description": f"a product to delete; repeat it for more (up to {products.MAX_BULK_DELETE})",
                "schema": {"type": "array", "items": {"type": "string", "format": "uuid"}},
                "style": "form",
                "explode": True,
            }
        ]
    },
)
async def delete_products(request: Request, org: str, actor: Actor = Writer) -> Response:
    """Delete the named products; unknown UUIDs are skipped (204 either way)."""
    wanted = bulk_uuids(request)
    await products.delete_products(app_state(request).db, actor, wanted, claim=claim_of(request))
    return Response(status_code=204)


# ---- one product ---------------------------------------------------------------------------------


async def _one(request: Request, actor: Actor, productUuid: str) -> Response:
    found = await products.get_product(app_state(request).db, actor, path_uuid(productUuid, "productUuid"))
    headers = product_headers(request, actor, found)
    not_modified = request.headers.get("if-none-match")
    if not_modified is not None and etag_matches(not_modified, found.etag):
        return Response(status_code=304, headers=headers)
    return json_response(entity_json(found), 200, headers)


_ONE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The product", "headers": _ETAG},
    304: {"description": "`If-None-Match` names the current etag; no body"},
}


@router.get(f"{PRODUCTS}/v2/{{productUuid}}", response_model=ProductOut, responses=_ONE_RESPONSES)
async def get_product_v2(request: Request, org: str, productUuid: str, actor: Actor = Reader) -> Response:
    """The product (as `GET …/products/{productUuid}`)."""
    return await _one(request, actor, productUuid)


@router.put(
    f"{PRODUCTS}/v2/{{productUuid}}",
    response_model=ProductOut,
    responses={
        200: {"description": "The updated product", "headers": _ETAG},
        412: {"description": "`If-Match` names another etag; no body"},
    },
    openapi_extra={**body_of(PRODUCT_PATCH_SCHEMA), "parameters": [_IF_MATCH]},
)
async def update_product(request: Request, org: str, productUuid: str, actor: Actor = Writer) -> Response:
    """Merge the body into the product (JSON merge patch; variants merged by `uuid`). 200 with the
    updated product and its new `ETag`; missing → 404 ENTITY_NOT_FOUND (even with `If-Match: *`)."""
    product_uuid = path_uuid(productUuid, "productUuid")
    body = await read_body(request)
    updated = await products.update_product(
        app_state(request).db,
        actor,
        product_uuid,
        body,
        if_match=request.headers.get("if-match"),
        claim=claim_of(request),
    )
    return json_response(entity_json(updated), 200, product_headers(request, actor, updated))


@router.get(f"{PRODUCTS}/{{productUuid}}", response_model=ProductOut, responses=_ONE_RESPONSES)
async def get_product(request: Request, org: str, productUuid: str, actor: Actor = Reader) -> Response:
    """The product with its `ETag`; `If-None-Match` with the current etag → 304; missing → 404."""
    return await _one(request, actor, productUuid)


@router.delete(f"{PRODUCTS}/{{productUuid}}", status_code=204, response_class=Response, responses=_NO_CONTENT)
async def delete_product(request: Request, org: str, productUuid: str, actor: Actor = Writer) -> Response:
    """Delete the product (its stock is untouched); missing → 404."""
    product_uuid = path_uuid(productUuid, "productUuid")
    await products.delete_product(app_state(request).db, actor, product_uuid, claim=claim_of(request))
    return Response(status_code=204)


# ---- legacy variant calls (§3.8) -----------------------------------------------------------------

VARIANTS = f"{PRODUCTS}/{{productUuid}}/variants"


@router.post(
    VARIANTS,
    status_code=201,
    response_class=Response,
    responses={201: {"description": "Created, no body"}},
    openapi_extra=body_of(VARIANT_SCHEMA),
)
async def add_variant(request: Request, org: str, productUuid: str, actor: Actor = Writer) -> Response:
    """Add a variant to the product (legacy); 404 product missing, 400 variant already there."""
    product_uuid = path_uuid(productUuid, "productUuid")
    body = await read_body(request)
    await product_variants.add_variant(
        app_state(request).db, actor, product_uuid, body, claim=claim_of(request)
    )
    return Response(status_code=201)


@router.put(
    f"{VARIANTS}/{{variantUuid}}",
    status_code=204,
    response_class=Response,
    responses=_NO_CONTENT,
    openapi_extra=body_of(VARIANT_SCHEMA),
)
async def update_variant(
    request: Request, org: str, productUuid: str, variantUuid: str, actor: Actor = Writer
) -> Response:
    """Merge the body into one variant (legacy); 404 when the product or the variant is missing."""
    product_uuid = path_uuid(productUuid, "productUuid")
    variant_uuid = path_uuid(variantUuid, "variantUuid")
    body = await read_body(request)
    db = app_state(request).db
    await product_variants.update_variant(
        db, actor, product_uuid, variant_uuid, body, claim=claim_of(request)
    )
    return Response(status_code=204)


@router.delete(f"{VARIANTS}/{{variantUuid}}", status_code=204, response_class=Response, responses=_NO_CONTENT)
async def delete_variant(
    request: Request, org: str, productUuid: str, variantUuid: str, actor: Actor = Writer
) -> Response:
    """Remove one variant (legacy); 400 for the product's last one, 404 when missing."""
    product_uuid = path_uuid(productUuid, "productUuid")
    variant_uuid = path_uuid(variantUuid, "variantUuid")
    db = app_state(request).db
    await product_variants.delete_variant(db, actor, product_uuid, variant_uuid, claim=claim_of(request))
    return Response(status_code=204)
