"""Exports and positions: the whole store as a streamed CSV with SKU and barcode, the total count,
page numbers and "Previous page" on the stock page; the low-stock page's count, pages and CSV."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest

from stockledger.service import stock_export
from tests.web.conftest import Ui
from tests.web.test_pages import row_names, stock_with_names, walk_pages

HEADER = ["productUuid", "productName", "variantUuid", "variantName", "sku", "barcode", "balance"]


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def position(html: str) -> str:
    found = re.search(r"data-position>([^<]+)<", html)
    assert found, "the page says where it is"
    return found.group(1)


async def named_and_unnamed(ui: Ui, named: int, unnamed: int) -> list[str]:
    """`named` products with names, SKUs and barcodes, then `unnamed` known by UUID only; their
    product UUIDs (or names) in the page's name order."""
    locs = await ui.api.locations()
    names = []
    for i in range(named):
        product, variant = str(uuid.uuid4()), str(uuid.uuid4())
        await ui.api.track(product)
        body = {
            "name": f"Item {i:02d}",
            "variants": [{"uuid": variant, "name": "One", "sku": f"SKU-{i:02d}", "barcode": f"73{i:011d}"}],
        }
        assert (await ui.api.put(f"/organizations/self/catalog/products/{product}", json=body)).is_success
        assert (await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], i % 4 + 1)).is_success
        names.append(f"Item {i:02d}")
    bare = []
    for i in range(unnamed):
        product, variant = str(uuid.uuid4()), str(uuid.uuid4())
        await ui.api.track(product)
        assert (await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], i + 1)).is_success
        bare.append(product)
    return names + sorted(bare)


async def test_the_whole_store_streams_every_row_with_sku_and_barcode(
    ui: Ui, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stock_export, "EXPORT_SLICE_ROWS", 4)  # several slices, across named and unnamed
    order = await named_and_unnamed(ui, 9, 5)
    page = (await ui.client.get("/ui/stock?size=10&sort=-balance")).text
    assert "Export all 14 rows (CSV)" in page
    export = re.search(r'href="([^"]+)" download data-export-all', page)
    assert export
    response = await ui.client.get(export.group(1).replace("&amp;", "&"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "content-length" not in response.headers  # streamed, not built in memory first
    assert response.headers["content-disposition"].endswith('-all.csv"')
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == HEADER
    assert len(rows) == 15
    assert [r[1] or r[0] for r in rows[1:]] == order  # name order, whatever the page's sort
    named = {r[1]: r for r in rows[1:] if r[1]}
    assert named["Item 03"][4:] == ["SKU-03", "7300000000003", "4"]
    assert all(r[4] == r[5] == "" for r in rows[1:] if not r[1])


async def test_the_whole_store_export_keeps_the_search_and_the_store(ui: Ui) -> None:
    await named_and_unnamed(ui, 12, 2)
    rows = list(csv.reader(io.StringIO((await ui.client.get("/ui/stock/all.csv?q=sku-0")).text)))
    assert [r[4] for r in rows[1:]] == [f"SKU-0{i}" for i in range(10)]
    harbour = await ui.api.post("/organizations/self/locations", json={"name": "Harbour shop"})
    empty = await ui.client.get(f"/ui/stock/all.csv?location={harbour.json()['uuid']}")
    assert list(csv.reader(io.StringIO(empty.text))) == [HEADER]
    locs = await ui.api.locations()
    assert (await ui.client.get(f"/ui/stock/all.csv?location={locs['SOLD']}")).status_code == 404


async def test_the_stock_page_shows_the_total_and_its_page_and_goes_back_page_by_page(ui: Ui) -> None:
    await named_and_unnamed(ui, 26, 6)  # the third page holds the last named rows and the first unnamed
    for sort in ("name", "balance", "-balance"):
        forward = []
        url: str | None = f"/ui/stock?size=10&sort={sort}"
        while url:
            html = (await ui.client.get(url)).text
            forward.append((row_names(html), position(html)))
            url = link(html, "next")
        assert [p for _, p in forward] == [
            "Rows 1–10 of 32 · page 1 of 4",
            "Rows 11–20 of 32 · page 2 of 4",
            "Rows 21–30 of 32 · page 3 of 4",
            "Rows 31–32 of 32 · page 4 of 4",
        ], sort
        assert len({name for names, _ in forward for name in names}) == 32, sort
        backward = [(row_names(html), position(html))]
        while url := link(html, "prev"):
            html = (await ui.client.get(url)).text
            backward.append((row_names(html), position(html)))
        assert backward == forward[::-1], sort
        assert link(html, "prev") is None and link(html, "first") is None  # the first page


async def test_the_total_counts_what_the_search_matches(ui: Ui) -> None:
    await stock_with_names(
        ui, [("Blue mug", "L", "MUG-B", 1), ("Red mug", "S", "MUG-R", 2), ("Tea", "-", "T", 3)]
    )
    html = (await ui.client.get("/ui/stock", params={"q": "mug"})).text
    assert position(html) == "Rows 1–2 of 2 · page 1 of 1"
    assert "Export all 2 rows (CSV)" in html
    nothing = (await ui.client.get("/ui/stock", params={"q": "nothing like it"})).text
    assert position(nothing) == "0 rows"
    assert (await walk_pages(ui, "/ui/stock?size=10&q=mug")) == [["Blue mug", "Red mug"]]


async def low_stock_rows(ui: Ui, count: int) -> None:
    locs = await ui.api.locations()
    levels = []
    for i in range(count):
        product, variant = str(uuid.uuid4()), str(uuid.uuid4())
        await ui.api.track(product)
        body = {"name": f"Low {i:03d}", "variants": [{"uuid": variant, "name": "-", "sku": f"L-{i:03d}",
                                                      "barcode": f"40{i:011d}"}]}  # fmt: skip
        assert (await ui.api.put(f"/organizations/self/catalog/products/{product}", json=body)).is_success
        assert (await ui.api.move(product, variant, locs["SUPPLIER"], locs["STORE"], 1)).is_success
        levels.append(
            {"productUuid": product, "variantUuid": variant, "lowStockAlert": True, "lowStockLevel": "5"}
        )
    response = await ui.api.post(f"/custom-low-stock/locations/{locs['STORE']}", json={"requests": levels})
    assert response.is_success, response.text


async def test_the_low_stock_page_counts_pages_and_exports_every_row(ui: Ui) -> None:
    await low_stock_rows(ui, 23)
    first = (await ui.client.get("/ui/low-stock?size=10")).text
    assert "23 variants at or below their level" in first
    assert position(first) == "Rows 1–10 of 23 · page 1 of 3"
    pages = re.findall(r'href="([^"]+)"[^>]*>(\d+)</a>', first.split('aria-label="Pages"', 1)[1])
    assert [n for _, n in pages] == ["2", "3"]
    assert 'aria-current="page">1<' in first
    third = (await ui.client.get(pages[1][0].replace("&amp;", "&"))).text
    assert position(third) == "Rows 21–23 of 23 · page 3 of 3"
    assert len(re.findall(r"data-balance>", third)) == 3
    assert link(third, "prev") and link(third, "next") is None
    response = await ui.client.get("/ui/low-stock.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [*HEADER, "level", "defaultLevel"]
    assert len(rows) == 24
    assert sorted(r[4] for r in rows[1:]) == [f"L-{i:03d}" for i in range(23)]
    assert all(r[5] == "40" + r[4][2:].zfill(11) and r[6:] == ["1", "5", "false"] for r in rows[1:])
