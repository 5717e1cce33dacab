"""The back-office pages: stock overview, CSV export, variant page, error pages, escaping."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest

from stockledger.service import backoffice
from tests.web.conftest import Ui


async def stock_with_names(ui: Ui, items: list[tuple[str, str, str, int]]) -> dict[str, tuple[str, str]]:
    """Track one product per item (name, variant name, sku, quantity received); name → (product, variant)."""
    locs = await ui.api.locations()
    made: dict[str, tuple[str, str]] = {}
    for name, variant_name, sku, quantity in items:
        product, variant = str(uuid.uuid4()), str(uuid.uuid4())
        await ui.api.track(product)
        body = {"name": name, "variants": [{"uuid": variant, "name": variant_name, "sku": sku}]}
        assert (
            await ui.api.put(f"/organizations/self/catalog/products/{product}", json=body)
        ).status_code == 200
        response = await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], quantity)
        assert response.status_code == 200, response.text
        made[name] = (product, variant)
    return made


def row_names(html: str) -> list[str]:
    pattern = r'<a href="/ui/variants/[^"]+">\s*(?:<span class="uuid">)?([^<]+?)(?:</span>)?\s*</a>'
    return re.findall(pattern, html)


async def test_overview_lists_names_balances_and_falls_back_to_uuids(ui: Ui) -> None:
    await stock_with_names(ui, [("Candle", "Vanilla", "CAN-V", 7)])
    product, variant = str(uuid.uuid4()), str(uuid.uuid4())
    locs = await ui.api.locations()
    await ui.api.track(product)
    await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], "2.5")
    page = await ui.client.get("/ui/stock")
    assert page.status_code == 200
    assert "Candle" in page.text and "Vanilla" in page.text and "CAN-V" in page.text
    assert f'<span class="uuid">{product}</span>' in page.text
    assert f'<span class="uuid">{variant}</span>' in page.text
    assert re.findall(r"data-balance>([^<]+)<", page.text) == ["7", "2.5"]  # named first, then unnamed


async def test_overview_searches_by_name_sku_and_uuid(ui: Ui) -> None:
    made = await stock_with_names(
        ui, [("Blue mug", "Large", "MUG-B", 1), ("Red 100%_cup", "Small", "CUP-R", 2)]
    )
    assert row_names((await ui.client.get("/ui/stock", params={"q": "MUG"})).text) == ["Blue mug"]
    assert row_names((await ui.client.get("/ui/stock", params={"q": "cup-r"})).text) == ["Red 100%_cup"]
    assert row_names((await ui.client.get("/ui/stock", params={"q": "100%_"})).text) == ["Red 100%_cup"]
    assert row_names((await ui.client.get("/ui/stock", params={"q": "0%"})).text) == ["Red 100%_cup"]
    product, variant = made["Blue mug"]
    assert row_names((await ui.client.get("/ui/stock", params={"q": variant.upper()})).text) == ["Blue mug"]
    assert row_names((await ui.client.get("/ui/stock", params={"q": product})).text) == ["Blue mug"]
    empty = await ui.client.get("/ui/stock", params={"q": "nothing like it"})
    assert "Nothing matches" in empty.text


def next_link(html: str) -> str | None:
    found = re.search(r'href="([^"]+)" rel="next"', html)
    return found.group(1).replace("&amp;", "&") if found else None


async def walk_pages(ui: Ui, url: str) -> list[list[str]]:
    pages: list[list[str]] = []
    next_url: str | None = url
    while next_url:
        html = (await ui.client.get(next_url)).text
        pages.append(row_names(html))
        next_url = next_link(html)
    return pages


async def test_overview_sorts_by_name_and_balance(ui: Ui) -> None:
    await stock_with_names(ui, [("bravo", "-", "B", 30), ("Alpha", "-", "A", 20), ("Charlie", "-", "C", 10)])
    assert row_names((await ui.client.get("/ui/stock")).text) == ["Alpha", "bravo", "Charlie"]
    assert row_names((await ui.client.get("/ui/stock?sort=balance")).text) == ["Charlie", "Alpha", "bravo"]
    assert row_names((await ui.client.get("/ui/stock?sort=-balance")).text) == ["bravo", "Alpha", "Charlie"]
    assert (await ui.client.get("/ui/stock?sort=bogus&after=garbage&size=x")).status_code == 200


async def test_overview_pages_through_named_then_unnamed_variants_without_gaps(ui: Ui) -> None:
    await stock_with_names(ui, [(f"Item {i:02d}", "-", f"I{i}", (i * 7) % 5 + 1) for i in range(13)])
    locs = await ui.api.locations()
    unnamed = []
    for i in range(4):
        product, variant = str(uuid.uuid4()), str(uuid.uuid4())
        await ui.api.track(product)
        await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], i + 1)
        unnamed.append(product)
    everything = row_names((await ui.client.get("/ui/stock?size=100")).text)
    assert len(everything) == 17
    assert everything[:13] == [f"Item {i:02d}" for i in range(13)]
    assert everything[13:] == sorted(unnamed)
    for sort in ("name", "balance", "-balance"):
        full = row_names((await ui.client.get(f"/ui/stock?size=100&sort={sort}")).text)
        pages = await walk_pages(ui, f"/ui/stock?size=10&sort={sort}")
        assert [len(p) for p in pages] == [10, 7], sort
        assert [name for p in pages for name in p] == full, sort
    exact = await walk_pages(ui, "/ui/stock?size=13")  # a page ending exactly on the last named row
    assert [len(p) for p in exact] == [13, 4]


async def test_overview_switches_between_store_locations_and_refuses_others(ui: Ui) -> None:
    locs = await ui.api.locations()
    page = await ui.client.get("/ui/stock")
    assert f'<option value="{locs["STORE"]}" selected>Main store (default)</option>' in page.text
    assert locs["SOLD"] not in page.text  # only STORE-type locations are offered
    assert (await ui.client.get(f"/ui/stock?location={locs['STORE']}")).status_code == 200
    other = await ui.client.get(f"/ui/stock?location={locs['SOLD']}")
    assert other.status_code == 404 and "Page not found" in other.text


async def test_csv_export_holds_the_rows_shown(ui: Ui) -> None:
    made = await stock_with_names(ui, [("=cmd()", "Big", "X-1", 4), ("Plain", "Small", "P-1", 5)])
    response = await ui.client.get("/ui/stock.csv", params={"q": "plain"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    product, variant = made["Plain"]
    assert rows == [
        ["productUuid", "productName", "variantUuid", "variantName", "sku", "barcode", "balance"],
        [product, "Plain", variant, "Small", "P-1", "", "5"],
    ]
    formula = list(csv.reader(io.StringIO((await ui.client.get("/ui/stock.csv?q=cmd")).text)))
    assert formula[1][1] == "'=cmd()"  # never executed by a spreadsheet


async def test_names_with_markup_are_escaped_everywhere(ui: Ui) -> None:
    evil = '<script>alert("x")</script>'
    made = await stock_with_names(ui, [(evil, "<b>bold</b>", "<i>", 1)])
    product, variant = made[evil]
    for path in ("/ui/stock", f"/ui/variants/{product}/{variant}", f"/ui/stock?q={evil}"):
        html = (await ui.client.get(path)).text
        assert "<script>alert" not in html and "<b>bold" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    page = await ui.client.get("/ui/stock")
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def test_variant_page_shows_every_location_history_and_chart(ui: Ui) -> None:
    made = await stock_with_names(ui, [("Lamp", "White", "LMP-W", 10)])
    product, variant = made["Lamp"]
    locs = await ui.api.locations()
    ref = str(uuid.uuid4())
    await ui.api.move(product, variant, locs["STORE"], locs["SOLD"], 3, externalUuid=ref)
    page = await ui.client.get(f"/ui/variants/{product}/{variant}")
    assert page.status_code == 200
    balances = dict(re.findall(r'data-location-type="(\w+)">([^<]+)<', page.text))
    assert balances == {"STORE": "7"}
    assert dict(re.findall(r'data-total="(\w+)">([^<]+)<', page.text)) == {
        "received": "10", "sold": "3", "discarded": "0"
    }  # fmt: skip
    assert "Main store → Sold" in page.text and "Suppliers → Main store" in page.text
    assert ref in page.text and ui.api.sub in page.text and ">API<" in page.text
    assert 'id="chart-data"' in page.text and "Balance now 7." in page.text


async def test_variant_history_pages_by_sequence(ui: Ui) -> None:
    made = await stock_with_names(ui, [("Pen", "Black", "PEN", 1)])
    product, variant = made["Pen"]
    locs = await ui.api.locations()
    for _ in range(30):
        await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 1)
    first = await ui.client.get(f"/ui/variants/{product}/{variant}")
    assert first.text.count('<span class="tag">') == 25
    older = re.search(r'href="/ui/variants/[^"]+&amp;before=(\d+)" rel="next"', first.text)
    assert older
    second = await ui.client.get(f"/ui/variants/{product}/{variant}?before={older.group(1)}")
    assert second.text.count('<span class="tag">') == 6
    assert "before=" not in second.text


async def test_unknown_variant_and_unknown_pages_show_the_404_page(ui: Ui) -> None:
    missing = await ui.client.get(f"/ui/variants/{uuid.uuid4()}/{uuid.uuid4()}")
    assert missing.status_code == 404 and "<h1>Page not found</h1>" in missing.text
    bad = await ui.client.get("/ui/variants/not-a-uuid/also-not")
    assert bad.status_code == 400 and "Traceback" not in bad.text
    nowhere = await ui.client.get("/ui/no/such/page")
    assert nowhere.status_code == 404 and "There is no page at this address." in nowhere.text
    assert nowhere.headers["content-type"].startswith("text/html")


async def test_a_failing_page_shows_the_500_page_without_a_stack_trace(
    ui: Ui, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(backoffice, "stock_view", broken)
    response = await ui.client.get("/ui/stock")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text


async def test_assets_are_served_by_stockledger_itself(ui: Ui) -> None:
    css = await ui.client.get("/ui/static/style.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    assert (await ui.client.get("/ui/static/app.js")).status_code == 200
    html = (await ui.client.get("/ui/stock")).text
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
