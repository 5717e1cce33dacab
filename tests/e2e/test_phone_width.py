"""Every back-office page fits a 360 px wide phone screen, with data in its tables (tables may
scroll inside their own frame; the page itself never scrolls sideways)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import IN_CI, sign_in
from tests.e2e.server import Server, receiver, running_server, subscribe, wait_for_deliveries

if IN_CI:
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect

PHONE = {"width": 360, "height": 740}
LONG = "Hand-thrown stoneware serving bowl with a deliberately long product name"


@pytest.fixture(scope="module")
def delivering(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, list[str]]]:
    """A server that delivers webhooks to a local receiver (so the webhooks page has deliveries),
    and its two subscriptions."""
    env = {"STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE": "1", "STOCKLEDGER_DISPATCHER": "1"}
    with (
        receiver() as hooks,
        running_server(Path(tmp_path_factory.mktemp("phone")), extra_env=env) as running,
    ):
        yield running, subscribe(running, hooks + "/a/rather/long/path/for/the/webhook/destination/of/a/shop")


def fits(page: Any, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what} is {width} px wide in a {PHONE['width']} px screen"


def test_every_page_fits_a_360_px_screen(browser: Any, delivering: tuple[Server, list[str]]) -> None:
    server, subs = delivering
    product, variants = server.add_product(LONG, [("Speckled oatmeal glaze, large", "BOWL-OAT-L-2024", 40),
                                                  ("Midnight blue", "BOWL-BLU-L", 3)])  # fmt: skip
    variant = variants[0]
    with server.api() as api:
        locs = {loc["type"]: loc["uuid"] for loc in api.get("/organizations/self/locations").json()}
        api.post(
            "/organizations/self/locations", json={"name": "Harbour shop on the long pier"}
        ).raise_for_status()
        for i in range(30):  # enough history for an older page
            change = {"productUuid": product, "variantUuid": variant, "fromLocationUuid": locs["STORE"],
                      "toLocationUuid": locs["SOLD"], "change": 1}  # fmt: skip
            body = {"changes": [change], "externalUuid": f"till-7/receipt-{i:05d}-{'x' * 24}"}
            api.put("/organizations/self/inventory", json=body).raise_for_status()
        alert = {
            "productUuid": product,
            "variantUuid": variants[1],
            "lowStockAlert": True,
            "lowStockLevel": "5",
        }
        api.post(
            f"/custom-low-stock/locations/{locs['STORE']}", json={"requests": [alert]}
        ).raise_for_status()
    wait_for_deliveries(server, subs)

    context = browser.new_context(base_url=server.base_url, viewport=PHONE, has_touch=True, is_mobile=True)
    context.set_default_timeout(10_000)
    phone = context.new_page()
    try:
        phone.goto("/ui/signin")
        fits(phone, "the sign-in page")
        sign_in(phone, server)
        variant_page = f"/ui/variants/{product}/{variant}"
        pages = {
            "the stock page": "/ui/stock",
            "the low-stock page": "/ui/low-stock",
            "the variant page with its chart": variant_page,
            "the variant's older history": None,
            "the adjust page": f"/ui/adjust?product={product}&variant={variant}",
            "the stocktake page": "/ui/stocktake",
            "the settings page": "/ui/settings",
            "the webhooks page": "/ui/webhooks",
            "the people page": "/ui/people",
            "the account page": "/ui/account",
            "the error page": "/ui/no/such/page",
        }
        for what, path in pages.items():
            if path is None:
                phone.goto(variant_page)
                path = phone.get_by_role("link", name="Older →").get_attribute("href")
            phone.goto(path)
            fits(phone, what)
        phone.goto(variant_page)
        expect(phone.locator("[data-chart] canvas")).to_have_count(1)
        phone.goto("/ui/webhooks")
        expect(phone.get_by_role("button", name=re.compile("Redeliver")).first).to_be_visible()

        phone.goto("/ui/stocktake")
        counts = b"sku,balance\nBOWL-OAT-L-2024,12\nBOWL-BLU-L,1\n"
        phone.get_by_label("CSV file").set_input_files(
            {"name": "shelf.csv", "mimeType": "text/csv", "buffer": counts}
        )
        phone.get_by_role("button", name="Upload and preview").click()
        phone.wait_for_url("**/ui/stocktake/*")
        fits(phone, "the stocktake preview")

        # the variant chosen (as the picker leaves it); a sale meanwhile makes the count ask again
        phone.goto(f"/ui/adjust?action=count&product={product}&variant={variant}")
        fits(phone, "the adjust form with a variant chosen")
        phone.get_by_label("Quantity").fill("9")
        with server.api() as api:
            sale = {"productUuid": product, "variantUuid": variant, "fromLocationUuid": locs["STORE"],
                    "toLocationUuid": locs["SOLD"], "change": 1}  # fmt: skip
            api.put("/organizations/self/inventory", json={"changes": [sale]}).raise_for_status()
        phone.get_by_role("button", name="Record").click()
        expect(
            phone.get_by_role("heading", name="The balance changed while you were counting")
        ).to_be_visible()
        fits(phone, "the count confirmation")

        phone.goto("/ui/stock")
        phone.keyboard.press("Tab")
        expect(phone.get_by_role("link", name="Skip to content")).to_be_focused()
    finally:
        context.close()
