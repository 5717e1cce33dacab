"""Category routes of the Product Library (product-library-api §3.9): v2 (list, create, rename,
delete) and the legacy v1 calls (list, get one, create one), served from one table."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from stockledger.api.auth import Reader, Writer
from stockledger.api.idempotency import claim_of
from stockledger.api.product_wire import (
    CATEGORIES_SCHEMA,
    CATEGORY_SCHEMA,
    RENAME_SCHEMA,
    CategoriesOut,
    CategoryOut,
    body_of,
)
from stockledger.api.products import read_body
from stockledger.api.responses import json_response
from stockledger.api.routing import ExactJSONRoute
from stockledger.api.wire import ERRORS
from stockledger.domain.errors import Violation, validation_error
from stockledger.domain.products import category_json
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import categories
from stockledger.service.context import Actor

router = APIRouter(route_class=ExactJSONRoute, responses=ERRORS, tags=["Product Library: categories"])

V1 = "/organizations/{org}/categories"
V2 = "/organizations/{org}/categories/v2"
_CREATED: dict[int | str, dict[str, Any]] = {201: {"description": "Created, no body"}}
_NO_CONTENT: dict[int | str, dict[str, Any]] = {204: {"description": "Done, no body"}}


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise validation_error([Violation("", "the body must be a JSON object")])
    return body


@router.get(V2, response_model=CategoriesOut)
async def list_categories_v2(request: Request, org: str, actor: Actor = Reader) -> Response:
    """`{"categories": [{"uuid", "name"}]}`, oldest first."""
    found = await categories.list_categories(app_state(request).db, actor)
    return json_response({"categories": [{"uuid": c.uuid, "name": c.name} for c in found]})


@router.post(
    V2, status_code=201, response_class=Response, responses=_CREATED, openapi_extra=body_of(CATEGORIES_SCHEMA)
)
async def create_categories_v2(request: Request, org: str, actor: Actor = Writer) -> Response:
    """Create every listed category or none; a UUID or name in use → 400 "Category already exists"."""
    body = _object(await read_body(request))
    new = categories.parse_new(body.get("categories"), "categories")
    await categories.create_categories(app_state(request).db, actor, new, claim=claim_of(request))
    return Response(status_code=201)


@router.patch(
    f"{V2}/{{uuid}}",
    status_code=204,
    response_class=Response,
    responses=_NO_CONTENT,
    openapi_extra=body_of(RENAME_SCHEMA),
)
async def rename_category(request: Request, org: str, uuid: str, actor: Actor = Writer) -> Response:
    """Rename the category (its products change with it); 400 name in use, 404 unknown."""
    category_uuid = path_uuid(uuid, "uuid")
    name = categories.parse_name(_object(await read_body(request)).get("name"), "name")
    await categories.rename_category(
        app_state(request).db, actor, category_uuid, name, claim=claim_of(request)
    )
    return Response(status_code=204)


@router.delete(f"{V2}/{{uuid}}", status_code=204, response_class=Response, responses=_NO_CONTENT)
async def delete_category(request: Request, org: str, uuid: str, actor: Actor = Writer) -> Response:
    """Delete the category; its products are left without one. 404 unknown."""
    category_uuid = path_uuid(uuid, "uuid")
    await categories.delete_category(app_state(request).db, actor, category_uuid, claim=claim_of(request))
    return Response(status_code=204)


@router.get(V1, response_model=list[CategoryOut])
async def list_categories_v1(request: Request, org: str, actor: Actor = Reader) -> Response:
    """The legacy list: an array of `{uuid, name, etag, updated, updatedBy, created}`."""
    found = await categories.list_categories(app_state(request).db, actor)
    return json_response([category_json(c) for c in found])


@router.post(
    V1, status_code=201, response_class=Response, responses=_CREATED, openapi_extra=body_of(CATEGORY_SCHEMA)
)
async def create_category_v1(request: Request, org: str, actor: Actor = Writer) -> Response:
    """The legacy create: one `{uuid, name}`."""
    new = categories.parse_new([_object(await read_body(request))], "")
    await categories.create_categories(app_state(request).db, actor, new, claim=claim_of(request))
    return Response(status_code=201)


@router.get(f"{V1}/{{uuid}}", response_model=CategoryOut)
async def get_category_v1(request: Request, org: str, uuid: str, actor: Actor = Reader) -> Response:
    """The legacy single category; 404 unknown."""
    found = await categories.get_category(app_state(request).db, actor, path_uuid(uuid, "uuid"))
    return json_response(category_json(found))
