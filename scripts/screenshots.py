"""Start stockledger with demo data, sign in with headless Chromium and save PNGs of each back-office page.

Usage: `make screenshots` (writes docs/screenshots/*.png). Needs /usr/bin/chromium and the test extras.
"""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, sign_in  # noqa: E402
from tests.e2e.server import Server, receiver, running_server, subscribe, wait_for_deliveries  # noqa: E402

OUT = ROOT / "docs" / "screenshots"

CATALOG = [
    ("Organic cotton T-shirt", [("Small", "TEE-S", 24), ("Medium", "TEE-M", 31), ("Large", "TEE-L", 18)]),
    ("Ceramic mug", [("Blue", "MUG-B", 40), ("Sand", "MUG-S", 0)]),
    ("Single-origin coffee beans", [("250 g", "COF-250", 56), ("1 kg", "COF-1K", 9)]),
    ("Beeswax candle", [("Vanilla", "CAN-V", 12), ("Cedar", "CAN-C", 7)]),
    ("Linen tea towel", [("Striped", "TT-S", 15)]),
    ("Loose-leaf green tea", [("100 g", "TEA-G100", "12.5")]),
]


UNTRACKED_BARCODE = "7312345000017"


def seed_library(server: Server) -> None:
    """Prices and barcodes for the demo catalog (as the back office's Products page would set them),
    and one product whose stock is not tracked yet."""
    prices = {"TEE": 24900, "MUG": 14900, "COF": 8900, "CAN": 19500, "TT-": 12900, "TEA": 6900}
    with server.api() as api:
        for i, entity in enumerate(api.get("/organizations/self/products").json()):
            variants = [
                {
                    "uuid": v["uuid"],
                    "barcode": f"73123450{i:02d}{j:02d}1",
                    "price": {"amount": prices.get((v["sku"] or "")[:3], 9900), "currencyId": "SEK"},
                }
                for j, v in enumerate(entity["variants"])
            ]
            body = {"variants": variants, "vatPercentage": "25"}
            api.put(f"/organizations/self/products/v2/{entity['uuid']}", json=body).raise_for_status()
        body = {
            "uuid": str(uuid.uuid4()),
            "name": "Wool socks",
            "variants": [
                {"uuid": str(uuid.uuid4()), "name": "38-41", "sku": "SOCK-M", "barcode": UNTRACKED_BARCODE,
                 "price": {"amount": 15900, "currencyId": "SEK"}},
                {"uuid": str(uuid.uuid4()), "name": "42-45", "sku": "SOCK-L", "barcode": "7312345000024",
                 "price": {"amount": 15900, "currencyId": "SEK"}},
            ],
        }  # fmt: skip
        api.post("/organizations/self/products", json=body).raise_for_status()


def seed(server: Server) -> tuple[str, str]:
    """The demo catalog with a few weeks' worth of movements on one variant (for the chart)."""
    products: dict[str, tuple[str, list[str]]] = {}
    for name, variants in CATALOG:
        products[name] = server.add_product(name, variants)
    product, variants = products["Organic cotton T-shirt"]
    medium = variants[1]
    with server.api() as api:
        locs = {loc["type"]: loc["uuid"] for loc in api.get("/organizations/self/locations").json()}
        steps = [("STORE", "SOLD", 3), ("STORE", "SOLD", 5), ("SUPPLIER", "STORE", 12), ("STORE", "SOLD", 7),
                 ("STORE", "BIN", 1), ("STORE", "SOLD", 9), ("STORE", "SOLD", 4), ("SUPPLIER", "STORE", 20),
                 ("STORE", "SOLD", 6), ("STORE", "SOLD", 8)]  # fmt: skip
        for i, (src, dst, qty) in enumerate(steps):
            change = {
                "productUuid": product,
                "variantUuid": medium,
                "fromLocationUuid": locs[src],
                "toLocationUuid": locs[dst],
                "change": qty,
            }
            body = {"changes": [change], "externalUuid": f"demo-{i + 1:03d}"}
            api.put("/organizations/self/inventory", json=body).raise_for_status()
        # One product known only by its UUIDs: pages fall back to them.
        unnamed = "6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
        api.post("/organizations/self/inventory", json={"productUuid": unnamed}).raise_for_status()
        change = {
            "productUuid": unnamed,
            "variantUuid": "0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d",
            "fromLocationUuid": locs["SUPPLIER"],
            "toLocationUuid": locs["STORE"],
            "change": 3,
        }
        api.put("/organizations/self/inventory", json={"changes": [change]}).raise_for_status()
    return product, medium


