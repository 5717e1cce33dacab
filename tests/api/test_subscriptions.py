"""The Pusher subscription endpoints (spec §7): create rules, test message, list, update, delete."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import pytest

from stockledger.domain.signing import signature
from tests.conftest import Api, new_uuid
from tests.webhook_receiver import Receiver, running_receiver

BASE = "/organizations/self/subscriptions"
SUBSCRIPTION_KEYS = {
    "uuid",
    "transportName",
    "eventNames",
    "updated",
    "destination",
    "contactEmail",
    "status",
    "signingKey",
}


def body_for(receiver: Receiver, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uuid": new_uuid(),
        "transportName": "WEBHOOK",
        "eventNames": ["InventoryBalanceChanged"],
        "destination": receiver.url,
        "contactEmail": "ops@example.com",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


async def test_create_answers_the_subscription_and_sends_a_test_message(api: Api) -> None:
    async with running_receiver() as receiver:
        body = body_for(receiver)
        response = await api.post(BASE, json=body)
        assert response.status_code == 200, response.text
        sub = response.json()
        assert set(sub) == SUBSCRIPTION_KEYS
        assert sub["uuid"] == body["uuid"]
        assert sub["status"] == "ACTIVE"
        assert sub["eventNames"] == ["InventoryBalanceChanged"]
        assert re.fullmatch(r"[A-Za-z0-9]{64}", sub["signingKey"])
        assert datetime.fromisoformat(sub["updated"].replace("Z", "+00:00")).utcoffset().total_seconds() == 0
        assert len(receiver.received) == 1
        test = receiver.received[0]
        assert test.headers["content-type"] == "application/json"
        message = test.json()
        # The full envelope, in Zettle's order, the payload a JSON string, signed like every message.
        assert list(message) == [
            "organizationUuid",
            "messageUuid",
            "eventName",
            "messageId",
            "payload",
            "timestamp",
        ]
        assert message["eventName"] == "TestMessage"
        assert message["organizationUuid"] == api.org
        assert message["payload"] == '{"data":"payload"}'
        assert uuid.UUID(message["messageUuid"]).version == 1
        assert uuid.UUID(message["messageId"]).version == 5
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", message["timestamp"])
        assert test.headers["x-izettle-signature"] == signature(
            sub["signingKey"], message["timestamp"], message["payload"]
        )


async def test_signing_keys_differ_between_subscriptions(api: Api) -> None:
    async with running_receiver() as receiver:
        first = (await api.post(BASE, json=body_for(receiver))).json()
        second = (await api.post(BASE, json=body_for(receiver))).json()
    assert first["signingKey"] != second["signingKey"]


@pytest.mark.parametrize(
    ("overrides", "status", "error_type", "prop"),
    [
        ({"uuid": None}, 400, "VALIDATION_ERROR", "uuid"),
        ({"uuid": "not-a-uuid"}, 400, "VALIDATION_ERROR", "uuid"),
        ({"transportName": None}, 400, "VALIDATION_ERROR", "transportName"),
        ({"transportName": "EMAIL"}, 400, "VALIDATION_ERROR", "transportName"),
        (
            {"eventNames": ["InventoryBalanceChanged", "NoSuchEvent"]},
            400,
            "VALIDATION_ERROR",
            "eventNames[1]",
        ),
        ({"destination": None}, 422, "VALIDATION_ERROR", "destination"),
        ({"destination": "/relative/hook"}, 422, "VALIDATION_ERROR", "destination"),
        ({"destination": "ftp://example.com/hook"}, 422, "VALIDATION_ERROR", "destination"),
        ({"contactEmail": None}, 422, "VALIDATION_ERROR", "contactEmail"),
        ({"contactEmail": "not an e-mail"}, 422, "VALIDATION_ERROR", "contactEmail"),
        ({"contactEmail": "a" * 501 + "@example.com"}, 422, "VALIDATION_ERROR", "contactEmail"),
    ],
)
async def test_create_rejects_bad_input_and_stores_nothing(
    api: Api, overrides: dict[str, Any], status: int, error_type: str, prop: str
) -> None:
    async with running_receiver() as receiver:
        body = body_for(receiver)
        for key, value in overrides.items():
            if value is None:
                body.pop(key)
            else:
                body[key] = value
        response = await api.post(BASE, json=body)
        assert response.status_code == status, response.text
        assert response.json()["errorType"] == error_type
        assert prop in [v["propertyName"] for v in response.json()["violations"]]
        assert receiver.received == []  # no test message either
    assert (await api.get(BASE)).json() == []


async def test_an_email_of_exactly_512_characters_is_accepted(api: Api) -> None:
    email = "a" * (512 - len("@example.com")) + "@example.com"
    async with running_receiver() as receiver:
        response = await api.post(BASE, json=body_for(receiver, contactEmail=email))
    assert response.status_code == 200, response.text


async def test_a_used_uuid_is_refused_with_subscription_already_exist(api: Api, other_api: Api) -> None:
    async with running_receiver() as receiver:
        body = body_for(receiver)
        assert (await api.post(BASE, json=body)).status_code == 200
        again = await api.post(BASE, json=body_for(receiver, uuid=body["uuid"].upper()))
        assert again.status_code == 400
        assert again.json()["errorType"] == "SUBSCRIPTION_ALREADY_EXIST"
    assert len((await api.get(BASE)).json()) == 1


async def test_another_organizations_uuid_is_neither_revealed_nor_blocked(api: Api, other_api: Api) -> None:
    """UUIDs are unique per organization: another merchant's UUID answers as any new UUID would."""
    async with running_receiver() as receiver:
        body = body_for(receiver)
        mine = await api.post(BASE, json=body)
        assert mine.status_code == 200
        theirs = await other_api.post(BASE, json=body_for(receiver, uuid=body["uuid"]))
        assert theirs.status_code == 200, theirs.text
        assert theirs.json()["uuid"] == body["uuid"]
        assert theirs.json()["signingKey"] != mine.json()["signingKey"]
    assert [s["signingKey"] for s in (await api.get(BASE)).json()] == [mine.json()["signingKey"]]
    assert [s["signingKey"] for s in (await other_api.get(BASE)).json()] == [theirs.json()["signingKey"]]
    assert (await other_api.delete(f"{BASE}/{body['uuid']}")).status_code == 204
    assert [s["uuid"] for s in (await api.get(BASE)).json()] == [body["uuid"]]


