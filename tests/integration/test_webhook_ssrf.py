"""SSRF: private, loopback and metadata destinations are refused at subscription creation and again
at every delivery (literal addresses, names resolving to them, redirects to them), unless private
destinations are allowed. No traffic leaves the machine: resolution is faked, HTTP is a mock."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from stockledger.events import destinations
from stockledger.events.delivery import Deliverer, Message
from stockledger.events.dispatcher import Dispatcher
from tests.conftest import Api, new_uuid
from tests.integration.webhooks_support import BASE, Hooks

PRIVATE = [
    "127.0.0.1",
    "127.9.9.9",
    "::1",
    "169.254.169.254",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.254",
    "192.168.1.1",
    "0.0.0.0",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "fd00::1",
]
PUBLIC = "93.184.216.34"
MESSAGE = Message("org", "m-uuid", "m-id", "InventoryTrackingStarted", '{"a":1}', "2026-11-26T13:18:11.999Z")


def literal_url(address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"https://{host}/hook"


class Capture:
    """A mock transport: records every request that would have left, answers `status`."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status, self.headers = status, headers or {}

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return httpx.Response(self.status, headers=self.headers)

        return httpx.MockTransport(handle)


def resolving_to(answers: dict[str, list[str]]) -> destinations.Resolver:
    async def resolve(host: str, _port: int) -> list[str]:
        return answers[host]

    return resolve


def assert_reveals_no_address(text: str, address: str) -> None:
    """A refusal says only that the destination is not public: never the address a name resolved to
    (an internal address is information about the server's network)."""
    import ipaddress

    forms = {address, str(ipaddress.ip_address(address)), str(ipaddress.ip_address(address).exploded)}
    assert not any(form in text for form in forms), text


def subscription_body(destination: str) -> dict[str, Any]:
    return {
        "uuid": new_uuid(),
        "transportName": "WEBHOOK",
        "eventNames": ["InventoryTrackingStarted"],
        "destination": destination,
        "contactEmail": "ops@example.com",
    }


@pytest.fixture
def strict(app: Any, monkeypatch: pytest.MonkeyPatch) -> Capture:
    """The app's deliverer without private destinations, on a mock transport, resolving names with
    `resolve_names`."""
    capture = Capture()
    deliverer = Deliverer(allow_private=False, transport=capture.transport(), resolve=resolving_to(NAMES))
    monkeypatch.setattr(app.state.webhooks, "deliverer", deliverer)
    NAMES.clear()
    return capture


NAMES: dict[str, list[str]] = {}  # what the names resolve to for the `strict` deliverer


def resolve_names(answers: dict[str, list[str]]) -> dict[str, list[str]]:
    """Let the names of `answers` resolve to their addresses (for the `strict` deliverer); the returned
    mapping can be changed later (DNS changing its answer)."""
    NAMES.clear()
    NAMES.update(answers)
    return NAMES


