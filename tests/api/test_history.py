"""Movement history (spec §8): filters, newest first, stable keyset paging, clear 400s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Api, new_uuid

PATH = "/organizations/self/inventory/movements"
FIELDS = {
    "uuid",
    "sequence",
    "productUuid",
    "variantUuid",
    "fromLocationUuid",
    "toLocationUuid",
    "change",
    "externalUuid",
    "source",
    "actor",
    "actorName",
    "created",
}


async def history(api: Api, **params: Any) -> dict[str, Any]:
    response = await api.get(PATH, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_history_lists_movements_newest_first_with_every_field(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    external = new_uuid()
    assert (
        await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], "10", externalUuid=external)
    ).is_success
    assert (await api.move(product, variant, locs["STORE"], locs["SOLD"], "2.5")).is_success
    body = await history(api)
    assert body["nextCursor"] is None
    sale, restock = body["movements"]
    assert set(sale) == FIELDS
    assert sale["sequence"] > restock["sequence"]
    assert sale["change"] == "2.5" and restock["change"] == "10"
    assert restock["externalUuid"] == external and sale["externalUuid"] is None
    assert restock["fromLocationUuid"] == locs["SUPPLIER"] and restock["toLocationUuid"] == locs["STORE"]
    assert sale["source"] == "API" and sale["actor"] == api.sub
    assert sale["actorName"] is None  # a token's subject has no name; a back-office person has one
    created = datetime.fromisoformat(sale["created"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=5)


async def test_history_filters_by_product_variant_location_external_and_time(api: Api) -> None:
    locs = await api.locations()
    p1, v1, p2, v2 = new_uuid(), new_uuid(), new_uuid(), new_uuid()
    await api.track(p1)
    await api.track(p2)
    ext = new_uuid()
    await api.move(p1, v1, locs["SUPPLIER"], locs["STORE"], 5, externalUuid=ext)
    await api.move(p2, v2, locs["SUPPLIER"], locs["STORE"], 6)
    await api.move(p2, v2, locs["STORE"], locs["BIN"], 1)

    assert [m["change"] for m in (await history(api, productUuid=p1))["movements"]] == ["5"]
    assert [m["change"] for m in (await history(api, variantUuid=v2.upper()))["movements"]] == ["1", "6"]
    assert [m["change"] for m in (await history(api, locationUuid=locs["BIN"]))["movements"]] == ["1"]
    assert len((await history(api, locationUuid=locs["STORE"]))["movements"]) == 3  # from or to
    assert [m["change"] for m in (await history(api, externalUuid=ext))["movements"]] == ["5"]
    everything = (await history(api))["movements"]
    newest = everything[0]["created"]
    assert len((await history(api, to=newest))["movements"]) == 3
    assert (await history(api, **{"from": "2100-01-01T00:00:00Z"}))["movements"] == []
    assert (await history(api, to="2000-01-01T00:00:00+00:00"))["movements"] == []


async def test_history_pages_are_stable_while_new_movements_arrive(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    for i in range(1, 8):
        await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], i)
    seen: list[int] = []
    page = await history(api, limit=3)
    seen += [m["sequence"] for m in page["movements"]]
    while page["nextCursor"] is not None:
        await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 100)  # arrives between pages
        page = await history(api, limit=3, cursor=page["nextCursor"])
        seen += [m["sequence"] for m in page["movements"]]
    assert len(seen) == 7 and len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)
    assert [m["change"] for m in (await history(api, limit=1000))["movements"]].count("100") == 2


async def test_history_rejects_bad_parameters_naming_them(api: Api) -> None:
    cases = {
        "productUuid": {"productUuid": "nope"},
        "locationUuid": {"locationUuid": "1234"},
        "from": {"from": "yesterday"},
        "to": {"to": "2026-01-01T00:00:00"},
        "limit": {"limit": "0"},
        "cursor": {"cursor": "!!!"},
    }
    for name, params in cases.items():
        response = await api.get(PATH, params=params)
        assert response.status_code == 400, (name, response.text)
        assert response.json()["violations"][0]["propertyName"] == name
    response = await api.get(PATH, params={"limit": "1001"})
    assert response.status_code == 400


async def test_history_cursor_is_refused_under_other_filters(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    for _ in range(3):
        await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 1)
    cursor = (await history(api, limit=1))["nextCursor"]
    assert cursor is not None
    response = await api.get(PATH, params={"limit": 1, "cursor": cursor, "productUuid": new_uuid()})
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyName"] == "cursor"


async def test_history_is_private_to_the_organization(api: Api, other_api: Api) -> None:
    locs = await api.locations()
    product = new_uuid()
    await api.track(product)
    await api.move(product, new_uuid(), locs["SUPPLIER"], locs["STORE"], 1)
    assert (await history(other_api))["movements"] == []
    response = await other_api.get(f"/organizations/{api.org}/inventory/movements")
    assert response.status_code == 403
