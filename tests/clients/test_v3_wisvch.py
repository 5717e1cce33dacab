"""zettle-stock, WordPress shortcodes that show stock (v3-client-calls.md §5.1).

One call: `GET /v3/stock` with only `Authorization`; success is status exactly 200; the array's rows
give `productUuid` and `intval(balance)`. It never follows `Link`, so the first page is all it shows.
"""

from __future__ import annotations

from collections import defaultdict

from tests.clients.v3_support import decoded_array, old_locations, php_int, send
from tests.conftest import Api, new_uuid


async def shortcode_stock(api: Api) -> dict[str, int]:
    """productUuid → stock as the shortcode adds it up from the first page."""
    response = await send(api, "GET", "/v3/stock", without=("Accept",))
    assert response.status_code == 200, response.text
    stock: dict[str, int] = defaultdict(int)
    for row in decoded_array(response):
        stock[row["productUuid"]] += php_int(row["balance"])
    return dict(stock)


async def test_the_first_page_holds_the_store_stock_of_tracked_products(api: Api) -> None:
    locations = {loc["type"]: loc["uuid"] for loc in await old_locations(api)}
    shirt, mug, untracked = new_uuid(), new_uuid(), new_uuid()
    for product in (shirt, mug):
        await api.track(product)
    shirt_s, shirt_m, mug_one = new_uuid(), new_uuid(), new_uuid()
    await api.move(shirt, shirt_s, locations["SUPPLIER"], locations["STORE"], 4)
    await api.move(shirt, shirt_m, locations["SUPPLIER"], locations["STORE"], 6)
    await api.move(mug, mug_one, locations["SUPPLIER"], locations["STORE"], 9)
    await api.move(mug, mug_one, locations["STORE"], locations["SOLD"], 2)  # SOLD rows must not count
    assert await shortcode_stock(api) == {shirt: 10, mug: 7}
    assert untracked not in await shortcode_stock(api)


async def test_a_second_store_is_part_of_the_stock(api: Api) -> None:
    locations = {loc["type"]: loc["uuid"] for loc in await old_locations(api)}
    created = await api.post("/v3/inventories", json={"name": "Warehouse"})
    assert created.status_code == 201, created.text
    product, variant = new_uuid(), new_uuid()
    await api.track(product)
    await api.move(product, variant, locations["SUPPLIER"], locations["STORE"], 3)
    await api.move(product, variant, locations["SUPPLIER"], created.json()["inventoryUuid"], 5)
    assert await shortcode_stock(api) == {product: 8}
