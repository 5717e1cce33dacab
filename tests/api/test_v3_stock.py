"""Inventory API v3 stock reads (v3 contract §5, §6): the stock row, pages and their Link header,
one product's rows and several products' rows, over the same ledger the old API reads and writes."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from stockledger.app import create_app
from stockledger.config import Settings
from stockledger.store.db import Database
from stockledger.store.sql import now_ms
from tests.api.low_stock_support import put as put_low_stock
from tests.api.test_fetch_extensions import next_millisecond
from tests.conftest import Api, new_uuid

ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
LINK = re.compile(r'^<([^<>]+)>; rel="next"$')
ROW_FIELDS = {
    "organizationUuid",
    "inventoryUuid",
    "productUuid",
    "variantUuid",
    "balance",
    "lowStockLevel",
    "lowStockAlert",
    "updated",
    "checksum",
}
DEFAULT_LEVEL = 5  # STOCKLEDGER_DEFAULT_LOW_STOCK_LEVEL of the test app


def product_path(inventory: str, product: str) -> str:
    return f"/v3/stock/{inventory}/products/{product}"


async def put_changes(api: Api, changes: list[tuple[str, str, str, str, Any]]) -> None:
    """One old-API PUT of (product, variant, from, to, change) changes."""
    body = {
        "changes": [
            {"productUuid": p, "variantUuid": v, "fromLocationUuid": f, "toLocationUuid": t, "change": c}
            for p, v, f, t, c in changes
        ]
    }
    response = await api.put("/organizations/self/inventory", json=body)
    assert response.status_code == 200, response.text


async def product_rows(api: Api, inventory: str, product: str) -> list[dict[str, Any]]:
    response = await api.get(product_path(inventory, product))
    assert response.status_code == 200, response.text
    assert "link" not in response.headers
    rows: list[dict[str, Any]] = response.json()
    return rows


async def one_row(api: Api, inventory: str, product: str, variant: str) -> dict[str, Any]:
    found = [r for r in await product_rows(api, inventory, product) if r["variantUuid"] == variant]
    assert len(found) == 1, found
    return found[0]


def next_url(response: httpx.Response) -> str | None:
    header = response.headers.get("link")
    if header is None:
        return None
    match = LINK.match(header)
    assert match, header
    return match.group(1)


async def follow(
    api: Api, url: str, between: Any = None, proxy_prefix: str = ""
) -> tuple[list[dict[str, Any]], int]:
    """Every row from `url` on, following each `Link` verbatim (less `proxy_prefix`, which a reverse
    proxy in front of the service would strip); `between()` runs after each page."""
    rows: list[dict[str, Any]] = []
    pages = 0
    next_page: str | None = url
    while next_page is not None:
        response = await api.get(next_page.removeprefix(proxy_prefix))
        assert response.status_code == 200, response.text
        assert len(response.headers.get_list("link")) <= 1
        rows.extend(response.json())
        pages += 1
        next_page = next_url(response)
        if next_page is not None and between is not None:
            await between()
    return rows, pages


def key(row: dict[str, Any]) -> tuple[str, str, str]:
    return (row["inventoryUuid"], row["productUuid"], row["variantUuid"])


def updated_ms(row: dict[str, Any]) -> int:
    moment = datetime.strptime(row["updated"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


# ---- the stock row -----------------------------------------------------------------------------


async def test_row_has_every_field_with_its_json_type(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await put_changes(api, [(product, variant, locs["SUPPLIER"], locs["STORE"], 42)])

    response = await api.get(product_path(locs["STORE"], product))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert "link" not in response.headers
    [row] = response.json()
    assert set(row) == ROW_FIELDS
    assert row["organizationUuid"] == api.org
    assert (row["inventoryUuid"], row["productUuid"], row["variantUuid"]) == (locs["STORE"], product, variant)
    assert row["balance"] == 42 and type(row["balance"]) is int
    assert b'"balance":42,' in response.content  # a JSON number, not "42"
    assert row["lowStockLevel"] is None and row["lowStockAlert"] is False
    assert ISO_MS.match(row["updated"]), row["updated"]
    assert isinstance(row["checksum"], str) and row["checksum"].isdigit() and int(row["checksum"]) < 2**32
    for name in ("organizationUuid", "inventoryUuid", "productUuid", "variantUuid", "updated", "checksum"):
        assert isinstance(row[name], str) and row[name], name


async def test_fractional_and_negative_balances_are_exact_json_numbers(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await put_changes(api, [(product, variant, locs["SUPPLIER"], locs["STORE"], "2.125")])

    store = await api.get(product_path(locs["STORE"], product))
    supplier = await api.get(product_path(locs["SUPPLIER"], product))
    assert b'"balance":2.125,' in store.content
    assert b'"balance":-2.125,' in supplier.content
    await put_changes(api, [(product, variant, locs["SUPPLIER"], locs["STORE"], "0.875")])
    row = await one_row(api, locs["STORE"], product, variant)
    assert row["balance"] == 3 and type(row["balance"]) is int


async def test_get_with_json_content_type_empty_body_no_accept_and_trailing_slash(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await put_changes(api, [(product, variant, locs["SUPPLIER"], locs["STORE"], 1)])
    for path in (product_path(locs["STORE"], product) + "/", f"/v3/stock/{locs['STORE']}/", "/v3/stock/"):
        response = await api.client.get(
            path, headers={"Authorization": f"Bearer {api.token()}", "Content-Type": "application/json"}
        )
        assert response.status_code == 200, (path, response.text)
        assert [r["variantUuid"] for r in response.json()] == [variant]


async def test_low_stock_settings_show_in_the_row(api: Api) -> None:
    locs = await api.locations()
    store = locs["STORE"]
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await put_changes(api, [(product, variant, locs["SUPPLIER"], store, 10)])

    async def shown() -> tuple[Any, Any]:
        row = await one_row(api, store, product, variant)
        return row["lowStockLevel"], row["lowStockAlert"]

    assert await shown() == (None, False)  # never set
    await put_low_stock(api, store, product, variant, lowStockLevel=3, lowStockAlert=True)
    level, alert = await shown()
    assert (level, alert) == (3, True) and type(level) is int
    await put_low_stock(api, store, product, variant, lowStockLevel="2.5")
    assert await shown() == (Decimal("2.5"), False)
    # An alert without a level of its own is evaluated against the server default: that is shown.
    await put_low_stock(api, store, product, variant, lowStockAlert=True)
    assert await shown() == (DEFAULT_LEVEL, True)
    response = await api.delete(f"/custom-low-stock/locations/{store}/products/{product}/variants/{variant}")
    assert response.status_code == 202
    assert await shown() == (None, False)
    # Settings are per inventory: the SUPPLIER row of the same variant shows its own (none).
    assert (await one_row(api, locs["SUPPLIER"], product, variant))["lowStockAlert"] is False


async def test_updated_is_the_later_of_the_balance_and_the_setting_change(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    started = now_ms()
    await put_changes(api, [(product, variant, locs["SUPPLIER"], locs["STORE"], 4)])
    moved = now_ms()
    first = updated_ms(await one_row(api, locs["STORE"], product, variant))
    assert started <= first <= moved

    await next_millisecond(moved)
    before_setting = now_ms()
    await put_low_stock(api, locs["STORE"], product, variant, lowStockLevel=1, lowStockAlert=True)
    after_setting = now_ms()
    assert before_setting <= updated_ms(await one_row(api, locs["STORE"], product, variant)) <= after_setting
    # The SUPPLIER row has no setting: its time is still its balance's.
    assert updated_ms(await one_row(api, locs["SUPPLIER"], product, variant)) == first

    await next_millisecond(after_setting)
    before_move = now_ms()
    await put_changes(api, [(product, variant, locs["STORE"], locs["SOLD"], 1)])
    assert updated_ms(await one_row(api, locs["STORE"], product, variant)) >= before_move


async def test_checksum_changes_with_balance_and_low_stock_and_not_otherwise(api: Api) -> None:
    locs = await api.locations()
    store = locs["STORE"]
    product, variant, neighbour = new_uuid(), new_uuid(), new_uuid()
    await api.track(product)
    await put_changes(
        api,
        [
            (product, variant, locs["SUPPLIER"], store, 5),
            (product, neighbour, locs["SUPPLIER"], store, 5),
        ],
    )

    async def checksum() -> str:
        return str((await one_row(api, store, product, variant))["checksum"])

    initial = await checksum()
    assert await checksum() == initial  # deterministic
    await put_changes(api, [(product, neighbour, store, locs["SOLD"], 2)])
    assert await checksum() == initial  # another variant moved
    await put_changes(api, [(product, variant, store, locs["SOLD"], 1)])
    lower = await checksum()
    assert lower != initial
    await put_changes(api, [(product, variant, locs["SOLD"], store, 1)])
    assert await checksum() == initial  # the same balance again: the same checksum, a later `updated`

    await put_low_stock(api, store, product, variant, lowStockLevel=2)
    with_level = await checksum()
    assert with_level not in {initial, lower}
    await put_low_stock(api, store, product, variant, lowStockLevel=2, lowStockAlert=True)
    with_alert = await checksum()
    assert with_alert not in {initial, lower, with_level}
    await put_low_stock(api, store, product, variant, lowStockLevel=3, lowStockAlert=True)
    assert await checksum() not in {initial, lower, with_level, with_alert}
    await put_low_stock(api, store, product, variant, lowStockLevel=2, lowStockAlert=True)
    assert await checksum() == with_alert  # the same setting stored again
    # Another inventory's row of the same variant has its own checksum.
    assert (await one_row(api, locs["SUPPLIER"], product, variant))["checksum"] != initial


async def test_rows_list_tracked_products_only_and_keep_zero_balances(api: Api) -> None:
    locs = await api.locations()
    store = locs["STORE"]
    kept, stopped = new_uuid(), new_uuid()
    zero, plain, hidden = new_uuid(), new_uuid(), new_uuid()
    await api.track(kept)
    await api.track(stopped)
    await put_changes(
        api,
        [
            (kept, zero, locs["SUPPLIER"], store, 3),
            (kept, plain, locs["SUPPLIER"], store, 1),
            (stopped, hidden, locs["SUPPLIER"], store, 1),
        ],
    )
    await put_changes(api, [(kept, zero, store, locs["SOLD"], 3)])
    response = await api.delete(f"/organizations/self/inventory/products/{stopped}")
    assert response.status_code == 204

    listed = (await api.get(f"/v3/stock/{store}")).json()
    assert {(r["variantUuid"], r["balance"]) for r in listed} == {(zero, 0), (plain, 1)}
    assert {r["variantUuid"] for r in (await api.get("/v3/stock")).json()} == {zero, plain}
    assert (await api.get(product_path(store, stopped))).json()["errorType"] == "PRODUCT_NOT_TRACKED"
    await api.track(stopped)  # tracked again: its kept balance is back
    assert [r["balance"] for r in await product_rows(api, store, stopped)] == [1]


# ---- pages -------------------------------------------------------------------------------------


async def seed_rows(
    api: Api, store: str, supplier: str, products: int, variants: int
) -> list[tuple[str, str]]:
    """`products` tracked products with `variants` variants each, 1 unit each in `store`."""
    made = []
    changes = []
    for _ in range(products):
        product = new_uuid()
        await api.track(product)
        for _ in range(variants):
            variant = new_uuid()
            made.append((product, variant))
            changes.append((product, variant, supplier, store, 1))
    await put_changes(api, changes)
    return sorted(made)


async def test_link_is_sent_exactly_when_more_rows_exist(api: Api) -> None:
    locs = await api.locations()
    store = locs["STORE"]
    made = await seed_rows(api, store, locs["SUPPLIER"], 1, 3)

    whole = await api.get(f"/v3/stock/{store}", params={"limit": 3})
    assert whole.status_code == 200
    assert "link" not in whole.headers
    assert [(r["productUuid"], r["variantUuid"]) for r in whole.json()] == made

    first = await api.get(f"/v3/stock/{store}", params={"limit": 2})
    assert [(r["productUuid"], r["variantUuid"]) for r in first.json()] == made[:2]
    header = first.headers["link"]
    assert header.startswith(f"<http://stockledger.test/v3/stock/{store}?cursor=")
    assert header.endswith('&limit=2>; rel="next"')
    url = next_url(first)
    assert url is not None
    second = await api.get(url)
    assert [(r["productUuid"], r["variantUuid"]) for r in second.json()] == made[2:]
    assert "link" not in second.headers  # the last page, though it is not full

    # An inventory without rows: an empty array and no Link.
    empty = await api.get(f"/v3/stock/{locs['BIN']}")
    assert empty.status_code == 200 and empty.json() == [] and "link" not in empty.headers


async def test_link_uses_the_configured_public_url_with_its_path_prefix(
    settings: Settings, db: Database, api: Api
) -> None:
    app = create_app(settings.with_overrides(public_url="https://stock.example.com/shop"), db=db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://internal:8000"
    ) as client:
        behind_proxy = Api(client, api.org)
        locs = await behind_proxy.locations()
        await seed_rows(behind_proxy, locs["STORE"], locs["SUPPLIER"], 1, 3)
        for path in ("/v3/stock", f"/v3/stock/{locs['STORE']}"):
            response = await behind_proxy.get(path, params={"limit": 1})
            url = next_url(response)
            assert url is not None and url.startswith(f"https://stock.example.com/shop{path}?cursor="), url
            assert url.endswith("&limit=1")
            # Behind the proxy that strips the prefix, every link leads to the next page.
            rows, pages = await follow(behind_proxy, url, proxy_prefix="https://stock.example.com/shop")
            assert len(rows) == 2 and pages == 2


@pytest.mark.parametrize("listing", ["one inventory", "every store"])
async def test_following_links_returns_every_row_once_while_rows_are_written(api: Api, listing: str) -> None:
    locs = await api.locations()
    store, supplier = locs["STORE"], locs["SUPPLIER"]
    made = await seed_rows(api, store, supplier, 4, 6)
    expected = {(store, p, v) for p, v in made}
    path = f"/v3/stock/{store}"
    if listing == "every store":
        created = await api.post("/organizations/self/locations", json={"name": "Second shop"})
        assert created.status_code == 201, created.text
        second = created.json()["uuid"]
        expected |= {(second, p, v) for p, v in await seed_rows(api, second, supplier, 2, 5)}
        path = "/v3/stock"
    products = sorted({p for p, _v in made})
    inserted: list[tuple[str, str]] = []

    async def write_between_pages() -> None:
        # New variants land before and after the cursor; an existing balance changes.
        variant = new_uuid()
        product = products[len(inserted) % len(products)]
        inserted.append((product, variant))
        await put_changes(
            api, [(product, variant, supplier, store, 1), (made[0][0], made[0][1], supplier, store, 1)]
        )

    rows, pages = await follow(api, f"{path}?limit=5", write_between_pages)
    counted = Counter(key(r) for r in rows)
    assert all(n == 1 for n in counted.values()), [k for k, n in counted.items() if n > 1]
    assert expected <= set(counted)
    assert set(counted) <= expected | {(store, p, v) for p, v in inserted}
    assert pages >= len(expected) // 5
    assert [key(r) for r in rows] == sorted(key(r) for r in rows)  # inventory, product, variant


async def test_every_store_lists_all_stores_and_no_other_inventory(api: Api) -> None:
    locs = await api.locations()
    product = new_uuid()
    await api.track(product)
    created = await api.post("/organizations/self/locations", json={"name": "Second shop"})
    second = created.json()["uuid"]
    v1, v2, v3 = new_uuid(), new_uuid(), new_uuid()
    await put_changes(
        api,
        [
            (product, v1, locs["SUPPLIER"], locs["STORE"], 2),
            (product, v2, locs["SUPPLIER"], second, 3),
            (product, v3, locs["SUPPLIER"], locs["STORE"], 1),
        ],
    )
    await put_changes(api, [(product, v3, locs["STORE"], locs["SOLD"], 1)])
    rows = (await api.get("/v3/stock")).json()
    expected = {(locs["STORE"], v1, 2), (second, v2, 3), (locs["STORE"], v3, 0)}
    assert {(r["inventoryUuid"], r["variantUuid"], r["balance"]) for r in rows} == expected
    # One row per page: the pages cross from one store to the next without a gap.
    one_by_one, pages = await follow(api, "/v3/stock?limit=1")
    assert one_by_one == rows and pages == 3


async def test_limit_defaults_to_100_is_clamped_to_1000_and_refused_when_not_a_positive_integer(
    api: Api,
) -> None:
    locs = await api.locations()
    store = locs["STORE"]
    await seed_rows(api, store, locs["SUPPLIER"], 1, 101)
    default = await api.get(f"/v3/stock/{store}")
    assert len(default.json()) == 100
    assert default.headers["link"].endswith('&limit=100>; rel="next"')
    clamped = await api.get(f"/v3/stock/{store}", params={"limit": "100000"})
    assert len(clamped.json()) == 101 and "link" not in clamped.headers
    first = await api.get("/v3/stock", params={"limit": "100"})
    url = next_url(first)
    assert url is not None
    cursor = dict(httpx.URL(url).params)["cursor"]
    over = await api.get("/v3/stock", params={"limit": "5000", "cursor": cursor})
    assert len(over.json()) == 1 and "link" not in over.headers
    for bad in ("0", "-1", "abc", "1.5", "1e3"):
        for path in ("/v3/stock", f"/v3/stock/{store}"):
            response = await api.get(path, params={"limit": bad})
            assert response.status_code == 400, (path, bad)
            body = response.json()
            assert body["errorType"] == "VALIDATION_ERROR"
            assert body["violations"][0]["propertyName"] == "limit"


async def test_cursor_of_another_list_or_garbage_is_refused(api: Api) -> None:
    locs = await api.locations()
    store, supplier = locs["STORE"], locs["SUPPLIER"]
    await seed_rows(api, store, supplier, 1, 3)

    def cursor_of(response: httpx.Response) -> str:
        url = next_url(response)
        assert url is not None
        return dict(httpx.URL(url).params)["cursor"]

    of_store = cursor_of(await api.get(f"/v3/stock/{store}", params={"limit": 1}))
    of_supplier = cursor_of(await api.get(f"/v3/stock/{supplier}", params={"limit": 1}))
    of_all = cursor_of(await api.get("/v3/stock", params={"limit": 1}))
    refused = [
        (f"/v3/stock/{supplier}", of_store),
        (f"/v3/stock/{store}", of_supplier),
        (f"/v3/stock/{store}", of_all),
        ("/v3/stock", of_store),
        ("/v3/stock", "not-a-cursor"),
        (f"/v3/stock/{store}", "eyJwIjpbMSwyXSwiZiI6IngifQ"),  # base64 JSON of another shape
    ]
    for path, cursor in refused:
        response = await api.get(path, params={"cursor": cursor, "limit": 1})
        assert response.status_code == 400, (path, response.text)
        assert response.json()["violations"][0]["propertyName"] == "cursor"
    assert (await api.get(f"/v3/stock/{store}", params={"cursor": of_store, "limit": 1})).status_code == 200


# ---- one product, several products -------------------------------------------------------------


async def test_one_product_untracked_is_product_not_tracked_and_tracked_without_rows_is_empty(
    api: Api,
) -> None:
    store = (await api.locations())["STORE"]
    untracked = new_uuid()
    response = await api.get(product_path(store, untracked))
    assert response.status_code == 400
    body = response.json()
    assert body["errorType"] == "PRODUCT_NOT_TRACKED"
    assert body["violations"][0]["propertyName"] == "productUuid"
    tracked = new_uuid()
    await api.track(tracked)
    response = await api.get(product_path(store, tracked))
    assert response.status_code == 200 and response.json() == [] and "link" not in response.headers


async def test_one_product_in_every_inventory_type_supplier_negative(api: Api) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await put_changes(api, [(product, variant, locs["SUPPLIER"], locs["STORE"], 5)])
    await put_changes(api, [(product, variant, locs["STORE"], locs["SOLD"], 2)])
    await put_changes(api, [(product, variant, locs["STORE"], locs["BIN"], 1)])
    balances = {kind: [r["balance"] for r in await product_rows(api, locs[kind], product)] for kind in locs}
    assert balances == {"STORE": [2], "SOLD": [2], "BIN": [1], "SUPPLIER": [-5]}
    # The same for the paged list of one inventory of any type.
    assert [r["balance"] for r in (await api.get(f"/v3/stock/{locs['SUPPLIER']}")).json()] == [-5]


async def test_one_product_lists_its_variants_in_order(api: Api) -> None:
    locs = await api.locations()
    product, other = new_uuid(), new_uuid()
    await api.track(product)
    await api.track(other)
    variants = sorted(new_uuid() for _ in range(3))
    await put_changes(api, [(product, v, locs["SUPPLIER"], locs["STORE"], 1) for v in reversed(variants)])
    await put_changes(api, [(other, new_uuid(), locs["SUPPLIER"], locs["STORE"], 1)])
    rows = await product_rows(api, locs["STORE"], product.upper())
    assert [r["variantUuid"] for r in rows] == variants
    assert {r["productUuid"] for r in rows} == {product}


async def test_several_products_by_array_or_object_untracked_omitted(api: Api) -> None:
    locs = await api.locations()
    store = locs["STORE"]
    a, b, untracked, unknown = sorted(new_uuid() for _ in range(4))
    await api.track(a)
    await api.track(b)
    va, vb, vu = new_uuid(), new_uuid(), new_uuid()
    await put_changes(api, [(a, va, locs["SUPPLIER"], store, 1), (b, vb, locs["SUPPLIER"], store, 2)])
    await api.track(untracked)
    await put_changes(api, [(untracked, vu, locs["SUPPLIER"], store, 3)])
    assert (await api.delete(f"/organizations/self/inventory/products/{untracked}")).status_code == 204

    path = f"/v3/stock/{store}/products"
    for body in ([b, a, untracked, unknown, a.upper()], {"productUuids": [b, a, untracked, unknown]}):
        response = await api.post(path, json=body)
        assert response.status_code == 200, response.text
        assert "link" not in response.headers
        rows = response.json()
        assert [(r["productUuid"], r["variantUuid"], r["balance"]) for r in rows] == [(a, va, 1), (b, vb, 2)]
        assert all(set(r) == ROW_FIELDS for r in rows)
    assert (await api.post(path + "/", json=[a])).json()[0]["variantUuid"] == va
    assert (await api.post(path, json=[])).json() == []
    assert (await api.post(path, json={"productUuids": []})).json() == []
    # The same rows as the one-product read.
    assert (await api.post(path, json=[a])).json() == await product_rows(api, store, a)


async def test_several_products_refuses_bad_bodies_and_too_many(api: Api) -> None:
    store = (await api.locations())["STORE"]
    path = f"/v3/stock/{store}/products"
    cases: list[tuple[Any, str]] = [
        ([new_uuid(), "nope"], "[1]"),
        ({"productUuids": ["nope"]}, "productUuids[0]"),
        ({"productUuid": new_uuid()}, "productUuids"),
        ("just a string", "productUuids"),
        ([new_uuid() for _ in range(1001)], "productUuids"),
    ]
    for body, name in cases:
        response = await api.post(path, json=body)
        assert response.status_code == 400, body
        assert response.json()["errorType"] == "VALIDATION_ERROR"
        assert response.json()["violations"][0]["propertyName"] == name
    assert (await api.post(path, json=[new_uuid() for _ in range(1000)])).status_code == 200
    no_body = await api.post(path)
    assert no_body.status_code == 400
    malformed = await api.post(path, content=b"[", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 400


# ---- errors, scopes, organizations -------------------------------------------------------------


async def test_malformed_and_unknown_inventories_and_products(api: Api) -> None:
    store = (await api.locations())["STORE"]
    product = new_uuid()
    await api.track(product)
    for method, path, name in [
        ("GET", "/v3/stock/not-a-uuid", "inventoryUuid"),
        ("GET", f"/v3/stock/not-a-uuid/products/{product}", "inventoryUuid"),
        ("GET", f"/v3/stock/{store}/products/not-a-uuid", "productUuid"),
        ("POST", "/v3/stock/not-a-uuid/products", "inventoryUuid"),
    ]:
        response = await api.request(method, path, json=[product] if method == "POST" else None)
        assert response.status_code == 400, path
        assert response.json()["violations"][0]["propertyName"] == name, path
    unknown = new_uuid()
    for method, path in [
        ("GET", f"/v3/stock/{unknown}"),
        ("GET", f"/v3/stock/{unknown}/products/{product}"),
        ("POST", f"/v3/stock/{unknown}/products"),
    ]:
        response = await api.request(method, path, json=[product] if method == "POST" else None)
        assert response.status_code == 404, path
        assert response.json()["errorType"] == "ENTITY_NOT_FOUND"


async def test_another_organizations_inventory_is_not_found_and_its_rows_never_listed(
    api: Api, other_api: Api
) -> None:
    locs = await api.locations()
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await put_changes(api, [(product, variant, locs["SUPPLIER"], locs["STORE"], 7)])
    for method, path in [
        ("GET", f"/v3/stock/{locs['STORE']}"),
        ("GET", product_path(locs["STORE"], product)),
        ("POST", f"/v3/stock/{locs['STORE']}/products"),
    ]:
        response = await other_api.request(method, path, json=[product] if method == "POST" else None)
        assert response.status_code == 404, path
        assert response.json()["errorType"] == "ENTITY_NOT_FOUND"
    assert (await other_api.get("/v3/stock")).json() == []
    # The same product UUID tracked by the other organization shows its own rows only.
    await other_api.track(product)
    other_locs = await other_api.locations()
    assert await product_rows(other_api, other_locs["STORE"], product) == []
    [row] = await product_rows(api, locs["STORE"], product)
    assert row["organizationUuid"] == api.org


async def test_reads_need_the_read_product_scope(api: Api) -> None:
    store = (await api.locations())["STORE"]
    writer_only = Api(api.client, api.org, scopes="WRITE:PRODUCT")
    for method, path in [
        ("GET", "/v3/stock"),
        ("GET", f"/v3/stock/{store}"),
        ("GET", product_path(store, new_uuid())),
        ("POST", f"/v3/stock/{store}/products"),
    ]:
        response = await writer_only.request(method, path, json=[] if method == "POST" else None)
        assert response.status_code == 403, path
        assert (await api.request(method, path, json=[] if method == "POST" else None)).status_code in {
            200,
            400,
        }


# ---- one ledger, two APIs ----------------------------------------------------------------------


async def test_old_api_writes_show_in_v3_rows_with_identical_balances(api: Api) -> None:
    locs = await api.locations()
    store = locs["STORE"]
    made = await seed_rows(api, store, locs["SUPPLIER"], 3, 4)
    (p0, v0), (p1, v1) = made[0], made[5]
    await put_changes(
        api,
        [
            (p0, v0, store, locs["SOLD"], "0.25"),
            (p1, v1, locs["SUPPLIER"], store, 41),
        ],
    )
    old = (await api.get(f"/organizations/self/inventory/locations/{store}")).json()["variants"]
    v3_rows, _pages = await follow(api, f"/v3/stock/{store}?limit=5")
    assert {(r["productUuid"], r["variantUuid"]): Decimal(r["balance"]) for r in old} == {
        (r["productUuid"], r["variantUuid"]): Decimal(str(r["balance"])) for r in v3_rows
    }
    assert (await one_row(api, store, p0, v0))["balance"] == Decimal("0.75")
    assert (await one_row(api, store, p1, v1))["balance"] == 42
    default_store = (await api.get("/inventory")).json()["variants"]
    every_store, _pages = await follow(api, "/v3/stock?limit=7")
    assert sorted((r["variantUuid"], Decimal(r["balance"])) for r in default_store) == sorted(
        (r["variantUuid"], Decimal(str(r["balance"]))) for r in every_store
    )
    # An old-API fetch of one product answers the same balances as the v3 product read.
    old_product = (await api.get(f"/organizations/self/inventory/locations/{store}/products/{p0}")).json()
    assert [(r["variantUuid"], Decimal(r["balance"])) for r in old_product["variants"]] == [
        (r["variantUuid"], Decimal(str(r["balance"]))) for r in await product_rows(api, store, p0)
    ]