def seed_stores_and_alerts(server: Server, product: str, variant: str) -> str:
    """A second store with some stock, and low-stock alerts (one crossing raises InventoryLowStock)."""
    with server.api() as api:
        locs = {loc["type"]: loc["uuid"] for loc in api.get("/organizations/self/locations").json()}
        harbour = api.post("/organizations/self/locations", json={"name": "Harbour shop"}).json()["uuid"]
        inventory = api.get(f"/organizations/self/inventory/locations/{locs['STORE']}").json()["variants"]
        for item in inventory[:6]:
            change = {
                "productUuid": item["productUuid"],
                "variantUuid": item["variantUuid"],
                "fromLocationUuid": locs["SUPPLIER"],
                "toLocationUuid": harbour,
                "change": 3,
            }
            api.put("/organizations/self/inventory", json={"changes": [change]}).raise_for_status()
        # Alerts on every variant: half with a level at or above their balance (so they show as low),
        # the T-shirt's Medium at 18 so the sale below crosses it and raises InventoryLowStock.
        levels: list[dict[str, Any]] = []
        for i, item in enumerate(inventory):
            level = float(item["balance"]) + i % 3 if i % 2 == 0 else 10
            if item["variantUuid"] == variant:
                level = 18
            key = {"productUuid": item["productUuid"], "variantUuid": item["variantUuid"]}
            levels.append({**key, "lowStockAlert": True, "lowStockLevel": f"{level:g}"})
        api.post(f"/custom-low-stock/locations/{locs['STORE']}", json={"requests": levels}).raise_for_status()
        api.post(f"/custom-low-stock/locations/{harbour}", json={"requests": levels[:3]}).raise_for_status()
        change = {
            "productUuid": product,
            "variantUuid": variant,
            "fromLocationUuid": locs["STORE"],
            "toLocationUuid": locs["SOLD"],
            "change": 15,
        }
        api.put("/organizations/self/inventory", json={"changes": [change]}).raise_for_status()
    return harbour


def sell_at_the_till(server: Server, product: str, variant: str) -> None:
    """A purchase from the point of sale: the history names the till, not an API key."""
    sale = {
        "purchaseUuid": str(uuid.uuid4()),
        "products": [{"productUuid": product, "variantUuid": variant, "quantity": "2", "name": "T-shirt"}],
    }
    with server.api() as api:
        api.post("/organizations/self/purchases", json=sale).raise_for_status()


def spread_over_weeks(server: Server, product: str, variant: str) -> None:
    """Demo data only: spread the variant's movements over the last eight weeks, so its chart shows
    a real time axis (the API records every movement at the moment it is made)."""
    count = server.movement_count(product, variant)
    days = [56 - 54 * (i / (count - 1)) ** 0.8 for i in range(count)]  # older ones further apart
    server.backdate(product, variant, [d * 86_400 + (i * 7919) % 40_000 for i, d in enumerate(days)])


def stocktake_csv(server: Server) -> str:
    """Counts of the whole store: most match, a few differ (the preview shows only those)."""
    with server.api() as api:
        store = next(
            loc["uuid"] for loc in api.get("/organizations/self/locations").json()
            if loc["type"] == "STORE" and loc["default"]
        )  # fmt: skip
        inventory = api.get(f"/organizations/self/inventory/locations/{store}").json()["variants"]
    lines = ["productUuid,variantUuid,balance"]
    for i, item in enumerate(inventory):
        balance = float(item["balance"])
        counted = balance - 2 if i % 3 == 0 and balance >= 2 else balance + 1 if i % 4 == 1 else balance
        lines.append(f"{item['productUuid']},{item['variantUuid']},{counted:g}")
    return "\n".join(lines) + "\n"


def point_at(page: Any, fraction: float) -> None:
    """Hover the chart at `fraction` of its width: the page then shows that step's balance and time."""
    over = page.locator("[data-chart] .u-over")
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)


