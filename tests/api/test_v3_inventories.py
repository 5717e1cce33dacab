"""Inventory API v3 inventories (v3 contract §4): the old API's locations under v3 names."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from stockledger.store.db import Database
from tests.conftest import Api, new_uuid
from tests.ledger import location_rows

SYSTEM = "System generated location"
INVENTORIES = "/v3/inventories"


async def inventories(api: Api, path: str = INVENTORIES) -> list[dict[str, Any]]:
    response = await api.get(path)
    assert response.status_code == 200, response.text
    assert "link" not in response.headers
    body: list[dict[str, Any]] = response.json()
    return body


async def create(api: Api, **body: Any) -> dict[str, Any]:
    response = await api.post(INVENTORIES, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def violation_names(response: Any) -> list[str]:
    return [v["propertyName"] for v in response.json().get("violations", [])]


async def test_system_inventories_are_named_after_their_type_with_the_old_locations_uuids(api: Api) -> None:
    listed = await inventories(api)
    old = (await api.get("/organizations/self/locations")).json()
    assert [inv["inventoryType"] for inv in listed] == ["STORE", "SOLD", "BIN", "SUPPLIER"]
    for inv in listed:
        assert set(inv) == {"inventoryUuid", "inventoryType", "name", "description", "defaultInventory"}
        assert inv["name"] == inv["inventoryType"]
        assert inv["description"] == SYSTEM
        assert inv["defaultInventory"] is (inv["inventoryType"] == "STORE")
    as_old = [
        {
            "uuid": i["inventoryUuid"],
            "type": i["inventoryType"],
            "name": i["name"],
            "description": i["description"],
            "default": i["defaultInventory"],
        }
        for i in listed
    ]
    assert sorted(as_old, key=lambda loc: loc["uuid"]) == sorted(old, key=lambda loc: loc["uuid"])


async def test_trailing_slash_and_a_get_with_a_json_content_type_answer_the_same(api: Api) -> None:
    plain = await inventories(api)
    assert await inventories(api, INVENTORIES + "/") == plain
    response = await api.client.get(
        INVENTORIES, headers={"Authorization": f"Bearer {api.token()}", "Content-Type": "application/json"}
    )
    assert response.status_code == 200 and response.json() == plain


async def test_create_answers_201_with_the_location_of_a_store_the_old_api_lists(api: Api) -> None:
    response = await api.post(INVENTORIES + "/", json={"name": "Shop 2", "description": "Upstairs"})
    assert response.status_code == 201, response.text
    created = response.json()
    assert uuid.UUID(created["inventoryUuid"]).version == 1
    assert created == {
        "inventoryUuid": created["inventoryUuid"],
        "inventoryType": "STORE",
        "name": "Shop 2",
        "description": "Upstairs",
        "defaultInventory": False,
    }
    assert (
        response.headers["location"] == f"http://stockledger.test/v3/inventories/{created['inventoryUuid']}"
    )
    assert "link" not in response.headers
    assert (await api.get(response.headers["location"])).json() == created
    old = (await api.get("/organizations/self/locations")).json()
    assert {
        "uuid": created["inventoryUuid"],
        "type": "STORE",
        "name": "Shop 2",
        "description": "Upstairs",
        "default": False,
    } in old


async def test_the_default_store_comes_after_every_other_store(api: Api) -> None:
    locs = await api.locations()
    second = await create(api, name="Second")
    third = await create(api, name="Third")
    listed = await inventories(api)
    assert [i["inventoryUuid"] for i in listed[:3]] == [
        second["inventoryUuid"],
        third["inventoryUuid"],
        locs["STORE"],
    ]
    assert [i["inventoryType"] for i in listed] == ["STORE", "STORE", "STORE", "SOLD", "BIN", "SUPPLIER"]
    assert [i["defaultInventory"] for i in listed] == [False, False, True, False, False, False]
    # Made the default through the old API, a store moves to the end of the stores.
    response = await api.put(
        f"/organizations/self/locations/{second['inventoryUuid']}", json={"default": True}
    )
    assert response.status_code == 200, response.text
    listed = await inventories(api)
    assert [i["inventoryUuid"] for i in listed[:3]] == [
        locs["STORE"],
        third["inventoryUuid"],
        second["inventoryUuid"],
    ]
    assert listed[2]["defaultInventory"] is True


async def test_a_store_without_description_has_an_empty_string_in_v3_and_null_in_the_old_api(
    api: Api,
) -> None:
    created = await create(api, name="Bare")
    assert created["description"] == ""
    assert (await api.get(f"{INVENTORIES}/{created['inventoryUuid']}")).json()["description"] == ""
    old = (await api.get("/organizations/self/locations")).json()
    assert [loc["description"] for loc in old if loc["uuid"] == created["inventoryUuid"]] == [None]
    via_old = (await api.post("/organizations/self/locations", json={"name": "Old one"})).json()
    v3 = {i["inventoryUuid"]: i for i in await inventories(api)}
    assert v3[via_old["uuid"]]["description"] == "" and v3[via_old["uuid"]]["name"] == "Old one"


@pytest.mark.parametrize("name", ["STORE", "store", " Sold ", "BIN", "Supplier"])
async def test_create_refuses_a_name_equal_to_a_type_and_writes_nothing(
    api: Api, db: Database, name: str
) -> None:
    await api.locations()
    before = await location_rows(db, api.org)
    response = await api.post(INVENTORIES, json={"name": name})
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] == "VALIDATION_ERROR"
    assert violation_names(response) == ["name"]
    assert await location_rows(db, api.org) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 256},
        {"name": None},
        {"name": 5},
        {"name": "ok", "description": 1},
    ],
)
async def test_create_refuses_a_missing_blank_or_too_long_name(api: Api, db: Database, body: Any) -> None:
    await api.locations()
    before = await location_rows(db, api.org)
    response = await api.post(INVENTORIES, json=body)
    assert response.status_code == 400, response.text
    assert violation_names(response) in (["name"], ["description"])
    assert await location_rows(db, api.org) == before


async def test_create_refuses_a_body_that_is_not_an_object(api: Api, db: Database) -> None:
    await api.locations()
    before = await location_rows(db, api.org)
    for body in ([{"name": "x"}], "x"):
        assert (await api.post(INVENTORIES, json=body)).status_code == 400
    assert await location_rows(db, api.org) == before


async def test_the_old_store_extension_refuses_type_names_too(api: Api, db: Database) -> None:
    locs = await api.locations()
    before = await location_rows(db, api.org)
    for name in ("STORE", "bin"):
        response = await api.post("/organizations/self/locations", json={"name": name})
        assert response.status_code == 400, response.text
        assert violation_names(response) == ["name"]
    assert await location_rows(db, api.org) == before
    store = (await api.post("/organizations/self/locations", json={"name": "Shop"})).json()
    response = await api.put(f"/organizations/self/locations/{store['uuid']}", json={"name": "supplier"})
    assert response.status_code == 400 and violation_names(response) == ["name"]
    assert {i["name"] for i in await inventories(api)} == {"STORE", "SOLD", "BIN", "SUPPLIER", "Shop"}
    # The system STORE keeps its own name when it is sent back unchanged.
    response = await api.put(f"/organizations/self/locations/{locs['STORE']}", json={"name": "STORE"})
    assert response.status_code == 200, response.text


async def test_get_one_inventory_by_uuid(api: Api) -> None:
    listed = await inventories(api)
    for inv in listed:
        for path in (
            f"{INVENTORIES}/{inv['inventoryUuid']}",
            f"{INVENTORIES}/{inv['inventoryUuid'].upper()}/",
        ):
            response = await api.get(path)
            assert response.status_code == 200, response.text
            assert response.json() == inv
            assert "link" not in response.headers


async def test_unknown_or_another_organizations_inventory_is_not_found(api: Api, other_api: Api) -> None:
    theirs = (await other_api.locations())["STORE"]
    for wanted in (new_uuid(), theirs):
        response = await api.get(f"{INVENTORIES}/{wanted}")
        assert response.status_code == 404, response.text
        assert response.json()["errorType"] == "ENTITY_NOT_FOUND"


async def test_a_malformed_inventory_uuid_is_a_validation_error(api: Api) -> None:
    response = await api.get(f"{INVENTORIES}/not-a-uuid")
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] == "VALIDATION_ERROR"
    assert violation_names(response) == ["inventoryUuid"]


async def test_scopes_and_tokens(api: Api, db: Database) -> None:
    await api.locations()
    before = await location_rows(db, api.org)
    reader = Api(api.client, api.org, scopes="READ:PRODUCT")
    assert (await reader.get(INVENTORIES)).status_code == 200
    response = await reader.post(INVENTORIES, json={"name": "Shop"})
    assert response.status_code == 403 and response.json()["errorType"] == "FORBIDDEN"
    writer_only = Api(api.client, api.org, scopes="WRITE:PRODUCT")
    assert (await writer_only.get(INVENTORIES)).status_code == 403
    locs = await api.locations()
    for method, path in (
        ("GET", INVENTORIES),
        ("GET", f"{INVENTORIES}/{locs['STORE']}"),
        ("POST", INVENTORIES),
    ):
        response = await api.client.request(method, path, json={"name": "Shop"})
        assert response.status_code == 401, (method, path)
        assert response.json()["errorType"] == "UNAUTHENTICATED"
    assert await location_rows(db, api.org) == before


async def test_create_with_an_idempotency_key_creates_one_store(api: Api, db: Database) -> None:
    await api.locations()
    before = await location_rows(db, api.org)
    headers = {"Idempotency-Key": new_uuid()}
    first = await api.post(INVENTORIES, json={"name": "Once"}, headers=headers)
    again = await api.post(INVENTORIES, json={"name": "Once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await location_rows(db, api.org) == before + 1
