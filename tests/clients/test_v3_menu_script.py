"""A Python menu script reading every page of `GET /v3/stock` (v3-client-calls.md §5.2).

It sends only `Authorization`, then, while an answer has a `Link` header: splits it on `", "`, each
part on `"; "`, keeps the part holding `rel="next"`, strips `<` and `>` and GETs that URL verbatim
(so it must be absolute). It concatenates the pages and reads `productUuid` and `int(balance)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from stockledger.app import create_app
from stockledger.store.db import Database
from tests.clients.v3_support import decoded_array, old_locations
from tests.conftest import Api, make_settings, new_uuid


def next_url(link: str) -> str | None:
    for part in link.split(", "):
        pieces = part.split("; ")
        if any(piece == 'rel="next"' for piece in pieces[1:]):
            return pieces[0].strip("<>")
    return None


async def read_every_page(api: Api, first: str = "/v3/stock") -> tuple[list[dict[str, Any]], list[str]]:
    """The script's loop; also returns the URLs it followed."""
    rows: list[dict[str, Any]] = []
    followed: list[str] = []
    url = first
    while True:
        response = await api.client.get(url, headers={"Authorization": f"Bearer {api.token()}"})
        assert response.status_code == 200, response.text
        rows.extend(decoded_array(response))
        link = response.headers.get("link")
        if link is None:
            return rows, followed
        assert len(response.headers.get_list("link")) == 1
        target = next_url(link)
        assert target is not None, link
        parts = urlsplit(target)
        assert parts.scheme in ("http", "https") and parts.netloc, target  # requests.get needs it absolute
        followed.append(target)
        url = target


async def stock_many(api: Api, variants: int) -> dict[str, int]:
    """One tracked product with `variants` variants in the default store (balance i + 1 each)."""
    locations = {loc["type"]: loc["uuid"] for loc in await old_locations(api)}
    product = new_uuid()
    await api.track(product)
    expected = {new_uuid(): i + 1 for i in range(variants)}
    changes = [
        {
            "productUuid": product,
            "variantUuid": variant,
            "fromLocationUuid": locations["SUPPLIER"],
            "toLocationUuid": locations["STORE"],
            "change": balance,
        }
        for variant, balance in expected.items()
    ]
    response = await api.put("/organizations/self/inventory", json={"changes": changes})
    assert response.status_code == 200, response.text
    return expected


async def test_the_script_reads_every_row_once_across_pages(api: Api) -> None:
    expected = await stock_many(api, 230)  # three pages of the default 100
    rows, followed = await read_every_page(api)
    assert len(followed) == 2
    assert {row["variantUuid"]: int(row["balance"]) for row in rows} == expected
    assert len(rows) == len(expected)


async def test_a_list_that_fits_one_page_has_no_link(api: Api) -> None:
    expected = await stock_many(api, 3)
    rows, followed = await read_every_page(api)
    assert followed == [] and len(rows) == 3
    assert {row["variantUuid"]: int(row["balance"]) for row in rows} == expected


async def test_small_pages_follow_the_limit_the_server_wrote(api: Api) -> None:
    expected = await stock_many(api, 7)
    rows, followed = await read_every_page(api, "/v3/stock?limit=3")
    assert len(followed) == 2 and all("limit=3" in url for url in followed)
    assert {row["variantUuid"]: int(row["balance"]) for row in rows} == expected


async def test_behind_a_proxy_the_link_names_the_public_address(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    """The script requests the Link URL verbatim: it must be the address the script used (the proxy's),
    not the one the server sees. The proxy here is the transport: any host reaches the same app."""
    settings = make_settings(database_url, tmp_path, public_url="https://stock.example.com")
    app = create_app(settings, db=db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.0.0.7:8000") as http:
        api = Api(http, new_uuid())
        expected = await stock_many(api, 5)
        rows, followed = await read_every_page(api, "/v3/stock?limit=2")
    assert len(followed) == 2
    assert all(url.startswith("https://stock.example.com/v3/stock?") for url in followed)
    assert {row["variantUuid"]: int(row["balance"]) for row in rows} == expected
