"""Inventory API v3 tracking (v3 contract §8): enable/disable in batches, status, tracked list."""

from __future__ import annotations

import re
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from stockledger.store.db import Database
from stockledger.store.tables import outbox
from tests.api.test_route_security import org_checksum
from tests.conftest import Api, new_uuid
from tests.ledger import outbox_events

PRODUCTS = "/v3/products"
STATUS = "/v3/products/status"
STARTED, STOPPED = "InventoryTrackingStarted", "InventoryTrackingStopped"


async def set_tracking(api: Api, *entries: tuple[str, str], path: str = PRODUCTS) -> None:
    body = [{"productUuid": p, "tracking": t} for p, t in entries]
    response = await api.post(path, json=body)
    assert response.status_code == 204, response.text
    assert response.content == b""
    assert "link" not in response.headers


async def status(api: Api, products: list[str], path: str = STATUS) -> list[dict[str, Any]]:
    response = await api.post(path, json=products)
    assert response.status_code == 200, response.text
    assert "link" not in response.headers
    rows: list[dict[str, Any]] = response.json()
    return rows


async def old_tracked(api: Api) -> list[str]:
    tracked: list[str] = (await api.get("/inventory")).json()["trackedProducts"]
    return tracked


async def test_enable_answers_204_is_idempotent_and_emits_one_event(api: Api, db: Database) -> None:
    product = new_uuid()
    await set_tracking(api, (product, "enable"))
    await set_tracking(api, (product, "enable"))
    await set_tracking(api, (product, "enable"), path=PRODUCTS + "/")
    assert await status(api, [product]) == [{"productUuid": product, "enabled": True}]
    assert await old_tracked(api) == [product]
    assert await outbox_events(db, api.org) == [STARTED]


async def test_disable_answers_204_is_idempotent_and_emits_one_event(api: Api, db: Database) -> None:
    product, never = new_uuid(), new_uuid()
    await set_tracking(api, (product, "enable"))
    await set_tracking(api, (product, "disable"), (never, "disable"))
    await set_tracking(api, (product, "disable"))
    assert await status(api, [product, never]) == [
        {"productUuid": product, "enabled": False},
        {"productUuid": never, "enabled": False},
    ]
    assert await old_tracked(api) == []
    assert await outbox_events(db, api.org) == [STARTED, STOPPED]


async def test_a_batch_changes_each_product_once_with_one_event_each(api: Api, db: Database) -> None:
    a, b, c = new_uuid(), new_uuid(), new_uuid()
    await api.track(c)
    await set_tracking(api, (a, "enable"), (b, "enable"), (c, "disable"))
    assert sorted(await old_tracked(api)) == sorted([a, b])
    assert sorted(await outbox_events(db, api.org)) == sorted([STARTED, STARTED, STARTED, STOPPED])


async def test_a_product_named_twice_ends_in_its_last_state(api: Api, db: Database) -> None:
    untracked, tracked = new_uuid(), new_uuid()
    await api.track(tracked)
    events = await outbox_events(db, api.org)
    # Each ends where it started: no change, no event.
    await set_tracking(
        api, (untracked, "enable"), (tracked, "disable"), (untracked, "disable"), (tracked, "enable")
    )
    assert await old_tracked(api) == [tracked]
    assert await outbox_events(db, api.org) == events
    await set_tracking(api, (untracked, "disable"), (untracked, "enable"))
    assert sorted(await old_tracked(api)) == sorted([tracked, untracked])
    assert await outbox_events(db, api.org) == [*events, STARTED]


async def test_the_tracking_events_name_the_product(api: Api, db: Database) -> None:
    product = new_uuid()
    await set_tracking(api, (product, "enable"))
    await set_tracking(api, (product, "disable"))
    rows = await db.read(lambda conn: _payloads(conn, api.org))
    assert [(name, payload["productUuid"]) for name, payload in rows] == [
        (STARTED, product),
        (STOPPED, product),
    ]
    assert "created" in rows[0][1] and "changeInformation" in rows[1][1]


async def _payloads(conn: Any, org: str) -> list[tuple[str, dict[str, Any]]]:
    stmt = select(outbox.c.event_name, outbox.c.payload).where(outbox.c.org_uuid == org).order_by(outbox.c.id)
    return [(str(n), orjson.loads(p)) for n, p in (await conn.execute(stmt)).all()]


