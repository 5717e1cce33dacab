"""The old Inventory API's `GET /organizations/{org}/history/locations/{locationUuid}`, from the ledger."""

from __future__ import annotations

from typing import Any

from tests.api.test_history import FIELDS
from tests.conftest import Api, new_uuid


def history_path(location: str, org: str = "self") -> str:
    return f"/organizations/{org}/history/locations/{location}"


async def test_a_location_history_is_every_movement_into_and_out_of_it_newest_first(api: Api) -> None:
    locs = await api.locations()
    product, variant, elsewhere = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    assert (await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 10)).is_success
    assert (await api.move(product, variant, locs["STORE"], locs["SOLD"], "2.5")).is_success
    # Neither into nor out of the store: not in its history.
    assert (await api.move(product, elsewhere, locs["SUPPLIER"], locs["BIN"], 1)).is_success

    response = await api.get(history_path(locs["STORE"]))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["nextCursor"] is None
    sale, restock = body["movements"]
    assert set(sale) == FIELDS
    assert sale["sequence"] > restock["sequence"]
    assert (sale["fromLocationUuid"], sale["toLocationUuid"], sale["change"]) == (
        locs["STORE"],
        locs["SOLD"],
        "2.5",
    )
    assert (restock["fromLocationUuid"], restock["toLocationUuid"], restock["change"]) == (
        locs["SUPPLIER"],
        locs["STORE"],
        "10",
    )
    # The same answer as the movements extension filtered by that location.
    extension = await api.get(
        "/organizations/self/inventory/movements", params={"locationUuid": locs["STORE"]}
    )
    assert extension.json() == body


async def test_the_old_clients_path_forms_and_query_are_served(api: Api) -> None:
    """An old client sends the organization's UUID or `self`, maybe a trailing slash, and
    `balanceChangeType=RESTOCK` (ignored: every movement is returned)."""
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 3)
    answers = [
        await api.get(history_path(locs["STORE"]) + "/", params={"balanceChangeType": "RESTOCK"}),
        await api.get(history_path(locs["STORE"].upper(), api.org)),
    ]
    for response in answers:
        assert response.status_code == 200, response.text
        assert [m["change"] for m in response.json()["movements"]] == ["3"]


async def test_a_location_history_pages_with_limit_and_cursor(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    for quantity in (1, 2, 3):
        await api.move(product, variant, locs["SUPPLIER"], locs["STORE"], quantity)
    first = (await api.get(history_path(locs["STORE"]), params={"limit": 2})).json()
    assert [m["change"] for m in first["movements"]] == ["3", "2"]
    rest = (
        await api.get(history_path(locs["STORE"]), params={"limit": 2, "cursor": first["nextCursor"]})
    ).json()
    assert [m["change"] for m in rest["movements"]] == ["1"] and rest["nextCursor"] is None


async def test_an_unknown_or_foreign_location_is_not_found(api: Api, other_api: Api) -> None:
    foreign = (await other_api.locations())["STORE"]
    for location in (new_uuid(), foreign):
        response = await api.get(history_path(location))
        assert response.status_code == 404, response.text
        assert response.json()["errorType"] == "ENTITY_NOT_FOUND"


async def test_bad_parameters_are_named(api: Api) -> None:
    store = (await api.locations())["STORE"]
    response = await api.get(history_path("not-a-uuid"))
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyName"] == "locationUuid"
    response = await api.get(history_path(store), params={"limit": 0})
    assert response.status_code == 400
    assert response.json()["violations"][0]["propertyName"] == "limit"


async def test_a_location_history_needs_the_read_scope(api: Api, other_api: Api) -> None:
    store = (await api.locations())["STORE"]
    assert (await api.get(history_path(store, other_api.org))).status_code == 403
    api.scopes = "WRITE:PRODUCT"
    assert (await api.get(history_path(store))).status_code == 403