async def test_empty_event_names_subscribes_to_every_event(api: Api) -> None:
    async with running_receiver() as receiver:
        response = await api.post(BASE, json=body_for(receiver, eventNames=[]))
    assert response.status_code == 200, response.text
    assert response.json()["eventNames"] == []


async def test_zettle_event_names_this_service_never_emits_are_accepted(api: Api) -> None:
    names = [
        "ProductCreated",
        "ProductUpdated",
        "ProductDeleted",
        "OrganizationUpdated",
        "ApplicationConnectionRemoved",
        "PersonalAssertionDeleted",
    ]
    async with running_receiver() as receiver:
        response = await api.post(BASE, json=body_for(receiver, eventNames=names))
    assert response.status_code == 200, response.text
    assert response.json()["eventNames"] == names


@pytest.mark.parametrize(
    ("scopes", "events", "status"),
    [
        ("READ:PURCHASE", ["InventoryBalanceChanged"], 403),
        ("READ:PRODUCT", ["PurchaseCreated"], 403),
        ("READ:PRODUCT", [], 403),  # every event includes PurchaseCreated
        ("READ:PRODUCT", ["InventoryTrackingStarted", "InventoryLowStock"], 200),
        ("READ:PURCHASE", ["PurchaseCreated"], 200),
        ("WRITE:PRODUCT WRITE:PURCHASE", ["OrganizationUpdated"], 403),
    ],
)
async def test_subscribing_needs_the_scope_of_each_event(
    api: Api, scopes: str, events: list[str], status: int
) -> None:
    api.scopes = scopes
    async with running_receiver() as receiver:
        response = await api.post(BASE, json=body_for(receiver, eventNames=events))
        assert response.status_code == status, response.text
        if status == 403:
            assert response.json()["errorType"] == "FORBIDDEN"
            assert receiver.received == []


async def test_unreachable_destination_is_refused_and_not_created(api: Api) -> None:
    async with running_receiver() as receiver:
        url = receiver.url
    response = await api.post(BASE, json={**body_for(receiver), "destination": url})
    assert response.status_code == 400
    assert response.json()["errorType"] == "DESTINATION_NOT_ACCESSIBLE"
    assert (await api.get(BASE)).json() == []