@pytest.mark.parametrize(
    ("body", "property_name"),
    [
        (
            [{"productUuid": "P", "tracking": "enable"}, {"productUuid": "nope", "tracking": "enable"}],
            "[1].productUuid",
        ),
        (
            [{"productUuid": "P", "tracking": "enable"}, {"productUuid": "Q", "tracking": "on"}],
            "[1].tracking",
        ),
        (
            [{"productUuid": "P", "tracking": "enable"}, {"productUuid": "Q", "tracking": "ENABLED"}],
            "[1].tracking",
        ),
        ([{"productUuid": "P", "tracking": "enable"}, {"productUuid": "Q"}], "[1].tracking"),
        ([{"productUuid": "P", "tracking": "enable"}, {"tracking": "enable"}], "[1].productUuid"),
        ([{"productUuid": "P", "tracking": "enable"}, "Q"], "[1]"),
        ({"productUuid": "P", "tracking": "enable"}, ""),
    ],
)
async def test_an_invalid_entry_is_400_and_nothing_changes(
    api: Api, db: Database, body: Any, property_name: str
) -> None:
    product, other = new_uuid(), new_uuid()

    def fill(value: Any) -> Any:
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return {"P": product, "Q": other}.get(value, value)

    await api.locations()
    before = await org_checksum(db, api.org)
    response = await api.post(PRODUCTS, json=fill(body))
    assert response.status_code == 400, response.text
    assert response.json()["errorType"] == "VALIDATION_ERROR"
    assert response.json()["violations"][0]["propertyName"] == property_name
    if property_name == "":
        assert response.json()["developerMessage"] == "must be a JSON array"
    assert await org_checksum(db, api.org) == before


async def test_more_entries_than_a_request_may_hold_is_400(api: Api, db: Database) -> None:
    await api.locations()
    before = await org_checksum(db, api.org)
    body = [{"productUuid": new_uuid(), "tracking": "enable"} for _ in range(1001)]
    response = await api.post(PRODUCTS, json=body)
    assert response.status_code == 400, response.text
    assert "at most 1000" in response.json()["developerMessage"]
    assert (await api.post(STATUS, json=[new_uuid() for _ in range(1001)])).status_code == 400
    assert await org_checksum(db, api.org) == before
    # 1,000 entries are accepted. (Disabling untracked products: a thousand events in the shared
    # test database would crowd other tests' events out of one dispatcher batch.)
    await set_tracking(api, *[(new_uuid(), "disable") for _ in range(1000)])
    assert await org_checksum(db, api.org) == before


async def test_an_empty_list_changes_nothing(api: Api, db: Database) -> None:
    await api.locations()
    before = await org_checksum(db, api.org)
    await set_tracking(api)
    assert await status(api, []) == []
    assert await org_checksum(db, api.org) == before


async def test_tracking_written_by_one_api_is_read_by_the_other(api: Api) -> None:
    locs = await api.locations()
    old_way, v3_way = new_uuid(), new_uuid()
    await api.track(old_way)
    await set_tracking(api, (v3_way, "enable"))
    assert await status(api, [v3_way, old_way]) == [
        {"productUuid": v3_way, "enabled": True},
        {"productUuid": old_way, "enabled": True},
    ]
    assert sorted(await old_tracked(api)) == sorted([old_way, v3_way])
    # Enabled through v3, the product takes movements and stops through the old API.
    variant = new_uuid()
    assert (await api.move(v3_way, variant, locs["SUPPLIER"], locs["STORE"], 2)).status_code == 200
    assert (await api.delete(f"/organizations/self/inventory/products/{v3_way}")).status_code == 204
    await set_tracking(api, (old_way, "disable"))
    response = await api.get(f"/organizations/self/inventory/locations/{locs['STORE']}/products/{old_way}")
    assert response.json()["errorType"] == "PRODUCT_NOT_TRACKED"
    assert await status(api, [v3_way, old_way]) == [
        {"productUuid": v3_way, "enabled": False},
        {"productUuid": old_way, "enabled": False},
    ]
    # Enabled again, its balance is back.
    await set_tracking(api, (v3_way, "enable"))
    body = (
        await api.get(f"/organizations/self/inventory/locations/{locs['STORE']}/products/{v3_way}")
    ).json()
    assert [v["balance"] for v in body["variants"]] == ["2"]


async def test_status_answers_one_row_per_requested_uuid_in_request_order(api: Api, other_api: Api) -> None:
    tracked, untracked, unknown, theirs = new_uuid(), new_uuid(), new_uuid(), new_uuid()
    await api.track(tracked)
    await api.track(untracked)
    await api.delete(f"/organizations/self/inventory/products/{untracked}")
    await other_api.track(theirs)
    asked = [unknown, tracked, theirs, untracked, tracked.upper()]
    rows = await status(api, asked, path=STATUS + "/")
    assert rows == [
        {"productUuid": unknown, "enabled": False},
        {"productUuid": tracked, "enabled": True},
        {"productUuid": theirs, "enabled": False},
        {"productUuid": untracked, "enabled": False},
        {"productUuid": tracked, "enabled": True},
    ]
    assert all(type(row["enabled"]) is bool for row in rows)


