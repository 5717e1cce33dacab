"""Failures in the Zettle error shape (spec §3): unknown route, wrong method, too large, internal error."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.service import inventory
from stockledger.store.db import Database
from tests.conftest import Api, new_uuid
from tests.ledger import snapshot


def assert_error(response: httpx.Response, status: int, error_type: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["errorType"] == error_type
    assert isinstance(body["developerMessage"], str)
    assert response.headers.get("x-request-id")
    return body


@pytest.mark.parametrize("path", ["/nope", "/organizations/self/nothing", "/inventory/extra/x", "/"])
async def test_unknown_route_is_entity_not_found(api: Api, path: str) -> None:
    assert_error(await api.get(path), 404, "ENTITY_NOT_FOUND")
    assert_error(await api.client.get(path), 404, "ENTITY_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/inventory"),
        ("PATCH", "/organizations/self/inventory"),
        ("PATCH", "/organizations/self/locations"),
        ("GET", "/token"),
        ("PUT", "/users/self/"),
    ],
)
async def test_wrong_method_is_method_not_allowed(api: Api, method: str, path: str) -> None:
    assert_error(await api.request(method, path), 405, "METHOD_NOT_ALLOWED")


@pytest_asyncio.fixture(loop_scope="session")
async def small_body_api(settings: Settings, db: Database) -> AsyncIterator[Api]:
    app = create_app(settings.with_overrides(max_body_bytes=2_000), db=db)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield Api(http, new_uuid())


def big_body(api_locs: dict[str, str], product: str, count: int) -> dict[str, Any]:
    change = {
        "productUuid": product,
        "variantUuid": product,
        "fromLocationUuid": api_locs["SUPPLIER"],
        "toLocationUuid": api_locs["STORE"],
        "change": 1,
    }
    return {"changes": [change] * count}


async def test_body_over_the_limit_is_payload_too_large(small_body_api: Api, db: Database) -> None:
    api = small_body_api
    locs = await api.locations()
    product = new_uuid()
    await api.track(product)
    assert (
        await api.put("/organizations/self/inventory", json=big_body(locs, product, 2))
    ).status_code == 200
    before = await snapshot(db, api.org)
    response = await api.put("/organizations/self/inventory", json=big_body(locs, product, 20))
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await snapshot(db, api.org) == before


async def test_streamed_body_over_the_limit_is_payload_too_large(small_body_api: Api, db: Database) -> None:
    """Without Content-Length the limit is enforced while the body is read."""
    api = small_body_api
    locs = await api.locations()
    product = new_uuid()
    await api.track(product)
    before = await snapshot(db, api.org)
    payload = httpx.Request("PUT", "http://t", json=big_body(locs, product, 20)).content

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(payload), 500):
            yield payload[start : start + 500]

    response = await api.put(
        "/organizations/self/inventory", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert await snapshot(db, api.org) == before


@pytest_asyncio.fixture(loop_scope="session")
async def lenient_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees the 500 response a real server would send, not the raised exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


async def test_unexpected_exception_is_internal_error_without_stack_trace(
    lenient_client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, json_log: io.StringIO
) -> None:
    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret internals: /srv/app/db.py line 42")

    monkeypatch.setattr(inventory, "list_locations", broken)
    api = Api(lenient_client, new_uuid())
    response = await api.get("/organizations/self/locations")
    body = assert_error(response, 500, "INTERNAL_ERROR")
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert set(body) == {"developerMessage", "errorType"}
    # The operator gets the traceback in the log, tied to the request by its id.
    entries = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
    [logged] = [e for e in entries if e["message"] == "unhandled error"]
    assert logged["request_id"] == response.headers["x-request-id"]
    assert "secret internals" in logged["exception"]
