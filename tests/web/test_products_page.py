"""The Products page: list and search the library, create and edit products in a form (prices as
decimals, errors beside their fields, nothing written on error), a stale edit refused, delete, and
tracking started or stopped from the page."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from stockledger.domain.accounts import Role
from stockledger.store.db import Database
from stockledger.web import product_pages
from tests.api.test_route_security import org_checksum
from tests.conftest import new_uuid
from tests.web.conftest import Ui, add_person, csrf_of, sign_in

PRODUCTS = "/organizations/self/products"


async def add_product(ui: Ui, name: str, *variants: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {
        "uuid": new_uuid(),
        "name": name,
        "variants": [{"uuid": new_uuid(), **v} for v in variants],
        **extra,
    }
    response = await ui.api.post(PRODUCTS, json=body)
    assert response.status_code == 201, response.text
    return body


async def stored(ui: Ui, product: str) -> dict[str, Any]:
    response = await ui.api.get(f"{PRODUCTS}/{product}")
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


async def tracked(ui: Ui, product: str) -> bool:
    return product in (await ui.api.get("/inventory")).json()["trackedProducts"]


def form_of(page_html: str) -> dict[str, str]:
    """The values of a page's product form, as a browser would post them (checkboxes unchecked)."""
    section = page_html[page_html.index('<form method="post" action="/ui/products') :]
    section = section[: section.index("</form>")]
    values = dict(re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', section))
    values = {k: v for k, v in values.items() if not k.endswith("_remove")}
    description = re.search(r'<textarea[^>]*name="description"[^>]*>(.*?)</textarea>', section, re.S)
    values["description"] = description.group(1) if description else ""
    return values


async def post_form(ui: Ui, path: str, **fields: str) -> Any:
    page = await ui.client.get(path)
    assert page.status_code == 200, page.text
    data = {**form_of(page.text), **fields}
    return await ui.client.post(path, data=data)


async def test_the_list_shows_each_products_variants_prices_and_tracking(ui: Ui) -> None:
    tee = await add_product(
        ui,
        "T-shirt",
        {
            "name": "Small",
            "sku": "TEE-S",
            "barcode": "7310000000011",
            "price": {"amount": 19900, "currencyId": "SEK"},
        },
        {"name": "Large", "sku": "TEE-L"},
    )
    await add_product(ui, "Mug <b>", {"name": "Blue", "price": {"amount": 5050, "currencyId": "EUR"}})
    await ui.api.track(tee["uuid"])
    page = await ui.client.get("/ui/products")
    assert page.status_code == 200
    html = page.text
    assert '<a href="/ui/products" aria-current="page">Products</a>' in html
    assert 'Products <span class="muted">(2)</span>' in html
    tee_card = html[html.index(f'data-product="{tee["uuid"]}"') :].split("</li>", 1)[0]
    for text in (
        "T-shirt",
        "Small",
        "TEE-S",
        "7310000000011",
        "199.00 SEK",
        "Large",
        "TEE-L",
        "Stock tracked",
    ):
        assert text in tee_card, text
    assert "Stop tracking" in tee_card
    assert "Mug &lt;b&gt;" in html and "Mug <b>" not in html
    assert "50.50 EUR" in html
    assert html.count("Stock not tracked") == 1


async def test_search_finds_products_by_name_sku_and_barcode(ui: Ui) -> None:
    await add_product(ui, "Olive oil", {"name": "500 ml", "sku": "OIL-5", "barcode": "7310000000028"})
    await add_product(ui, "Coffee beans", {"name": "1 kg", "sku": "COF-1K", "barcode": "7310000000035"})
    for query, expected, absent in (
        ("olive", "Olive oil", "Coffee beans"),
        ("cof-1", "Coffee beans", "Olive oil"),
        ("7310000000028", "Olive oil", "Coffee beans"),
    ):
        html = (await ui.client.get("/ui/products", params={"q": query})).text
        assert expected in html and absent not in html, query
    html = (await ui.client.get("/ui/products", params={"q": "nothing-like-it"})).text
    assert "No product matches “nothing-like-it”." in html


async def test_the_list_pages_through_every_product_once(ui: Ui, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(product_pages, "PAGE_SIZE", 2)
    names = [f"Product {i}" for i in range(5)]
    for name in names:
        await add_product(ui, name, {"name": "One"})
    seen: list[str] = []
    url: str | None = "/ui/products"
    pages = 0
    while url:
        html = (await ui.client.get(url)).text
        seen += re.findall(r'<h2><a href="/ui/products/[^"]+">([^<]+)</a></h2>', html)
        found = re.search(r'<a class="button-quiet" href="([^"]+)" rel="next">', html)
        url = found.group(1).replace("&amp;", "&") if found else None
        pages += 1
        if pages > 1:
            assert 'rel="first"' in html
    assert seen == names and pages == 3
    # A cursor that is not one shows the first page instead of an error.
    html = (await ui.client.get("/ui/products", params={"after": "garbage"})).text
    assert re.findall(r'<h2><a href="/ui/products/[^"]+">([^<]+)</a></h2>', html) == names[:2]


async def test_creating_a_product_stores_exact_prices_and_the_default_vat(ui: Ui) -> None:
    response = await post_form(
        ui,
        "/ui/products/new",
        name="Tea towel",
        description="Linen",
        v0_name="Striped",
        v0_sku="TT-S",
        v0_barcode="7310000000042",
        v0_price="19.99",
    )
    assert response.status_code == 303, response.text
    target = response.headers["location"]
    found = re.fullmatch(r"/ui/products/([0-9a-f-]{36})\?done=created", target)
    assert found
    product = await stored(ui, found.group(1))
    assert product["name"] == "Tea towel" and product["description"] == "Linen"
    assert product["vatPercentage"] == "25.0"  # the organization's rate, prefilled
    (variant,) = product["variants"]
    assert (variant["name"], variant["sku"], variant["barcode"]) == ("Striped", "TT-S", "7310000000042")
    assert variant["price"] == {"amount": 1999, "currencyId": "SEK"}
    page = await ui.client.get(target)
    assert "Product created." in page.text and 'value="19.99"' in page.text
    assert "Track stock" in page.text


async def test_a_new_product_can_get_more_variant_rows_without_javascript(ui: Ui, db: Database) -> None:
    page = await ui.client.get("/ui/products/new")
    before = await org_checksum(db, ui.api.org)
    data = {
        **form_of(page.text),
        "name": "Candle",
        "v0_name": "Vanilla",
        "v0_price": "12,50",
        "add_variant": "1",
    }
    grown = await ui.client.post("/ui/products/new", data=data)
    assert grown.status_code == 200
    assert (
        'name="v1_name"' in grown.text and 'value="Vanilla"' in grown.text and 'value="12,50"' in grown.text
    )
    assert await org_checksum(db, ui.api.org) == before  # a new row is no save
    data = {**form_of(grown.text), "v1_name": "Cedar", "v1_sku": "CAN-C", "v1_price": "9"}
    saved = await ui.client.post("/ui/products/new", data=data)
    assert saved.status_code == 303, saved.text
    product = await stored(ui, saved.headers["location"].split("/")[-1].split("?")[0])
    assert [(v["name"], v["sku"], v["price"]["amount"]) for v in product["variants"]] == [
        ("Vanilla", None, 1250),
        ("Cedar", "CAN-C", 900),
    ]


async def test_an_invalid_product_shows_each_error_beside_its_field_and_writes_nothing(
    ui: Ui, db: Database
) -> None:
    page = await ui.client.get("/ui/products/new")
    before = await org_checksum(db, ui.api.org)
    data = {
        **form_of(page.text),
        "rows": "2",
        "name": "   ",
        "vat": "250",
        "v0_name": "Small",
        "v0_price": "12.345",
        "v1_name": "Large",
        "v1_sku": "S" * 65,
        "v1_price": "1",
        "v1_currency": "SEK",
    }
    response = await ui.client.post("/ui/products/new", data=data)
    assert response.status_code == 400
    html = response.text
    for field, message in (
        ("name", "The name must not be blank."),
        ("vat", "The VAT rate must be a number from 0 to 100."),
        ("v0_price", "The price must have at most 2 decimals in SEK."),
        ("v1_sku", "The SKU must be at most 64 characters."),
    ):
        assert f'<p class="error" id="{field}-error">{message}</p>' in html, field
        assert f'aria-describedby="{field}-error"' in html
    assert "Nothing was saved" in html
    assert 'value="Large"' in html and 'value="12.345"' in html  # what was typed stays
    assert await org_checksum(db, ui.api.org) == before
    assert (await ui.api.get(f"{PRODUCTS}/v2/count")).json() == {"productCount": 0}


async def test_editing_changes_adds_and_removes_variants(ui: Ui) -> None:
    body = await add_product(
        ui,
        "Coffee",
        {
            "name": "250 g",
            "sku": "COF-250",
            "price": {"amount": 8900, "currencyId": "SEK"},
            "unitName": "bag",
        },
        {"name": "1 kg", "sku": "COF-1K", "barcode": "7310000000059"},
        vatPercentage="12",
    )
    keep, drop = (v["uuid"] for v in body["variants"])
    path = f"/ui/products/{body['uuid']}"
    page = await ui.client.get(path)
    assert 'value="89.00"' in page.text and 'value="12"' in page.text
    grown = await ui.client.post(path, data={**form_of(page.text), "add_variant": "1"})
    assert grown.status_code == 200 and 'name="v2_name"' in grown.text
    data = {
        **form_of(grown.text),
        "name": "Coffee beans",
        "description": "Single origin",
        "v0_price": "92.5",
        "v0_barcode": "",
        "v1_remove": "1",
        "v2_name": "500 g",
        "v2_sku": "COF-500",
    }
    response = await ui.client.post(path, data=data)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{path}?done=saved"
    product = await stored(ui, body["uuid"])
    assert product["name"] == "Coffee beans" and product["description"] == "Single origin"
    assert product["vatPercentage"] == "12.0"
    first, added = product["variants"]
    assert first["uuid"] == keep and drop != added["uuid"]
    assert first["price"] == {"amount": 9250, "currencyId": "SEK"} and first["unitName"] == "bag"
    assert (added["name"], added["sku"], added["price"]) == ("500 g", "COF-500", None)


async def test_an_edit_of_a_product_changed_meanwhile_is_refused_and_overwrites_nothing(
    ui: Ui, db: Database
) -> None:
    body = await add_product(ui, "Mug", {"name": "Blue", "sku": "MUG-B"})
    path = f"/ui/products/{body['uuid']}"
    opened = await ui.client.get(path)
    # Someone else renames it after the form was opened.
    patch = {"name": "Mug (renamed elsewhere)"}
    assert (await ui.api.put(f"{PRODUCTS}/v2/{body['uuid']}", json=patch)).status_code == 200
    before = await org_checksum(db, ui.api.org)
    response = await ui.client.post(path, data={**form_of(opened.text), "name": "My mug", "v0_sku": "MUG-1"})
    assert response.status_code == 409
    assert "this product was changed elsewhere after you opened it" in response.text
    assert f'<a href="{path}">Reload the product</a>' in response.text
    assert 'value="My mug"' in response.text  # what was typed is still there to copy
    assert await org_checksum(db, ui.api.org) == before
    product = await stored(ui, body["uuid"])
    assert product["name"] == "Mug (renamed elsewhere)" and product["variants"][0]["sku"] == "MUG-B"
    # After a reload the change goes through.
    assert (await post_form(ui, path, name="My mug")).status_code == 303
    assert (await stored(ui, body["uuid"]))["name"] == "My mug"


async def test_an_edit_without_an_etag_overwrites_nothing(ui: Ui) -> None:
    body = await add_product(ui, "Lamp", {"name": "Brass"})
    path = f"/ui/products/{body['uuid']}"
    page = await ui.client.get(path)
    response = await ui.client.post(path, data={**form_of(page.text), "etag": "", "name": "Lamp 2"})
    assert response.status_code == 409
    assert (await stored(ui, body["uuid"]))["name"] == "Lamp"


async def test_a_variant_of_another_product_is_refused_on_its_row(ui: Ui, db: Database) -> None:
    other = await add_product(ui, "Other", {"name": "Theirs"})
    mine = await add_product(ui, "Mine", {"name": "Ours"})
    path = f"/ui/products/{mine['uuid']}"
    page = await ui.client.get(path)
    before = await org_checksum(db, ui.api.org)
    data = {**form_of(page.text), "rows": "2", "v1_uuid": other["variants"][0]["uuid"], "v1_name": "Stolen"}
    response = await ui.client.post(path, data=data)
    assert response.status_code == 400
    assert '<p class="error" id="v1-error">This variant belongs to another product.</p>' in response.text
    assert await org_checksum(db, ui.api.org) == before


async def test_the_last_variant_cannot_be_removed(ui: Ui) -> None:
    body = await add_product(ui, "Solo", {"name": "Only"})
    response = await post_form(ui, f"/ui/products/{body['uuid']}", v0_remove="1")
    assert response.status_code == 400
    assert "Keep at least one variant" in response.text
    assert len((await stored(ui, body["uuid"]))["variants"]) == 1


async def test_prices_follow_the_organizations_currency(ui: Ui) -> None:
    token = await ui.csrf("/ui/settings")
    settings = await ui.client.post(
        "/ui/settings", data={"csrf_token": token, "currency": "JPY", "vat_percentage": "10"}
    )
    assert settings.status_code == 303
    page = await ui.client.get("/ui/products/new")
    assert "Price (JPY)" in page.text and 'id="vat" name="vat" value="10"' in page.text
    refused = await post_form(ui, "/ui/products/new", name="Tea", v0_price="1.5")
    assert refused.status_code == 400 and "JPY has no minor unit" in refused.text
    created = await post_form(ui, "/ui/products/new", name="Tea", v0_price="1500")
    assert created.status_code == 303
    product = await stored(ui, created.headers["location"].split("/")[-1].split("?")[0])
    assert product["variants"][0]["price"] == {"amount": 1500, "currencyId": "JPY"}
    assert product["vatPercentage"] == "10.0"


async def test_delete_asks_first_then_removes_the_product_and_keeps_its_stock(ui: Ui) -> None:
    body = await add_product(ui, "Beeswax candle", {"name": "Vanilla"})
    product, variant = body["uuid"], body["variants"][0]["uuid"]
    await ui.api.track(product)
    locs = await ui.api.locations()
    assert (await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 4)).status_code == 200
    confirm = await ui.client.get(f"/ui/products/{product}/delete")
    assert confirm.status_code == 200
    assert "Delete Beeswax candle?" in confirm.text and "Stock is not touched" in confirm.text
    response = await ui.client.post(
        f"/ui/products/{product}/delete", data={"csrf_token": csrf_of(confirm.text)}
    )
    assert response.status_code == 303 and response.headers["location"] == "/ui/products?done=deleted"
    assert "Product deleted." in (await ui.client.get("/ui/products?done=deleted")).text
    assert (await ui.api.get(f"{PRODUCTS}/{product}")).status_code == 404
    inventory = (await ui.api.get("/inventory")).json()
    assert [v["balance"] for v in inventory["variants"] if v["variantUuid"] == variant] == ["4"]
    assert (await ui.client.get(f"/ui/products/{product}")).status_code == 404


async def test_tracking_starts_and_stops_from_the_list_and_returns_there(ui: Ui) -> None:
    body = await add_product(ui, "Flour", {"name": "1 kg"})
    product = body["uuid"]
    token = await ui.csrf("/ui/products")
    back = "/ui/products?q=flour"
    started = await ui.client.post(
        f"/ui/products/{product}/tracking", data={"csrf_token": token, "tracked": "1", "back": back}
    )
    assert started.status_code == 303 and started.headers["location"] == "/ui/products?q=flour&done=tracking"
    assert await tracked(ui, product)
    listed = (await ui.client.get(started.headers["location"])).text
    assert "Stock of this product is tracked now." in listed and "Stop tracking" in listed
    stopped = await ui.client.post(
        f"/ui/products/{product}/tracking",
        data={"csrf_token": token, "tracked": "0", "back": "https://evil.example/"},
    )
    assert stopped.status_code == 303
    assert stopped.headers["location"] == f"/ui/products/{product}?done=untracked"  # never off the site
    assert not await tracked(ui, product)
    again = await ui.client.post(
        f"/ui/products/{product}/tracking", data={"csrf_token": token, "tracked": "0"}
    )
    assert again.status_code == 303  # stopping what is not tracked changes nothing and is no error
    page = (await ui.client.get(f"/ui/products/{product}")).text
    assert "Track stock" in page and "Stock not tracked" in page


async def test_product_forms_need_the_csrf_token_and_change_nothing_without_it(ui: Ui, db: Database) -> None:
    body = await add_product(ui, "Rice", {"name": "2 kg"})
    product = body["uuid"]
    before = await org_checksum(db, ui.api.org)
    for path, data in (
        ("/ui/products/new", {"name": "Forged", "rows": "1", "v0_name": "x"}),
        (f"/ui/products/{product}", {"name": "Forged", "rows": "1", "v0_uuid": body["variants"][0]["uuid"]}),
        (f"/ui/products/{product}/delete", {}),
        (f"/ui/products/{product}/tracking", {"tracked": "1"}),
    ):
        for token in ({}, {"csrf_token": "guessed"}):
            response = await ui.client.post(path, data={**data, **token})
            assert response.status_code == 403, path
    assert await org_checksum(db, ui.api.org) == before


async def test_a_read_only_person_sees_products_but_cannot_change_them(ui: Ui, db: Database) -> None:
    body = await add_product(ui, "Salt", {"name": "500 g"})
    reader = await add_person(db, ui.api.org, Role.READ_ONLY)
    ui.client.cookies.clear()
    assert (await sign_in(ui.client, reader.email)).status_code == 303
    listed = await ui.client.get("/ui/products")
    assert listed.status_code == 200 and "Salt" in listed.text
    assert "Create product" not in listed.text and "Track stock" not in listed.text
    assert (await ui.client.get("/ui/products/new")).status_code == 403
    page = await ui.client.get(f"/ui/products/{body['uuid']}")
    assert page.status_code == 200
    assert "Save product" not in page.text and "Track stock" not in page.text
    assert "may read products but not change them" in page.text
    before = await org_checksum(db, ui.api.org)
    response = await ui.client.post(
        f"/ui/products/{body['uuid']}", data={**form_of(page.text), "name": "Pepper"}
    )
    assert response.status_code == 403
    assert await org_checksum(db, ui.api.org) == before


async def test_unknown_products_show_the_404_page(ui: Ui) -> None:
    for path in (
        f"/ui/products/{new_uuid()}",
        "/ui/products/not-a-uuid",
        f"/ui/products/{new_uuid()}/delete",
    ):
        response = await ui.client.get(path)
        assert response.status_code == 404 and "Page not found" in response.text, path


async def test_another_organizations_session_neither_sees_nor_changes_these_products(
    app: Any, ui: Ui, other_api: Any, db: Database
) -> None:
    body = await add_product(
        ui, "Secret recipe", {"name": "Jar", "sku": "SECRET-1", "barcode": "7310000000301"}
    )
    product = body["uuid"]
    before = await org_checksum(db, ui.api.org)
    await other_api.locations()
    stranger = await add_person(db, other_api.org, Role.OWNER)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://stockledger.test") as browser:
        assert (await sign_in(browser, stranger.email)).status_code == 303
        for path in ("/ui/products", "/ui/products?q=secret", "/ui/adjust/variants?find=SECRET-1"):
            page = await browser.get(path)
            assert page.status_code == 200 and "Secret recipe" not in page.text, path
        assert (
            await browser.get("/ui/adjust", params={"find": "7310000000301"})
        ).status_code == 200  # no match
        for path in (f"/ui/products/{product}", f"/ui/products/{product}/delete"):
            assert (await browser.get(path)).status_code == 404, path
        token = csrf_of((await browser.get("/ui/products")).text)
        form = {"csrf_token": token, "name": "Taken", "rows": "1", "v0_uuid": body["variants"][0]["uuid"]}
        for path, data in (
            (f"/ui/products/{product}", form),
            (f"/ui/products/{product}/delete", {"csrf_token": token}),
        ):
            assert (await browser.post(path, data=data)).status_code == 404, path
    assert await org_checksum(db, ui.api.org) == before
