"""Operations (spec §10): health, readiness, metrics, OpenAPI and Swagger, request ids and JSON logs."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection
from starlette.responses import Response

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.store.db import Database
from stockledger.store.migrate import upgrade
from stockledger.store.tables import outbox
from tests.conftest import TEST_SECRET, Api, new_uuid

UI_PREFIX = "/ui"
DOCS_ROUTES = {"/openapi.json", "/swagger", "/docs/oauth2-redirect"}


async def test_healthz_answers_without_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_readyz_is_ready_on_a_migrated_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


async def test_readyz_is_unavailable_on_an_unmigrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    settings = Settings(data_dir=tmp_path, database_url=url, secret=TEST_SECRET, run_dispatcher=False)
    database = Database(settings.effective_database_url())
    app = create_app(settings, db=database)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get("/readyz")
            assert response.status_code == 503
            assert response.json()["status"] != "ready"
            assert (await http.get("/healthz")).status_code == 200
    finally:
        await database.dispose()


async def test_metrics_count_requests_by_route_and_status(api: Api) -> None:
    await api.get("/inventory")
    await api.get("/organizations/self/inventory/locations", params={"type": "nope"})
    response = await api.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'stockledger_http_requests_total{method="GET",route="/inventory",status="200"}' in text
    assert (
        'stockledger_http_requests_total{method="GET",route="/organizations/{org}/inventory/locations",'
        'status="400"}' in text
    )
    assert "stockledger_http_request_duration_seconds_bucket" in text


def _operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m.upper(), p): op for p, item in spec["paths"].items() for m, op in item.items()}


def _overlapping(routes: list[Any], others: list[Any]) -> list[tuple[str, str]]:
    def example(path: str) -> str:
        return re.sub(r"{[^}]+}", "x", path)

    found = []
    for mine in routes:
        for other in others:
            assert isinstance(mine, APIRoute) and isinstance(other, APIRoute)
            if mine.path_regex.match(example(other.path)) or other.path_regex.match(example(mine.path)):
                found.append((mine.path, other.path))
    return found


def test_the_routers_matched_before_the_inventory_routes_never_match_their_paths() -> None:
    """create_app tries v3's movements, then the inventory routes, first; that changes no answer only
    while no route of the routers they pass (operations, token; v3's movements for the inventory
    routes) matches a path of theirs, nor the reverse."""
    from stockledger.api import inventory, ops, token, v3_movements

    passed = [r for router in (ops.router, token.router) for r in router.routes]
    assert passed
    assert not _overlapping([*inventory.router.routes, *v3_movements.router.routes], passed)
    assert not _overlapping(list(inventory.router.routes), list(v3_movements.router.routes))


async def test_an_unsupported_method_on_the_inventory_path_is_refused_as_before(api: Api) -> None:
    """PUT is tried early among the inventory routes (it is the busiest), but after POST on the same
    path: the first route of a path answers 405 for it, with its methods."""
    response = await api.client.patch("/organizations/self/inventory", headers=api.headers())
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_openapi_lists_the_operations_and_token_paths_first(client: httpx.AsyncClient) -> None:
    paths = list((await client.get("/openapi.json")).json()["paths"])
    assert paths[:6] == ["/healthz", "/readyz", "/metrics", "/token", "/users/me", "/users/self"]


async def test_openapi_documents_every_route_with_request_and_response_schemas(
    app: Any, client: httpx.AsyncClient
) -> None:
    spec = (await client.get("/openapi.json")).json()
    operations = _operations(spec)
    documented = 0
    for route in iter_route_contexts(app.routes):
        if (
            route.path in DOCS_ROUTES
            or route.path.startswith(UI_PREFIX)
            or not hasattr(route, "include_in_schema")
        ):
            continue  # the back office's pages and static files are HTML, not part of the API
        assert route.include_in_schema, f"{route.path} is hidden from the OpenAPI document"
        for method in route.methods or ():
            op = operations.get((method, route.path))
            assert op is not None, (method, route.path)
            documented += 1
            if route.body_field is not None:
                content = op["requestBody"]["content"]
                assert all(media.get("schema") for media in content.values()), (method, route.path)
            status = str(route.status_code or 200)
            assert status in op["responses"], (method, route.path)
            empty_body = status == "204" or route.response_class is Response
            if not empty_body:
                content = op["responses"][status].get("content", {})
                schemas = [media.get("schema") for media in content.values()]
                assert schemas and all(schemas), (method, route.path, op["responses"][status])
    assert documented >= 17


async def test_swagger_answers_html(client: httpx.AsyncClient) -> None:
    response = await client.get("/swagger")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "swagger" in response.text.lower()


@pytest.mark.parametrize(
    ("method", "path", "authorized"),
    [
        ("GET", "/healthz", False),
        ("GET", "/inventory", True),
        ("GET", "/inventory", False),
        ("GET", "/no/such/route", True),
        ("DELETE", "/inventory", True),
        ("PUT", "/organizations/self/inventory", True),
        ("GET", "/openapi.json", False),
    ],
)
async def test_every_response_carries_a_request_id(
    api: Api, method: str, path: str, authorized: bool
) -> None:
    send = api.request if authorized else api.client.request
    response = await send(method, path)
    assert len(response.headers["x-request-id"]) >= 16
    echoed = await send(method, path, headers={"X-Request-ID": "client-chosen.id_1"})
    assert echoed.headers["x-request-id"] == "client-chosen.id_1"
    unsafe = await send(method, path, headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"


async def test_log_lines_are_json_with_the_request_id(api: Api, json_log: io.StringIO) -> None:
    response = await api.get("/inventory", headers={"X-Request-ID": f"req-{new_uuid()}"})
    lines = [json.loads(line) for line in json_log.getvalue().splitlines() if line.strip()]
    mine = [entry for entry in lines if entry.get("request_id") == response.headers["x-request-id"]]
    assert mine, lines
    access = next(entry for entry in mine if entry["message"] == "request")
    assert access["status"] == 200 and access["path"] == "/inventory" and access["method"] == "GET"
    assert {"time", "level", "logger"} <= set(access)


@pytest.mark.parametrize("path", ["/healthz/", "/readyz/", "/metrics/", "/openapi.json/", "/users/me/"])
async def test_public_routes_answer_with_trailing_slash_without_redirect(api: Api, path: str) -> None:
    response = await api.get(path)
    assert response.status_code == 200, response.text


async def test_token_route_answers_with_trailing_slash(client: httpx.AsyncClient) -> None:
    response = await client.post("/token/", data={"grant_type": "password"})
    assert response.status_code == 400 and response.json()["error"] == "unsupported_grant_type"


def _sample(text: str, name: str, labels: str) -> float:
    prefix = f"{name}{{{labels}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return 0.0


async def test_metrics_count_committed_movements_only(api: Api) -> None:
    locs = await api.locations()
    product = new_uuid()
    await api.track(product)
    before = _sample((await api.client.get("/metrics")).text, "stockledger_movements_total", 'source="API"')
    change = {
        "productUuid": product,
        "variantUuid": new_uuid(),
        "fromLocationUuid": locs["SUPPLIER"],
        "toLocationUuid": locs["STORE"],
        "change": 1,
    }
    assert (await api.put("/organizations/self/inventory", json={"changes": [change] * 3})).status_code == 200
    rejected = await api.put(
        "/organizations/self/inventory", json={"changes": [change, {**change, "productUuid": new_uuid()}]}
    )
    assert rejected.status_code == 400
    after = _sample((await api.client.get("/metrics")).text, "stockledger_movements_total", 'source="API"')
    assert after - before == 3


async def test_metrics_report_the_outbox_depth(api: Api, db: Database) -> None:
    await api.track(new_uuid())  # an event waits in the outbox: no dispatcher runs in the tests

    async def pending(conn: AsyncConnection) -> int:
        stmt = select(func.count()).select_from(outbox).where(outbox.c.dispatched.is_(False))
        return int(await conn.scalar(stmt) or 0)

    depth = _sample((await api.client.get("/metrics")).text, "stockledger_outbox_depth", "")
    assert depth == await db.read(pending) >= 1


@pytest.mark.parametrize(
    ("revision", "status"),
    [("0001", 503), ("9999_from_a_newer_release", 200)],
)
async def test_readyz_during_a_rolling_upgrade(tmp_path: Path, revision: str, status: int) -> None:
    """An older schema means migrations are pending; a schema of a newer release (migrated before
    the rollout) keeps the previous release ready until it is replaced."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    settings = Settings(data_dir=tmp_path, database_url=url, secret=TEST_SECRET, run_dispatcher=False)
    database = Database(settings.effective_database_url())
    await upgrade(settings.effective_database_url())

    async def stamp(conn: AsyncConnection) -> None:
        await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})

    await database.write(stamp)
    app = create_app(settings, db=database)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            response = await http.get("/readyz")
    finally:
        await database.dispose()
    assert response.status_code == status, response.text
    assert response.json()["revision"] == revision
