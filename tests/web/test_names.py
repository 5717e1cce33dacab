"""Names a shop owner understands: store names instead of type words, what the system locations'
balances mean, and who recorded each movement (a person, an API key's label, the point of sale)."""

from __future__ import annotations

import re
import uuid

import httpx

from stockledger.store.db import Database
from tests.conftest import Api
from tests.web.conftest import Ui, csrf_of, issue_key, sign_in_with_key
from tests.web.test_pages import stock_with_names


def actors_of(html: str) -> list[str]:
    """The history's "By" column, newest first."""
    return re.findall(r"data-actor>([^<]*)<", html)


async def test_the_default_store_is_called_main_store_and_custom_stores_keep_their_names(ui: Ui) -> None:
    harbour = await ui.api.post("/organizations/self/locations", json={"name": "Harbour shop"})
    assert harbour.status_code in (200, 201), harbour.text
    harbour_uuid = harbour.json()["uuid"]
    locs = await ui.api.locations()
    for path in ("/ui/stock", "/ui/low-stock"):
        html = (await ui.client.get(path)).text
        assert "<title>Stock · Main store" in html or "<title>Low stock · Main store" in html
        assert "in Main store</h1>" in html
        assert f'<option value="{locs["STORE"]}" selected>Main store (default)</option>' in html
        assert f'<option value="{harbour_uuid}">Harbour shop</option>' in html
        assert ">STORE<" not in html and "in STORE" not in html
    other = (await ui.client.get(f"/ui/stock?location={harbour_uuid}")).text
    assert "<h1>Stock in Harbour shop</h1>" in other
    for path in ("/ui/adjust", "/ui/stocktake"):
        html = (await ui.client.get(path)).text
        assert ">Main store</option>" in html and ">STORE</option>" not in html


async def test_the_variant_page_lists_stores_and_explains_the_system_balances(ui: Ui) -> None:
    made = await stock_with_names(ui, [("Lamp", "White", "LMP-W", 10)])
    product, variant = made["Lamp"]
    locs = await ui.api.locations()
    await ui.api.move(product, variant, locs["STORE"], locs["SOLD"], 3)
    await ui.api.move(product, variant, locs["STORE"], locs["BIN"], "0.5")
    html = (await ui.client.get(f"/ui/variants/{product}/{variant}")).text
    balances = dict(re.findall(r'data-location-type="(\w+)">([^<]+)<', html))
    assert balances == {"STORE": "6.5"}  # the system locations' running totals are not balances
    totals = dict(re.findall(r'data-total="(\w+)">([^<]+)<', html))
    assert totals == {"received": "10", "sold": "3", "discarded": "0.5"}
    assert "received from suppliers" in html
    assert "Main store → Discarded" in html and "Main store → Sold" in html
    assert "Suppliers → Main store" in html
    assert "SUPPLIER" not in html and "STORE →" not in html


async def test_the_history_names_people_api_keys_and_the_point_of_sale(
    ui: Ui, client: httpx.AsyncClient, db: Database
) -> None:
    made = await stock_with_names(ui, [("Mug", "Blue", "MUG-B", 20)])  # by ui.api: a token of no key
    product, variant = made["Mug"]
    locs = await ui.api.locations()
    webshop = Api(client, ui.api.org)
    await issue_key(db, ui.api.org, webshop.sub, label="Webshop")
    assert (await webshop.move(product, variant, locs["STORE"], locs["SOLD"], 1)).status_code == 200
    bare = Api(client, ui.api.org)
    bare_key, _ = await issue_key(db, ui.api.org, bare.sub)
    assert (await bare.move(product, variant, locs["STORE"], locs["SOLD"], 1)).status_code == 200
    sale = {
        "purchaseUuid": str(uuid.uuid4()),
        "products": [{"productUuid": product, "variantUuid": variant, "quantity": "2"}],
    }
    assert (await ui.api.post("/organizations/self/purchases", json=sale)).status_code == 200
    token = await ui.csrf()
    form = {"csrf_token": token, "action": "discard", "location": locs["STORE"], "product": product,
            "variant": variant, "quantity": "1"}  # fmt: skip
    assert (await ui.client.post("/ui/adjust", data=form)).status_code == 303
    html = (await ui.client.get(f"/ui/variants/{product}/{variant}")).text
    assert actors_of(html) == [
        "Olga Owner",
        "Point of sale",
        f"API key {bare_key}",
        "Webshop",
        f"API user {ui.api.sub[:8]}",
    ]
    assert f'title="{webshop.sub}"' in html  # the ledger's own actor stays at hand


async def test_a_session_opened_with_a_labelled_key_is_named_by_the_label(
    ui: Ui, key_client: httpx.AsyncClient, db: Database
) -> None:
    made = await stock_with_names(ui, [("Jar", "Small", "JAR-S", 4)])
    product, variant = made["Jar"]
    _, key = await issue_key(db, ui.api.org, str(uuid.uuid4()), label="Till 2 script")
    assert (await sign_in_with_key(key_client, key)).status_code == 303
    page = await key_client.get("/ui/stock")
    assert "Till 2 script · org" in page.text
    locs = await ui.api.locations()
    form = {"csrf_token": csrf_of(page.text), "action": "sale", "location": locs["STORE"], "product": product,
            "variant": variant, "quantity": "1"}  # fmt: skip
    assert (await key_client.post("/ui/adjust", data=form)).status_code == 303
    html = (await ui.client.get(f"/ui/variants/{product}/{variant}")).text
    assert actors_of(html)[0] == "Till 2 script"
