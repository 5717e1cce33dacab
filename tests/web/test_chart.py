"""The variant page's chart, as the server sends it: a real time axis over the chosen range (7 days,
30 days, all), the steps inside it, its summary in words, and the vendored chart library."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest

from stockledger.service import inventory_writes
from tests.web.conftest import Ui
from tests.web.test_pages import stock_with_names

DAY_S = 86_400


def chart_of(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert found, "the page carries the chart's data"
    data: dict[str, Any] = json.loads(found.group(1))
    return data


async def backdated_history(ui: Ui, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, float]:
    """Received 10 forty days ago, sold 3 twenty days ago, 2 three days ago, received 5 an hour ago."""
    product, variant = str(uuid.uuid4()), str(uuid.uuid4())
    await ui.api.track(product)
    locs = await ui.api.locations()
    now_s = time.time()
    steps = [(40 * DAY_S, "SUPPLIER", "STORE", 10), (20 * DAY_S, "STORE", "SOLD", 3),
             (3 * DAY_S, "STORE", "SOLD", 2), (3600, "SUPPLIER", "STORE", 5)]  # fmt: skip
    for ago_s, src, dst, quantity in steps:
        monkeypatch.setattr(inventory_writes, "now_ms", lambda ago_s=ago_s: int((now_s - ago_s) * 1000))
        assert (await ui.api.move(product, variant, locs[src], locs[dst], quantity)).is_success
    monkeypatch.undo()
    return product, variant, now_s


async def test_each_range_draws_the_balance_on_a_time_axis_ending_now(
    ui: Ui, monkeypatch: pytest.MonkeyPatch
) -> None:
    product, variant, now_s = await backdated_history(ui, monkeypatch)
    page = f"/ui/variants/{product}/{variant}"
    charts = {}
    for key in ("30d", "7d", "all"):
        html = (await ui.client.get(page, params={"range": key})).text
        charts[key] = chart_of(html)
        assert abs(charts[key]["max"] - now_s) < 60  # the axis ends now
        assert f'data-range="{key}" aria-current="page"' in html
    month, week, everything = charts["30d"], charts["7d"], charts["all"]
    assert month["max"] - month["min"] == 30 * DAY_S and week["max"] - week["min"] == 7 * DAY_S
    assert month["labels"] == ["10", "7", "5", "10", "10"]  # 10 carried over from before the range
    assert month["kinds"] == ["start", "movement", "movement", "movement", "now"]
    assert week["labels"] == ["7", "5", "10", "10"]
    assert abs(week["x"][1] - (now_s - 3 * DAY_S)) < 60 and abs(week["x"][2] - (now_s - 3600)) < 60
    assert everything["labels"][-5:] == ["10", "7", "5", "10", "10"]
    assert everything["min"] < now_s - 40 * DAY_S + 60  # from the first movement on
    default = chart_of((await ui.client.get(page)).text)  # 30 days unless asked
    assert default["labels"] == month["labels"] and default["max"] - default["min"] == 30 * DAY_S


async def test_the_range_links_keep_the_store_and_the_summary_says_it_in_words(
    ui: Ui, monkeypatch: pytest.MonkeyPatch
) -> None:
    product, variant, _ = await backdated_history(ui, monkeypatch)
    locs = await ui.api.locations()
    html = (await ui.client.get(f"/ui/variants/{product}/{variant}", params={"range": "7d"})).text
    links = dict(re.findall(r'<a href="([^"]+)#chart-title" data-range="(\w+)"', html))
    assert {v: k.replace("&amp;", "&") for k, v in links.items()} == {
        "7d": f"/ui/variants/{product}/{variant}?location={locs['STORE']}&range=7d",
        "30d": f"/ui/variants/{product}/{variant}?location={locs['STORE']}",
        "all": f"/ui/variants/{product}/{variant}?location={locs['STORE']}&range=all",
    }
    summary = re.search(r'id="chart-summary">([^<]+)<', html)
    assert summary and summary.group(1).startswith(
        "Balance now 10. 2 movements in the last 7 days; lowest 5 ("
    )
    assert "bogus" not in (await ui.client.get(f"/ui/variants/{product}/{variant}?range=bogus")).text


async def test_the_chart_library_is_served_from_the_back_office_with_its_licence(ui: Ui) -> None:
    made = await stock_with_names(ui, [("Cup", "Red", "CUP-R", 2)])
    product, variant = made["Cup"]
    html = (await ui.client.get(f"/ui/variants/{product}/{variant}")).text
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts == [
        "/ui/static/app.js",
        "/ui/static/vendor/uplot/uPlot.iife.min.js",
        "/ui/static/chart.js",
    ]
    for asset in [*scripts, "/ui/static/vendor/uplot/uPlot.min.css", "/ui/static/vendor/uplot/LICENSE"]:
        assert (await ui.client.get(asset)).status_code == 200, asset
    licence = (await ui.client.get("/ui/static/vendor/uplot/LICENSE")).text
    assert "MIT License" in licence and "Leon Sorokin" in licence
    assert "https://" not in html and "http://" not in html


async def test_a_store_without_movements_of_the_variant_has_no_chart(ui: Ui) -> None:
    made = await stock_with_names(ui, [("Bowl", "Big", "BWL", 2)])
    product, variant = made["Bowl"]
    harbour = await ui.api.post("/organizations/self/locations", json={"name": "Harbour shop"})
    html = (await ui.client.get(f"/ui/variants/{product}/{variant}?location={harbour.json()['uuid']}")).text
    assert "No movements in this store yet." in html and 'id="chart-data"' not in html
