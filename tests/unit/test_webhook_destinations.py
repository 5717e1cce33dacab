"""Destination rules: https and public addresses only, checked on the resolved address at send time."""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest

from stockledger.events import destinations
from stockledger.events.delivery import Deliverer, Message

MESSAGE = Message(
    "org", "msg-uuid", "msg-id", "InventoryTrackingStarted", '{"a":1}', "2026-11-26T13:18:11.999Z"
)
PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "100.64.0.1",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::7f00:1",
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not destinations.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert destinations.is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("url", "allow_private", "ok"),
    [
        ("https://hooks.example.com/in", False, True),
        ("http://hooks.example.com/in", False, False),
        ("http://hooks.example.com/in", True, True),
        ("ftp://hooks.example.com/in", True, False),
        ("/relative", True, False),
        ("https://", True, False),
        ("not a url", True, False),
    ],
)
def test_only_absolute_http_urls_and_https_unless_private_is_allowed(
    url: str, allow_private: bool, ok: bool
) -> None:
    assert (destinations.check_scheme(url, allow_private) is None) is ok


def resolver_returning(*answers: list[str]) -> destinations.Resolver:
    calls = list(answers)

    async def resolve(_host: str, _port: int) -> list[str]:
        return calls.pop(0) if len(calls) > 1 else calls[0]

    return resolve


async def test_a_name_resolving_to_a_private_address_is_blocked() -> None:
    resolve = resolver_returning(["127.0.0.1"])
    with pytest.raises(destinations.DestinationBlocked, match="not a public address"):
        await destinations.pin("https://hooks.example.com/in", allow_private=False, resolve=resolve)


async def test_one_private_address_among_public_ones_blocks_the_name() -> None:
    resolve = resolver_returning([PUBLIC, "10.0.0.7"])
    with pytest.raises(destinations.DestinationBlocked):
        await destinations.pin("https://hooks.example.com/in", allow_private=False, resolve=resolve)


async def test_private_literal_addresses_are_blocked_without_resolving() -> None:
    for url in ("https://127.0.0.1/x", "https://[::1]/x", "https://169.254.169.254/latest/meta-data"):
        with pytest.raises(destinations.DestinationBlocked):
            await destinations.pin(url, allow_private=False)


class Capture:
    """An httpx transport that records what would have been sent and answers with `status`."""

    def __init__(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status
        self.headers = headers or {}

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return httpx.Response(self.status, headers=self.headers)

        return httpx.MockTransport(handle)


async def test_the_request_goes_to_the_checked_address_with_the_original_host_and_tls_name() -> None:
    # The second lookup would answer 127.0.0.1 (DNS rebinding); it must never be used.
    resolve = resolver_returning([PUBLIC], ["127.0.0.1"])
    capture = Capture()
    deliverer = Deliverer(allow_private=False, transport=capture.transport(), resolve=resolve)
    outcome = await deliverer.deliver("https://hooks.example.com:8443/in?x=1", MESSAGE, "key")
    await deliverer.aclose()
    assert outcome.ok
    (request,) = capture.requests
    assert request.url.host == PUBLIC
    assert request.url.port == 8443
    assert request.url.raw_path == b"/in?x=1"
    assert request.headers["host"] == "hooks.example.com:8443"
    assert request.extensions["sni_hostname"] == "hooks.example.com"


async def test_a_name_that_later_resolves_to_loopback_is_refused_at_delivery() -> None:
    resolve = resolver_returning([PUBLIC], ["127.0.0.1"])
    capture = Capture()
    deliverer = Deliverer(allow_private=False, transport=capture.transport(), resolve=resolve)
    assert (await deliverer.deliver("https://hooks.example.com/in", MESSAGE, "key")).ok
    later = await deliverer.deliver("https://hooks.example.com/in", MESSAGE, "key")
    await deliverer.aclose()
    assert not later.ok
    assert later.status is None
    assert later.label.startswith("blocked:")
    assert len(capture.requests) == 1


async def test_plain_http_is_refused_unless_private_destinations_are_allowed() -> None:
    capture = Capture()
    strict = Deliverer(allow_private=False, transport=capture.transport())
    assert not (await strict.deliver("http://hooks.example.com/in", MESSAGE, "key")).ok
    assert capture.requests == []
    await strict.aclose()


async def test_redirects_are_not_followed() -> None:
    capture = Capture(status=307, headers={"Location": "http://127.0.0.1/elsewhere"})
    deliverer = Deliverer(allow_private=True, transport=capture.transport())
    outcome = await deliverer.deliver("http://hooks.example.com/in", MESSAGE, "key")
    await deliverer.aclose()
    assert not outcome.ok
    assert outcome.status == 307
    assert len(capture.requests) == 1


async def test_names_sharing_an_address_never_share_a_connection_pool() -> None:
    resolve = resolver_returning([PUBLIC])
    capture = Capture()
    deliverer = Deliverer(allow_private=False, transport=capture.transport(), resolve=resolve)
    await deliverer.deliver("https://a.example.com/in", MESSAGE, "key")
    await deliverer.deliver("https://b.example.com/in", MESSAGE, "key")
    assert sorted(deliverer._clients) == ["a.example.com", "b.example.com"]
    await deliverer.aclose()
    assert [r.headers["host"] for r in capture.requests] == ["a.example.com", "b.example.com"]


async def test_a_name_that_never_resolves_ends_the_attempt_at_the_delivery_timeout() -> None:
    async def never(_host: str, _port: int) -> list[str]:
        await asyncio.Event().wait()
        return []

    capture = Capture()
    deliverer = Deliverer(allow_private=False, timeout_s=0.2, transport=capture.transport(), resolve=never)
    # The dispatcher's lease relies on an attempt never outlasting the timeout, resolution included.
    outcome = await asyncio.wait_for(deliverer.deliver("https://hooks.example.com/in", MESSAGE, "key"), 10)
    await deliverer.aclose()
    assert not outcome.ok
    assert outcome.label == "timeout"
    assert capture.requests == []
