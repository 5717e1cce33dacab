"""The API documentation works offline and is useful: Swagger UI from packaged assets, the bearer
scheme declared, short readable operationIds and summaries, examples from the contract, and only
the error statuses each operation can answer."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests.conftest import Api


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
    ]


async def test_swagger_loads_every_asset_from_this_server(api: Api) -> None:
    page = await api.client.get("/swagger")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources, page.text
    for source in sources:
        assert source.startswith("/"), f"{source} is not served here"  # no CDN, works offline
        asset = await api.client.get(source)
        assert asset.status_code == 200, source
    assert any(s.endswith("swagger-ui-bundle.js") for s in sources)
    assert "https://" not in page.text.replace("https://github.com", "")


async def test_the_bearer_scheme_is_declared_and_named_by_every_operation_that_takes_a_token(
    api: Api,
) -> None:
    doc = await openapi(api.client)
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    secured = {(m, p) for m, p, op in operations(doc) if op.get("security") == [{"bearerAuth": []}]}
    assert ("put", "/organizations/{org}/inventory") in secured
    assert ("post", "/v3/movements") in secured
    assert ("get", "/organizations/{org}/subscriptions") in secured
    assert ("get", "/users/me") in secured
    for open_route in [("get", "/healthz"), ("get", "/readyz"), ("get", "/metrics"), ("post", "/token")]:
        assert open_route not in secured


async def test_operation_ids_are_short_unique_and_readable(api: Api) -> None:
    doc = await openapi(api.client)
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z][A-Za-z0-9]{2,39}", operation_id), operation_id
    by_route = {(m, p): op["operationId"] for m, p, op in operations(doc)}
    assert by_route[("put", "/organizations/{org}/inventory")] == "updateBalances"
    assert by_route[("get", "/organizations/{org}/locations")] == "listLocations"


async def test_every_operation_has_a_short_summary(api: Api) -> None:
    for _, _, op in operations(await openapi(api.client)):
        assert 3 <= len(op["summary"]) <= 100, op["summary"]


async def test_only_the_error_statuses_an_operation_can_answer_are_listed(api: Api) -> None:
    doc = await openapi(api.client)
    statuses = {(m, p): set(op["responses"]) for m, p, op in operations(doc)}
    assert statuses[("get", "/healthz")] == {"200"}
    put = statuses[("put", "/organizations/{org}/inventory")]
    assert {"400", "401", "403", "409", "413", "429"} <= put and "404" not in put and "405" not in put
    listing = statuses[("get", "/organizations/{org}/locations")]
    assert listing == {"200", "401", "403", "429"}  # no body, no parameters: no 400, 404 or 413
    one = statuses[("get", "/organizations/{org}/inventory/locations/{locationUuid}")]
    assert "404" in one and "413" not in one and "409" not in one
    assert "422" not in {s for v in statuses.values() for s in v}


async def test_main_operations_carry_the_contracts_examples(api: Api) -> None:
    doc = await openapi(api.client)
    put = doc["paths"]["/organizations/{org}/inventory"]["put"]
    request = put["requestBody"]["content"]["application/json"]["example"]
    assert request["changes"][0]["change"] == 10 and "externalUuid" in request
    answer = put["responses"]["200"]["content"]["application/json"]["example"]
    assert answer["variants"][0]["balance"] == "42"
    movements = doc["paths"]["/v3/movements"]["post"]["requestBody"]["content"]["application/json"]["example"]
    assert movements["movements"][0]["from"] and "identifier" in movements
