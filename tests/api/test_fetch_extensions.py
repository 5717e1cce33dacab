"""Location fetches beyond Zettle (spec §8): `asOf` from the ledger, keyset pages, streamed lists."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import orjson

from stockledger.api import serialize
from stockledger.service import fetch
from stockledger.service.context import Actor
from stockledger.service.inventory import LocationRef
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from tests.conftest import Api, new_uuid


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


async def next_millisecond(after_ms: int) -> None:
    """Movements are stamped in milliseconds: make sure the next one is strictly later."""
    while now_ms() <= after_ms:
        await asyncio.sleep(0.001)


async def test_as_of_answers_what_a_fetch_at_that_instant_returned(api: Api) -> None:
    locs = await api.locations()
    p1, p2, v1, v2, v3 = new_uuid(), new_uuid(), new_uuid(), new_uuid(), new_uuid()
    await api.track(p1)
    await api.track(p2)
    await api.move(p1, v1, locs["SUPPLIER"], locs["STORE"], "10.5")
    await api.move(p2, v2, locs["SUPPLIER"], locs["STORE"], 3)
    await api.move(p2, v2, locs["STORE"], locs["SOLD"], 3)  # a zero balance is listed too
    before = (await api.get("/inventory")).json()
    fetched_ms = now_ms()
    await next_millisecond(fetched_ms)
    await api.move(p1, v1, locs["STORE"], locs["SOLD"], 4)
    await api.move(p1, v3, locs["SUPPLIER"], locs["STORE"], 1)

    past = (await api.get("/inventory", params={"asOf": iso(fetched_ms)})).json()
    assert past == before
    for path in (
        "/organizations/self/inventory",
        f"/organizations/self/inventory/locations/{locs['STORE']}",
    ):
        assert (await api.get(path, params={"asOf": iso(fetched_ms)})).json() == before
    sold = (
        await api.get(
            "/organizations/self/inventory/locations", params={"type": "SOLD", "asOf": iso(fetched_ms)}
        )
    ).json()
    assert [v["balance"] for v in sold["variants"]] == ["3"]
    now = (await api.get("/inventory")).json()
    assert (await api.get("/inventory", params={"asOf": iso(now_ms() + 1000)})).json()["variants"] == now[
        "variants"
    ]
    assert (await api.get("/inventory", params={"asOf": "2000-01-01T00:00:00Z"})).json()["variants"] == []


async def test_as_of_rejects_bad_instants(api: Api) -> None:
    for bad in ("yesterday", "2026-01-01T00:00:00"):
        response = await api.get("/inventory", params={"asOf": bad})
        assert response.status_code == 400
        assert response.json()["violations"][0]["propertyName"] == "asOf"


async def make_variants(api: Api, count: int) -> tuple[dict[str, str], list[tuple[str, str]]]:
    locs = await api.locations()
    product = new_uuid()
    await api.track(product)
    variants = [new_uuid() for _ in range(count)]
    changes = [
        {"productUuid": product, "variantUuid": v, "fromLocationUuid": locs["SUPPLIER"],
         "toLocationUuid": locs["STORE"], "change": i + 1}
        for i, v in enumerate(variants)
    ]  # fmt: skip
    for start in range(0, len(changes), 1000):  # the per-request limit
        response = await api.put(
            "/organizations/self/inventory", json={"changes": changes[start : start + 1000]}
        )
        assert response.is_success, response.text
    return locs, sorted((product, v) for v in variants)


async def test_pages_walk_every_variant_once_in_order(api: Api) -> None:
    _, keys = await make_variants(api, 7)
    whole = (await api.get("/inventory")).json()
    seen: list[dict[str, Any]] = []
    page = (await api.get("/inventory", params={"limit": 3})).json()
    pages = 1
    while True:
        assert page["trackedProducts"] == whole["trackedProducts"] and page["latest"] == whole["latest"]
        seen += page["variants"]
        if page["nextCursor"] is None:
            break
        page = (await api.get("/inventory", params={"limit": 3, "cursor": page["nextCursor"]})).json()
        pages += 1
    assert pages == 3
    assert seen == whole["variants"]
    assert [(v["productUuid"], v["variantUuid"]) for v in seen] == keys


async def test_pages_work_with_as_of_and_bad_cursors_are_refused(api: Api) -> None:
    await make_variants(api, 4)
    at = iso(now_ms() + 1)
    first = (await api.get("/inventory", params={"limit": 2, "asOf": at})).json()
    second = (
        await api.get("/inventory", params={"limit": 2, "asOf": at, "cursor": first["nextCursor"]})
    ).json()
    assert len(first["variants"] + second["variants"]) == 4 and second["nextCursor"] is None
    wrong_filters = await api.get("/inventory", params={"limit": 2, "cursor": first["nextCursor"]})
    assert wrong_filters.status_code == 400
    for params in (
        {"limit": 2, "cursor": "garbage"},
        {"limit": "x"},
        {"limit": 0},
        {"cursor": first["nextCursor"]},
    ):
        response = await api.get("/inventory", params=params)
        assert response.status_code == 400, params
        assert response.json()["violations"][0]["propertyName"] in {"cursor", "limit"}


async def test_streamed_list_is_byte_identical_to_the_whole_list_in_one_piece(api: Api, db: Database) -> None:
    await make_variants(api, 2500)  # more than one streaming chunk
    response = await api.get("/inventory")
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-length"] == str(len(response.content))  # read whole, then sent
    actor = Actor(api.org, api.sub)
    prepared = await fetch.prepare(db, actor, LocationRef(), since=None, as_of_ms=None)
    inventory, next_cursor = await fetch.page(db, prepared, limit=fetch.MAX_PAGE_LIMIT, cursor=None)
    assert next_cursor is None
    assert response.content == orjson.dumps(serialize.location_inventory(inventory))
    assert len(response.json()["variants"]) == 2500


async def test_streamed_empty_list_is_valid_json(api: Api) -> None:
    response = await api.get("/inventory")
    assert response.json()["variants"] == []
    assert response.content.startswith(b'{"locationUuid":"')


async def test_as_of_combines_with_since(api: Api) -> None:
    locs = await api.locations()
    product, v1, v2 = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    await api.move(product, v1, locs["SUPPLIER"], locs["STORE"], 1)
    latest = (await api.get("/inventory")).json()["latest"]
    await api.move(product, v2, locs["SUPPLIER"], locs["STORE"], 2)
    at = iso(now_ms() + 1)
    changed = (await api.get("/inventory", params={"asOf": at, "since": str(latest)})).json()
    assert [v["variantUuid"] for v in changed["variants"]] == [v2]


async def test_openapi_documents_the_extension_parameters_and_routes(api: Api) -> None:
    schema = (await api.client.get("/openapi.json")).json()
    parameters = {p["name"] for p in schema["paths"]["/inventory"]["get"]["parameters"]}
    assert {"since", "asOf", "limit", "cursor"} <= parameters
    for path in (
        "/organizations/{org}/inventory/movements",
        "/organizations/{org}/inventory/counts",
        "/organizations/{org}/locations/{locationUuid}",
        "/organizations/{org}/settings",
    ):
        assert path in schema["paths"], path