def main() -> None:
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: install Debian's chromium package first")
    OUT.mkdir(parents=True, exist_ok=True)
    env = {"STOCKLEDGER_WEBHOOK_ALLOW_PRIVATE": "1", "STOCKLEDGER_DISPATCHER": "1"}
    with (
        tempfile.TemporaryDirectory() as tmp,
        receiver() as hook_base,
        running_server(Path(tmp), extra_env=env) as server,
    ):
        subs = subscribe(server, hook_base)
        product, variant = seed(server)
        seed_library(server)
        harbour = seed_stores_and_alerts(server, product, variant)
        sell_at_the_till(server, product, variant)
        spread_over_weeks(server, product, variant)
        wait_for_deliveries(server, subs)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(base_url=server.base_url, viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto("/ui/signin")
            page.screenshot(path=OUT / "signin.png")
            sign_in(page, server)
            page.screenshot(path=OUT / "overview.png", full_page=True)
            page.goto(f"/ui/stock?location={harbour}")
            page.screenshot(path=OUT / "overview-second-store.png", full_page=True)
            page.goto(f"/ui/variants/{product}/{variant}")
            point_at(page, 0.55)
            page.screenshot(path=OUT / "variant.png", full_page=True)
            page.goto(f"/ui/variants/{product}/{variant}?range=all")
            page.locator("[data-chart]").focus()
            page.keyboard.press("ArrowLeft")
            page.locator(".chart-card").screenshot(path=OUT / "variant-chart-all.png")
            page.goto(f"/ui/adjust?product={product}&variant={variant}&action=sale")
            page.get_by_label("Quantity").fill("2")
            page.get_by_label("Reference").fill("till-3/receipt-1187")
            page.screenshot(path=OUT / "adjust.png", full_page=True)
            page.goto(f"/ui/adjust?product={product}&variant={variant}&action=count")
            page.get_by_label("Quantity").fill("14")
            with server.api() as api:
                locs = {loc["type"]: loc["uuid"] for loc in api.get("/organizations/self/locations").json()
                        if loc["type"] != "STORE" or loc["default"]}  # fmt: skip
                change = {"productUuid": product, "variantUuid": variant, "fromLocationUuid": locs["STORE"],
                          "toLocationUuid": locs["SOLD"], "change": 1}  # fmt: skip
                api.put("/organizations/self/inventory", json={"changes": [change]}).raise_for_status()
            page.get_by_role("button", name="Record").click()
            page.screenshot(path=OUT / "count-conflict.png", full_page=True)
            page.goto("/ui/stocktake")
            page.get_by_label("CSV file").set_input_files(
                {
                    "name": "stocktake-main-store.csv",
                    "mimeType": "text/csv",
                    "buffer": stocktake_csv(server).encode(),
                }
            )
            page.get_by_role("button", name="Upload and preview").click()
            page.wait_for_url("**/ui/stocktake/*")
            page.screenshot(path=OUT / "stocktake-preview.png", full_page=True)
            page.goto("/ui/stocktake")
            bad = "sku,balance\nTEE-S,20\nTEE-XL,4\nMUG-B,many\nTEE-S,19\n"
            page.get_by_label("CSV file").set_input_files(
                {"name": "shelf-7.csv", "mimeType": "text/csv", "buffer": bad.encode()}
            )
            page.get_by_role("button", name="Upload and preview").click()
            page.screenshot(path=OUT / "stocktake-errors.png", full_page=True)
            page.goto("/ui/low-stock")
            page.screenshot(path=OUT / "low-stock.png", full_page=True)
            page.goto("/ui/webhooks")
            page.screenshot(path=OUT / "webhooks.png", full_page=True)
            page.goto("/ui/products")
            page.screenshot(path=OUT / "products.png", full_page=True)
            page.goto(f"/ui/products/{product}")
            page.screenshot(path=OUT / "product-edit.png", full_page=True)
            page.goto("/ui/adjust")
            page.get_by_label("Product", exact=True).press_sequentially("tee", delay=40)
            page.locator("#picker-results a[data-choice]").first.wait_for()
            page.screenshot(path=OUT / "adjust-picker.png", full_page=True)
            page.goto(f"/ui/adjust?find={UNTRACKED_BARCODE}")  # a scan of a product not tracked yet
            page.screenshot(path=OUT / "adjust-start-tracking.png", full_page=True)
            phone = browser.new_context(base_url=server.base_url, viewport={"width": 390, "height": 844})
            mobile = phone.new_page()
            sign_in(mobile, server)
            mobile.screenshot(path=OUT / "overview-phone.png", full_page=True)
            mobile.goto("/ui/low-stock")
            mobile.screenshot(path=OUT / "low-stock-phone.png", full_page=True)
            mobile.goto("/ui/products?q=tee")
            mobile.screenshot(path=OUT / "products-phone.png", full_page=True)
            phone_360 = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True}
            small = browser.new_context(base_url=server.base_url, **phone_360)
            narrow = small.new_page()
            sign_in(narrow, server)
            narrow.goto(f"/ui/variants/{product}/{variant}?range=7d")
            over = narrow.locator("[data-chart] .u-over")
            over.scroll_into_view_if_needed()
            box = over.bounding_box()
            assert box is not None
            narrow.touchscreen.tap(box["x"] + box["width"] * 0.7, box["y"] + box["height"] / 2)
            narrow.locator(".chart-card").screenshot(path=OUT / "variant-chart-phone.png")
            narrow.goto("/ui/webhooks")
            narrow.screenshot(path=OUT / "webhooks-phone.png", full_page=True)
            browser.close()
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(ROOT))


if __name__ == "__main__":
    main()
