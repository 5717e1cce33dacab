"""Counts with a conflict, a stocktake upload and low stock, in a real headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import IN_CI, sign_in
from tests.e2e.server import Server

if IN_CI:
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect


def locations(server: Server) -> dict[str, str]:
    with server.api() as api:
        return {loc["type"]: loc["uuid"] for loc in api.get("/organizations/self/locations").json()}


def test_a_count_conflict_is_shown_and_resolved(page: Any, server: Server) -> None:
    product, (variant,) = server.add_product("Olive oil", [("500 ml", "OIL-5", 10)])
    locs = locations(server)
    sign_in(page, server)
    page.goto(f"/ui/adjust?product={product}&variant={variant}&action=count")
    expect(page.locator("[data-current-balance]")).to_have_text("10")
    page.get_by_label("Quantity").fill("7")
    # Someone sells two while the merchant is still counting.
    with server.api() as api:
        change = {
            "productUuid": product,
            "variantUuid": variant,
            "fromLocationUuid": locs["STORE"],
            "toLocationUuid": locs["SOLD"],
            "change": 2,
        }
        api.put("/organizations/self/inventory", json={"changes": [change]}).raise_for_status()
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("heading", name="The balance changed while you were counting")).to_be_visible()
    expect(page.locator("[data-seen-balance]")).to_have_text("10")
    expect(page.locator("[data-current-balance]")).to_have_text("8")
    expect(page.locator("[data-counted]")).to_have_text("7")
    expect(page.locator("[data-difference]")).to_have_text("-1")
    page.get_by_role("button", name="Apply the count against the new balance").click()
    expect(page.get_by_role("status")).to_have_text("Count recorded.")
    expect(page.locator('[data-location-type="STORE"]')).to_have_text("7")


def test_a_stocktake_file_is_previewed_then_applied(page: Any, server: Server) -> None:
    product, (small, _large) = server.add_product("Flour", [("1 kg", "FL-1", 10), ("5 kg", "FL-5", 4)])
    sign_in(page, server)
    page.get_by_role("link", name="Stocktake").click()
    csv_text = f"productUuid,variantUuid,sku,balance\n{product},{small},,12\n,,FL-5,4\n"
    page.get_by_label("CSV file").set_input_files(
        {"name": "counts.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Stocktake of Main store")).to_be_visible()
    expect(page.locator("[data-rows]")).to_have_text("2")
    expect(page.locator("[data-differences]")).to_have_text("1")
    row = page.locator("table.differences tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Flour")
    expect(row.locator("[data-current]")).to_have_text("10")
    expect(row.locator("[data-delta]")).to_have_text("+2")
    page.get_by_role("button", name="Apply 2 counts").click()
    expect(page.locator("[data-applied]")).to_contain_text("Applied: 2 counts, 1 differences")
    page.goto(f"/ui/variants/{product}/{small}")
    expect(page.locator('[data-location-type="STORE"]')).to_have_text("12")


def test_a_stocktake_file_with_a_bad_row_cannot_be_applied(page: Any, server: Server) -> None:
    product, (variant,) = server.add_product("Rice", [("2 kg", "RICE-2", 6)])
    sign_in(page, server)
    page.goto("/ui/stocktake")
    csv_text = f"productUuid,variantUuid,balance\n{product},{variant},3\n{product},{variant},x\n"
    page.get_by_label("CSV file").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}
    )
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("#file-error")).to_contain_text("1 rows cannot be counted")
    expect(page.locator("[data-line]")).to_have_text(["3"])
    expect(page.get_by_role("button", name="Apply", exact=False)).to_have_count(0)
    page.goto(f"/ui/variants/{product}/{variant}")
    expect(page.locator('[data-location-type="STORE"]')).to_have_text("6")


def test_low_stock_shows_what_the_alert_on_the_variant_page_flags(page: Any, server: Server) -> None:
    product, (variant,) = server.add_product("Matches", [("Box of 50", "MATCH-50", 3)])
    sign_in(page, server)
    page.goto(f"/ui/variants/{product}/{variant}")
    page.get_by_label("Level").fill("-4")
    page.get_by_role("button", name="Save alert").click()
    expect(page.locator("#level-error")).to_contain_text("cannot be negative")
    page.get_by_label("Level").fill("4")
    page.get_by_label("Alert when stock runs low").check()
    page.get_by_role("button", name="Save alert").click()
    expect(page.get_by_role("status")).to_have_text("Low-stock alert saved.")
    page.get_by_role("link", name="Low stock").click()
    row = page.get_by_role("row").filter(has_text="Matches")
    expect(row).to_contain_text("Box of 50")
    expect(row.locator("[data-balance]")).to_have_text("3")
    expect(row.locator("[data-level]")).to_have_text("4")


def test_the_new_pages_fit_a_phone_width_screen(browser: Any, server: Server) -> None:
    context = browser.new_context(base_url=server.base_url, viewport={"width": 375, "height": 740})
    phone = context.new_page()
    try:
        sign_in(phone, server)
        for path in ("/ui/low-stock", "/ui/stocktake", "/ui/webhooks"):
            phone.goto(path)
            overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (path, overflow)
    finally:
        context.close()
