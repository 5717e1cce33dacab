"""Several stores in the back office: switching stores, transfers between them, counts with conflicts."""

from __future__ import annotations

import re

from tests.api.low_stock_support import put
from tests.conftest import Api
from tests.web.conftest import Ui, csrf_of


async def new_store(api: Api, name: str) -> str:
    response = await api.post("/organizations/self/locations", json={"name": name})
    assert response.status_code in (200, 201), response.text
    uuid: str = response.json()["uuid"]
    return uuid


async def balance(api: Api, location: str, variant: str) -> str | None:
    body = (await api.get(f"/organizations/self/inventory/locations/{location}")).json()
    return next((v["balance"] for v in body["variants"] if v["variantUuid"] == variant), None)


async def stocked(ui: Ui, product: str, variant: str, quantity: int) -> dict[str, str]:
    await ui.api.track(product)
    locs = await ui.api.locations()
    response = await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], quantity)
    assert response.status_code == 200, response.text
    return locs


async def test_the_overview_and_low_stock_pages_switch_between_stores(
    ui: Ui, product_variant: tuple[str, str]
) -> None:
    product, variant = product_variant
    locs = await stocked(ui, product, variant, 4)
    second = await new_store(ui.api, "Harbour <shop>")
    third = await new_store(ui.api, "Airport")
    await ui.api.move(product, variant, locs["SUPPLIER"], second, 9)
    await put(ui.api, second, product, variant, lowStockLevel=10, lowStockAlert=True)
    for path in ("/ui/stock", "/ui/low-stock"):
        default = await ui.client.get(path)
        assert default.status_code == 200
        options = re.findall(r'<option value="([0-9a-f-]{36})"', default.text)
        assert set(options) >= {locs["STORE"], second, third}
        assert "Harbour &lt;shop&gt;" in default.text
        other = await ui.client.get(f"{path}?location={second}")
        assert "<h1>" in other.text and "Harbour &lt;shop&gt;</h1>" in other.text
        assert re.search(r"data-balance>9<", other.text), path
        empty = await ui.client.get(f"{path}?location={third}")
        assert variant not in empty.text
        unknown = await ui.client.get(f"{path}?location={locs['BIN']}")
        assert unknown.status_code == 404
    default_stock = await ui.client.get("/ui/stock")
    assert re.search(r"data-balance>4<", default_stock.text)


async def test_a_transfer_moves_stock_from_one_store_to_another(
    ui: Ui, product_variant: tuple[str, str]
) -> None:
    product, variant = product_variant
    locs = await stocked(ui, product, variant, 10)
    second = await new_store(ui.api, "Harbour")
    token = csrf_of((await ui.client.get("/ui/adjust")).text)
    form = {
        "csrf_token": token,
        "action": "transfer",
        "location": locs["STORE"],
        "to_location": second,
        "product": product,
        "variant": variant,
        "quantity": "3",
    }
    response = await ui.client.post("/ui/adjust", data=form)
    assert response.status_code == 303, response.text
    assert "done=transfer" in response.headers["location"]
    assert await balance(ui.api, locs["STORE"], variant) == "7"
    assert await balance(ui.api, second, variant) == "3"
    same = await ui.client.post("/ui/adjust", data={**form, "to_location": locs["STORE"]})
    assert same.status_code == 400
    assert 'id="to_location-error"' in same.text and "another store" in same.text
    system = await ui.client.post("/ui/adjust", data={**form, "to_location": locs["BIN"]})
    assert system.status_code == 400 and 'id="to_location-error"' in system.text
    assert await balance(ui.api, locs["STORE"], variant) == "7"


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, name
    return found.group(1)