@pytest.mark.parametrize(
    ("body", "property_name"),
    [([None], "[0]"), (["P", "not-a-uuid"], "[1]"), ({"productUuids": ["P"]}, ""), ("P", "")],
)
async def test_status_refuses_what_is_not_a_list_of_uuids(api: Api, body: Any, property_name: str) -> None:
    product = new_uuid()
    filled = [product if v == "P" else v for v in body] if isinstance(body, list) else body
    response = await api.post(STATUS, json=filled)
    assert response.status_code == 400, response.text
    assert response.json()["violations"][0]["propertyName"] == property_name


async def test_the_tracked_list_pages_by_product_uuid(api: Api, other_api: Api) -> None:
    products = sorted(new_uuid() for _ in range(5))
    await set_tracking(api, *[(p, "enable") for p in products])
    stopped = new_uuid()
    await set_tracking(api, (stopped, "enable"), (stopped, "disable"))
    await other_api.track(new_uuid())
    response = await api.get(PRODUCTS)
    assert response.status_code == 200 and "link" not in response.headers
    everything = response.json()
    assert everything == [{"productUuid": p, "enabled": True} for p in sorted(await old_tracked(api))]
    seen: list[dict[str, Any]] = []
    url = PRODUCTS + "/?limit=2"
    pages = 0
    while True:
        response = await api.get(url)
        assert response.status_code == 200, response.text
        seen.extend(response.json())
        pages += 1
        link = response.headers.get("link")
        if link is None:
            break
        match = re.fullmatch(r'<(http://stockledger\.test/v3/products/?\?[^>]+)>; rel="next"', link)
        assert match, link
        url = match.group(1)
    assert seen == everything and pages == 3


async def test_the_tracked_list_refuses_a_bad_limit_or_cursor(api: Api) -> None:
    for query in ({"limit": "0"}, {"limit": "x"}, {"cursor": "garbage"}):
        response = await api.get(PRODUCTS, params=query)
        assert response.status_code == 400, (query, response.text)
        assert response.json()["violations"][0]["propertyName"] == next(iter(query))


async def test_a_cursor_of_another_list_is_refused(api: Api) -> None:
    await set_tracking(api, *[(new_uuid(), "enable") for _ in range(3)])
    link = (await api.get(PRODUCTS, params={"limit": 1})).headers["link"]
    cursor = re.search(r"cursor=([^&>]+)", link)
    assert cursor is not None
    history = await api.get("/organizations/self/inventory/movements", params={"cursor": cursor.group(1)})
    assert history.status_code == 400


async def test_scopes_and_tokens(api: Api, db: Database) -> None:
    product = new_uuid()
    await api.locations()
    before = await org_checksum(db, api.org)
    reader = Api(api.client, api.org, scopes="READ:PRODUCT")
    response = await reader.post(PRODUCTS, json=[{"productUuid": product, "tracking": "enable"}])
    assert response.status_code == 403 and response.json()["errorType"] == "FORBIDDEN"
    assert (await reader.post(STATUS, json=[product])).status_code == 200
    assert (await reader.get(PRODUCTS)).status_code == 200
    writer_only = Api(api.client, api.org, scopes="WRITE:PRODUCT")
    assert (await writer_only.post(STATUS, json=[product])).status_code == 403
    for method, path, body in (
        ("POST", PRODUCTS, [{"productUuid": product, "tracking": "enable"}]),
        ("POST", STATUS, [product]),
        ("GET", PRODUCTS, None),
    ):
        response = await api.client.request(method, path, json=body)
        assert response.status_code == 401 and response.json()["errorType"] == "UNAUTHENTICATED"
    assert await org_checksum(db, api.org) == before


async def test_enable_with_an_idempotency_key_is_replayed(api: Api, db: Database) -> None:
    product = new_uuid()
    headers = {"Idempotency-Key": new_uuid()}
    body = [{"productUuid": product, "tracking": "enable"}]
    first = await api.post(PRODUCTS, json=body, headers=headers)
    await api.delete(f"/organizations/self/inventory/products/{product}")
    again = await api.post(PRODUCTS, json=body, headers=headers)
    assert first.status_code == again.status_code == 204
    assert again.headers["idempotent-replayed"] == "true"
    assert await old_tracked(api) == []  # the replay did not enable it again
    assert await outbox_events(db, api.org) == [STARTED, STOPPED]
