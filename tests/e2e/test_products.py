"""Products and adjusting by picking, in a real headless Chromium: create a product in the form,
find a variant as you type and choose it with the keyboard, a barcode scanner's code + Enter,
start tracking from the adjust form, and every new page at 360 px wide."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import IN_CI, sign_in
from tests.e2e.server import Server

if IN_CI:
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def library_product(
    server: Server, name: str, variants: list[dict[str, Any]], *, track: bool
) -> tuple[str, list[str]]:
    """A product created through the Product Library API (as an integration would); returns the UUIDs."""
    body = {
        "uuid": str(uuid.uuid4()),
        "name": name,
        "variants": [{"uuid": str(uuid.uuid4()), **v} for v in variants],
    }
    with server.api() as api:
        api.post("/organizations/self/products", json=body).raise_for_status()
        if track:
            api.post("/organizations/self/inventory", json={"productUuid": body["uuid"]}).raise_for_status()
    return body["uuid"], [v["uuid"] for v in body["variants"]]


def store_balance(server: Server, variant: str) -> str | None:
    with server.api() as api:
        inventory = api.get("/organizations/self/inventory").json()["variants"]
    return next((v["balance"] for v in inventory if v["variantUuid"] == variant), None)


def test_a_product_is_created_with_two_variants_and_tracked_from_its_page(page: Any, server: Server) -> None:
    sign_in(page, server)
    page.get_by_role("link", name="Products").click()
    page.get_by_role("link", name="Create product").click()
    page.get_by_label("Name", exact=True).fill("Stoneware bowl")
    page.get_by_label("Variant name").fill("Small")
    page.get_by_label("SKU").fill("BOWL-S")
    page.get_by_label("Price (SEK)").fill("149.50")
    page.get_by_role("button", name="Add a variant").click()
    expect(page.locator("#v1_name")).to_be_focused()
    page.keyboard.type("Large")
    page.locator("#v1_sku").fill("BOWL-L")
    page.locator("#v1_barcode").fill("7310000000202")
    page.locator("#v1_price").fill("199")
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("status")).to_have_text("Product created.")
    expect(page.locator("#v1_price")).to_have_value("199.00")
    page.get_by_role("button", name="Track stock").click()
    expect(page.get_by_role("status")).to_have_text("Stock of this product is tracked now.")
    expect(page.locator("[data-tracked]").first).to_be_visible()
    page.get_by_role("link", name="← Products").click()
    page.get_by_label("Search").fill("7310000000202")
    page.get_by_label("Search").press("Enter")
    card = page.locator("li.product")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Stoneware bowl")
    expect(card).to_contain_text("149.50 SEK")
    expect(card).to_contain_text("Stock tracked")


def test_the_type_ahead_lists_matches_and_the_keyboard_chooses_one(page: Any, server: Server) -> None:
    product, (_small, large) = library_product(
        server,
        "Cold-pressed olive oil",
        [{"name": "500 ml", "sku": "OLIVE-5"}, {"name": "1 l", "sku": "OLIVE-10"}],
        track=True,
    )
    sign_in(page, server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Adjust stock").click()
    field = page.get_by_label("Product", exact=True)
    expect(field).to_be_focused()
    field.press_sequentially("olive", delay=30)
    matches = page.locator("#picker-results a[data-choice]")
    expect(matches).to_have_count(2)
    expect(matches.first).to_contain_text("Cold-pressed olive oil · 500 ml")
    field.press("ArrowDown")
    expect(matches.first).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(matches.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"variant={large}"))
    expect(page.locator("[data-chosen]")).to_contain_text("Cold-pressed olive oil · 1 l")
    expect(page.get_by_label("Quantity")).to_be_focused()
    page.keyboard.type("8")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_have_text("Stock received.")
    assert store_balance(server, large) == "8"
    assert product in page.url


def test_a_scanner_types_the_barcode_and_enter_and_the_variant_is_chosen(page: Any, server: Server) -> None:
    _, (_, five) = library_product(
        server,
        "Rye flour",
        [{"name": "1 kg", "barcode": "7310000000219"}, {"name": "5 kg", "barcode": "7310000000226"}],
        track=True,
    )
    sign_in(page, server)
    page.goto("/ui/adjust")
    page.get_by_label("Record a sale").check()
    page.get_by_label("Product", exact=True).focus()
    page.keyboard.type("7310000000226", delay=2)  # a scanner types fast, then Enter
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(f"variant={five}"))
    expect(page.locator("[data-chosen]")).to_contain_text("Rye flour · 5 kg")
    expect(page.locator("[data-chosen]")).to_contain_text("Barcode 7310000000226")


def test_the_scanner_and_the_search_work_without_javascript(browser: Any, server: Server) -> None:
    _, (jar,) = library_product(
        server, "Heather honey", [{"name": "Jar", "barcode": "7310000000233"}], track=True
    )
    context = browser.new_context(base_url=server.base_url, java_script_enabled=False)
    tab = context.new_page()
    try:
        sign_in(tab, server)
        tab.goto("/ui/adjust")
        tab.get_by_label("Product", exact=True).fill("heather")
        tab.get_by_role("button", name="Find").click()
        expect(tab.locator("#picker-results a[data-choice]")).to_have_count(1)
        tab.get_by_label("Product", exact=True).fill("7310000000233")
        tab.get_by_label("Product", exact=True).press("Enter")
        expect(tab).to_have_url(re.compile(f"variant={jar}"))
        expect(tab.locator("[data-chosen]")).to_contain_text("Heather honey · Jar")
    finally:
        context.close()


def test_an_untracked_product_is_tracked_from_the_adjust_form(page: Any, server: Server) -> None:
    _, (bar,) = library_product(
        server, "Goat milk soap", [{"name": "Bar", "barcode": "7310000000240"}], track=False
    )
    sign_in(page, server)
    page.goto("/ui/adjust")
    page.get_by_label("Product", exact=True).fill("7310000000240")
    page.get_by_label("Product", exact=True).press("Enter")
    expect(page.locator("[data-untracked]")).to_contain_text("not tracked yet")
    page.get_by_role("button", name="Start tracking").click()
    expect(page.get_by_role("status")).to_contain_text("tracked now")
    expect(page.locator("[data-untracked]")).to_have_count(0)
    page.get_by_label("Quantity").fill("12")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_have_text("Stock received.")
    assert store_balance(server, bar) == "12"


def test_the_new_pages_fit_a_360_px_phone(browser: Any, server: Server) -> None:
    long_code = "7310000000257731000000025773100000002577310000000257"
    product, _ = library_product(
        server,
        "Hand-thrown stoneware serving bowl with a rather long product name",
        [
            {
                "name": "Extra large, speckled glaze",
                "sku": "BOWL-XL-SPECKLED-GLAZE-2024",
                "barcode": long_code,
                "price": {"amount": 129900, "currencyId": "SEK"},
            },
            {"name": "Small", "sku": "BOWL-S"},
        ],
        track=False,
    )
    context = browser.new_context(base_url=server.base_url, viewport={"width": 360, "height": 740})
    phone = context.new_page()
    try:
        sign_in(phone, server)
        for path in (
            "/ui/products",
            "/ui/products?q=bowl",
            "/ui/products/new",
            f"/ui/products/{product}",
            f"/ui/products/{product}/delete",
            "/ui/adjust?find=serving",
            f"/ui/adjust?find={long_code}",
        ):
            phone.goto(path)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, (path, width)
        phone.goto("/ui/adjust")
        phone.get_by_label("Product", exact=True).press_sequentially("serving", delay=20)
        expect(phone.locator("#picker-results a[data-choice]")).to_have_count(2)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()
