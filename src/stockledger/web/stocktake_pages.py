"""Stocktake by file: upload a CSV of counts, preview every difference, apply them as one count."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from stockledger.domain.accounts import Permission
from stockledger.plumbing import app_state, path_uuid
from stockledger.service import backoffice, stocktake
from stockledger.web import session
from stockledger.web.params import uuid_param
from stockledger.web.render import page
from stockledger.web.routing import PageRoute

router = APIRouter(route_class=PageRoute, include_in_schema=False)


async def _form(
    request: Request, user: session.UiUser, location: str | None, extra: dict[str, Any], status: int = 200
) -> Response:
    stores = backoffice.stores_of(await backoffice.store_locations(app_state(request).db, user.actor))
    context: dict[str, Any] = {
        "user": user,
        "active": "stocktake",
        "title": "Stocktake",
        "stores": stores,
        "location": location or next((s.uuid for s in stores if s.is_default), stores[0].uuid),
        "errors": {},
        "row_errors": [],
        "rows_parsed": 0,
        "more_errors": 0,
    }
    context.update(extra)
    return page(request, "stocktake.html", context, status)


@router.get("/ui/stocktake")
async def stocktake_form(request: Request) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.STOCK)
    return await _form(request, user, uuid_param(request, "location"), {})


@router.post("/ui/stocktake")
async def upload(request: Request) -> Response:
    """Parse and check the whole file; only a clean file is kept (server-side) for its preview."""
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    session.require(user, Permission.STOCK)
    location = str(form.get("location", ""))
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return await _form(request, user, location, {"errors": {"file": "Choose a CSV file."}}, 400)
    data = await file.read()
    if not data.strip():
        return await _form(request, user, location, {"errors": {"file": "The file is empty."}}, 400)
    db = app_state(request).db
    store = backoffice.pick_store(await backoffice.store_locations(db, user.actor), location)
    result = await stocktake.upload(db, user.actor, store.uuid, file.filename, data)
    if result.file_error:
        return await _form(request, user, store.uuid, {"errors": {"file": result.file_error}}, 400)
    if result.errors:
        extra = {
            "errors": {
                "file": f"{len(result.errors):,} rows cannot be counted. Correct them and upload again."
            },
            "row_errors": result.errors[: stocktake.MAX_ERRORS_SHOWN],
            "more_errors": max(0, len(result.errors) - stocktake.MAX_ERRORS_SHOWN),
            "rows_parsed": result.rows_parsed,
            "filename": file.filename,
        }
        return await _form(request, user, store.uuid, extra, 400)
    assert result.stocktake_uuid is not None
    return RedirectResponse(f"/ui/stocktake/{result.stocktake_uuid}", status_code=303)


@router.get("/ui/stocktake/{taken}")
async def preview(request: Request, taken: str) -> Response:
    user = await session.current_user(request)
    session.require(user, Permission.STOCK)
    db = app_state(request).db
    found = await stocktake.load(db, user.actor, path_uuid(taken, "stocktake"))
    all_locations = await backoffice.store_locations(db, user.actor)
    store = next((loc for loc in all_locations if loc.uuid == found.location_uuid), None)
    differences = [r for r in found.rows if r["counted"] != r["current"]]
    context = {
        "user": user,
        "active": "stocktake",
        "title": "Stocktake preview",
        "taken": found,
        "store_name": store.name if store else found.location_uuid,
        "differences": differences,
        "unchanged": found.row_count - len(differences),
        "changed": sum(1 for r in found.rows if "was" in r),
        "net": sum(r["counted"] - r["current"] for r in differences),
    }
    return page(request, "stocktake_preview.html", context)


@router.post("/ui/stocktake/{taken}/apply")
async def apply(request: Request, taken: str) -> Response:
    """One count request for every row; a balance changed since the preview → back to the preview,
    which now shows the new balances with the changed rows marked (nothing was applied)."""
    user = await session.current_user(request)
    form = await request.form()
    session.check_csrf(user.csrf_token, form.get(session.CSRF_FIELD))
    session.require(user, Permission.STOCK)
    stocktake_uuid = path_uuid(taken, "stocktake")
    state = app_state(request)
    await stocktake.apply(
        state.db, user.actor, stocktake_uuid, default_low_stock_units=state.default_low_stock_units
    )
    return RedirectResponse(f"/ui/stocktake/{stocktake_uuid}", status_code=303)