@pytest.mark.parametrize("address", PRIVATE)
async def test_creating_a_subscription_to_a_private_address_is_refused(
    api: Api, strict: Capture, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_names({"inside.example.com": [address]})
    for url in (literal_url(address), "https://inside.example.com/hook"):
        response = await api.post(BASE, json=subscription_body(url))
        assert response.status_code == 400, (url, response.text)
        assert response.json()["errorType"] == "DESTINATION_NOT_ACCESSIBLE"
        assert "not a public address" in response.json()["developerMessage"]
        assert_reveals_no_address(response.text, address)
    assert strict.requests == [], "no test message was sent"
    assert (await api.get(BASE)).json() == []


async def test_a_public_name_is_accepted_when_creating_and_its_test_message_sent(
    api: Api, strict: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_names({"hooks.example.com": [PUBLIC]})
    response = await api.post(BASE, json=subscription_body("https://hooks.example.com/hook"))
    assert response.status_code == 200, response.text
    (request,) = strict.requests
    assert request.url.host == PUBLIC


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_test_message_answered_with_a_redirect_to_a_private_address_is_refused(
    api: Api, app: Any, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    capture = Capture(status, {"Location": "http://169.254.169.254/latest/meta-data/"})
    resolve = resolving_to({"hooks.example.com": [PUBLIC]})
    deliverer = Deliverer(allow_private=False, transport=capture.transport(), resolve=resolve)
    monkeypatch.setattr(app.state.webhooks, "deliverer", deliverer)
    response = await api.post(BASE, json=subscription_body("https://hooks.example.com/hook"))
    assert response.status_code == 400
    assert response.json()["errorType"] == "DESTINATION_RESPONDED_WITH_ERROR_CODE"
    assert [r.url.host for r in capture.requests] == [PUBLIC], "the redirect was not followed"


@pytest.mark.parametrize("address", PRIVATE)
async def test_delivery_refuses_private_addresses_literal_or_resolved(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve = resolving_to({"inside.example.com": [address]})
    capture = Capture()
    deliverer = Deliverer(allow_private=False, transport=capture.transport(), resolve=resolve)
    for url in (literal_url(address), "https://inside.example.com/hook"):
        outcome = await deliverer.deliver(url, MESSAGE, "key")
        assert not outcome.ok and outcome.status is None
        assert outcome.label.startswith("blocked:"), outcome.label
    await deliverer.aclose()
    assert capture.requests == []


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "::ffff:127.0.0.1"])
async def test_private_addresses_are_delivered_to_when_allowed(address: str) -> None:
    capture = Capture()
    deliverer = Deliverer(allow_private=True, transport=capture.transport())
    outcome = await deliverer.deliver(literal_url(address).replace("https", "http"), MESSAGE, "key")
    await deliverer.aclose()
    assert outcome.ok
    assert len(capture.requests) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("location", ["http://127.0.0.1/x", "http://[::1]/x", "http://169.254.169.254/x"])
async def test_delivery_never_follows_a_redirect(
    status: int, location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve = resolving_to({"hooks.example.com": [PUBLIC]})
    capture = Capture(status, {"Location": location})
    deliverer = Deliverer(allow_private=False, transport=capture.transport(), resolve=resolve)
    outcome = await deliverer.deliver("https://hooks.example.com/hook", MESSAGE, "key")
    await deliverer.aclose()
    assert not outcome.ok and outcome.status == status
    assert [r.url.host for r in capture.requests] == [PUBLIC]


async def test_a_subscription_whose_name_turns_private_is_not_delivered_and_stays_pending(
    api: Api, hooks: Hooks, strict: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = resolve_names({"hooks.example.com": [PUBLIC]})
    created = await api.post(BASE, json=subscription_body("https://hooks.example.com/hook"))
    assert created.status_code == 200, created.text
    hooks.created.append(created.json()["uuid"])
    answers["hooks.example.com"] = ["169.254.169.254"]  # DNS now points at the metadata service
    await api.track(new_uuid())
    capture = Capture()
    deliverer = Deliverer(allow_private=False, transport=capture.transport(), resolve=resolving_to(answers))
    dispatcher = Dispatcher(hooks.db, deliverer, clock=hooks.clock)
    await dispatcher.drain()
    await dispatcher.stop(grace_s=0)
    assert capture.requests == []
    (entry,) = await hooks.log(api, created.json()["uuid"])
    assert entry["state"] == "PENDING" and entry["attempts"] == 1
    assert entry["lastStatus"].startswith("blocked:") and "not a public address" in entry["lastStatus"]
    assert_reveals_no_address(entry["lastStatus"], "169.254.169.254")


@pytest.mark.parametrize("address", ["127.0.0.1", "169.254.169.254", "::ffff:10.0.0.1"])
async def test_moving_a_subscription_to_a_private_address_is_refused(
    api: Api, strict: Capture, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolve_names({"hooks.example.com": [PUBLIC], "inside.example.com": [address]})
    created = await api.post(BASE, json=subscription_body("https://hooks.example.com/hook"))
    assert created.status_code == 200, created.text
    sub = created.json()["uuid"]
    for url in (literal_url(address), "https://inside.example.com/hook"):
        response = await api.put(f"{BASE}/{sub}", json={"destination": url})
        assert response.status_code == 400, (url, response.text)
        assert "not a public address" in response.json()["developerMessage"]
        assert_reveals_no_address(response.text, address)
    (listed,) = (await api.get(BASE)).json()
    assert listed["destination"] == "https://hooks.example.com/hook"
    assert len(strict.requests) == 1  # only the creation's test message
    assert (await api.delete(f"{BASE}/{sub}")).status_code == 204