async def test_a_count_applies_against_the_balance_the_form_showed(
    ui: Ui, product_variant: tuple[str, str]
) -> None:
    product, variant = product_variant
    locs = await stocked(ui, product, variant, 10)
    form_page = await ui.client.get(f"/ui/adjust?product={product}&variant={variant}&action=count")
    assert "data-current-balance>10<" in form_page.text
    assert hidden(form_page.text, "expected") == "10"
    fields = {name: hidden(form_page.text, name) for name in ("csrf_token", "expected", "expected_key")}
    form = {**fields, "action": "count", "location": locs["STORE"], "product": product, "variant": variant}
    response = await ui.client.post("/ui/adjust", data={**form, "quantity": "8"})
    assert response.status_code == 303
    assert "done=count" in response.headers["location"]
    assert await balance(ui.api, locs["STORE"], variant) == "8"
    variant_page = (await ui.client.get(response.headers["location"])).text
    assert "Count recorded." in variant_page
    assert '<span class="tag">COUNT</span>' in variant_page  # STORE → BIN, recorded as a count


async def test_a_count_conflict_is_shown_and_applies_only_when_confirmed(
    ui: Ui, product_variant: tuple[str, str]
) -> None:
    product, variant = product_variant
    locs = await stocked(ui, product, variant, 10)
    form_page = await ui.client.get(
        f"/ui/adjust?product={product}&variant={variant}&location={locs['STORE']}"
    )
    fields = {name: hidden(form_page.text, name) for name in ("csrf_token", "expected", "expected_key")}
    await ui.api.move(product, variant, locs["STORE"], locs["SOLD"], 2)  # a sale while counting
    form = {**fields, "action": "count", "location": locs["STORE"], "product": product, "variant": variant}
    conflict = await ui.client.post("/ui/adjust", data={**form, "quantity": "7"})
    assert conflict.status_code == 409
    assert "The balance changed while you were counting" in conflict.text
    assert "data-seen-balance>10<" in conflict.text
    assert "data-current-balance>8<" in conflict.text
    assert "data-counted>7<" in conflict.text
    assert "data-difference>-1<" in conflict.text
    assert await balance(ui.api, locs["STORE"], variant) == "8"  # nothing applied
    confirm = {
        name: hidden(conflict.text, name)
        for name in (
            "csrf_token",
            "location",
            "product",
            "variant",
            "action",
            "quantity",
            "expected",
            "expected_key",
        )
    }
    assert confirm["expected"] == "8" and confirm["quantity"] == "7"
    applied = await ui.client.post("/ui/adjust", data=confirm)
    assert applied.status_code == 303
    assert await balance(ui.api, locs["STORE"], variant) == "7"


async def test_a_count_without_a_shown_balance_asks_for_confirmation_first(
    ui: Ui, product_variant: tuple[str, str]
) -> None:
    product, variant = product_variant
    locs = await stocked(ui, product, variant, 5)
    second = await new_store(ui.api, "Harbour")
    token = csrf_of((await ui.client.get("/ui/adjust")).text)
    form = {"csrf_token": token, "action": "count", "product": product, "variant": variant, "quantity": "2"}
    # The form showed the default store's balance, but the merchant switched to the other store.
    key = f"{locs['STORE']}/{product}/{variant}"
    response = await ui.client.post(
        "/ui/adjust", data={**form, "location": second, "expected": "5", "expected_key": key}
    )
    assert response.status_code == 200
    assert "Confirm the count" in response.text and "data-current-balance>0<" in response.text
    assert await balance(ui.api, second, variant) is None
    negative = await ui.client.post("/ui/adjust", data={**form, "location": second, "quantity": "-1"})
    assert negative.status_code == 400 and 'id="quantity-error"' in negative.text


async def test_transfer_and_count_posts_without_the_csrf_token_are_refused(
    ui: Ui, product_variant: tuple[str, str]
) -> None:
    product, variant = product_variant
    locs = await stocked(ui, product, variant, 5)
    second = await new_store(ui.api, "Harbour")
    base = {"location": locs["STORE"], "product": product, "variant": variant, "quantity": "1"}
    for extra in ({"action": "transfer", "to_location": second}, {"action": "count", "quantity": "0"}):
        response = await ui.client.post("/ui/adjust", data={**base, **extra, "csrf_token": "forged"})
        assert response.status_code == 403
    assert await balance(ui.api, locs["STORE"], variant) == "5"