async def test_timed_out_destination_is_refused_as_not_accessible(
    api: Api, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    monkeypatch.setattr(app.state.webhooks.deliverer, "timeout_s", 0.2)
    hang = asyncio.Event()
    hang.set()
    async with running_receiver(hang=hang) as receiver:
        response = await api.post(BASE, json=body_for(receiver))
    assert response.status_code == 400
    assert response.json()["errorType"] == "DESTINATION_NOT_ACCESSIBLE"
    assert (await api.get(BASE)).json() == []


@pytest.mark.parametrize("code", [302, 404, 500])
async def test_non_2xx_test_message_answer_is_refused(api: Api, code: int) -> None:
    async with running_receiver(status_for=lambda _n: code) as receiver:
        response = await api.post(BASE, json=body_for(receiver))
        assert len(receiver.received) == 1  # a redirect is not followed
    assert response.status_code == 400
    assert response.json()["errorType"] == "DESTINATION_RESPONDED_WITH_ERROR_CODE"
    assert (await api.get(BASE)).json() == []


async def test_list_shows_only_the_callers_organization(api: Api, other_api: Api) -> None:
    async with running_receiver() as receiver:
        mine = (await api.post(BASE, json=body_for(receiver))).json()
        await other_api.post(BASE, json=body_for(receiver))
    listed = (await api.get(BASE)).json()
    assert listed == [mine]
    assert (await api.get(f"/organizations/{api.org}/subscriptions")).json() == [mine]
    assert (await api.get(f"/organizations/{other_api.org}/subscriptions")).status_code == 403


async def test_update_changes_the_given_fields_and_answers_200_empty(api: Api) -> None:
    async with running_receiver() as receiver:
        created = (await api.post(BASE, json=body_for(receiver))).json()
    response = await api.put(
        f"{BASE}/{created['uuid']}",
        json={"eventNames": ["InventoryTrackingStarted"], "contactEmail": "new@example.com"},
    )
    assert response.status_code == 200
    assert response.content == b""
    (after,) = (await api.get(BASE)).json()
    assert after["eventNames"] == ["InventoryTrackingStarted"]
    assert after["contactEmail"] == "new@example.com"
    assert after["destination"] == created["destination"]
    assert after["signingKey"] == created["signingKey"]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"transportName": "SMS"}, 400),
        ({"eventNames": ["Nope"]}, 400),
        ({"destination": "not a url"}, 422),
        ({"contactEmail": "x"}, 422),
        ({"eventNames": ["PurchaseCreated"]}, 403),
    ],
)
async def test_update_applies_the_create_rules(api: Api, body: dict[str, Any], status: int) -> None:
    async with running_receiver() as receiver:
        created = (await api.post(BASE, json=body_for(receiver))).json()
    api.scopes = "READ:PRODUCT WRITE:PRODUCT"
    response = await api.put(f"{BASE}/{created['uuid']}", json=body)
    assert response.status_code == status, response.text
    assert (await api.get(BASE)).json() == [created]


@pytest.mark.parametrize("path", ["{base}/{uuid}", "{base}/uuid/{uuid}"])
async def test_delete_by_either_path_answers_204(api: Api, path: str) -> None:
    async with running_receiver() as receiver:
        created = (await api.post(BASE, json=body_for(receiver))).json()
    response = await api.delete(path.format(base=BASE, uuid=created["uuid"]))
    assert response.status_code == 204
    assert (await api.get(BASE)).json() == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "{base}/{uuid}"),
        ("DELETE", "{base}/{uuid}"),
        ("DELETE", "{base}/uuid/{uuid}"),
        ("GET", "{base}/{uuid}/deliveries"),
        ("POST", "{base}/{uuid}/deliveries/{uuid}/redeliver"),
    ],
)
async def test_unknown_subscription_is_subscription_not_found(api: Api, method: str, path: str) -> None:
    response = await api.request(
        method, path.format(base=BASE, uuid=new_uuid()), json={"contactEmail": "a@example.com"}
    )
    assert response.status_code == 404
    assert response.json()["errorType"] == "SUBSCRIPTION_NOT_FOUND"


async def test_another_organizations_subscription_is_not_found(api: Api, other_api: Api) -> None:
    async with running_receiver() as receiver:
        theirs = (await other_api.post(BASE, json=body_for(receiver))).json()
    assert (await api.delete(f"{BASE}/{theirs['uuid']}")).status_code == 404
    assert (await api.put(f"{BASE}/{theirs['uuid']}", json={"eventNames": []})).status_code == 404
    assert len((await other_api.get(BASE)).json()) == 1


async def test_routes_are_documented_in_openapi(api: Api) -> None:
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    assert {"post", "get"} <= set(paths["/organizations/{org}/subscriptions"])
    assert {"put", "delete"} <= set(paths["/organizations/{org}/subscriptions/{uuid}"])
    assert "delete" in paths["/organizations/{org}/subscriptions/uuid/{uuid}"]
    assert "get" in paths["/organizations/{org}/subscriptions/{uuid}/deliveries"]


async def test_without_private_destinations_plain_http_is_refused(
    api: Api, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.state.webhooks.deliverer, "allow_private", False)
    async with running_receiver() as receiver:
        response = await api.post(BASE, json=body_for(receiver))
        assert receiver.received == []
    assert response.status_code == 422
    assert response.json()["violations"][0]["propertyName"] == "destination"


async def test_without_private_destinations_a_name_resolving_to_loopback_is_not_accessible(
    api: Api, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def loopback(_host: str, _port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(app.state.webhooks.deliverer, "resolve", loopback)
    monkeypatch.setattr(app.state.webhooks.deliverer, "allow_private", False)
    response = await api.post(
        BASE,
        json={
            "uuid": new_uuid(),
            "transportName": "WEBHOOK",
            "eventNames": [],
            "destination": "https://hooks.example.com/in",
            "contactEmail": "ops@example.com",
        },
    )
    assert response.status_code == 400
    assert response.json()["errorType"] == "DESTINATION_NOT_ACCESSIBLE"
    assert "not a public address" in response.json()["developerMessage"]
    assert (await api.get(BASE)).json() == []
