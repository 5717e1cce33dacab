"""The variant page's balance chart in a real browser: a time axis that follows the range selector,
and the exact balance and time under the mouse, under a finger and at the arrow keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.conftest import IN_CI, sign_in
from tests.e2e.server import Server

if IN_CI:
    from playwright.sync_api import expect
else:
    expect = pytest.importorskip("playwright.sync_api").expect

DAY_S = 86_400
# (days ago, from, to, quantity) after receiving 30 fifty days ago: the balance goes
# 30 → 25 → 37 → 30 → 10 → 14.
STEPS = [(40, "STORE", "SOLD", 5), (21, "SUPPLIER", "STORE", 12), (12, "STORE", "SOLD", 7),
         (5, "STORE", "BIN", 20), (2, "SUPPLIER", "STORE", 4)]  # fmt: skip
BALANCES = ["30", "25", "37", "30", "10", "14"]


def exact(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@pytest.fixture(scope="module")
def history(server: Server) -> tuple[str, list[int]]:
    """A variant with seven weeks of history; its page and the times of its movements (ms)."""
    product, (variant,) = server.add_product("Enamel kettle", [("Green", "KET-G", 30)])
    with server.api() as api:
        locs = {loc["type"]: loc["uuid"] for loc in api.get("/organizations/self/locations").json()}
        for _, src, dst, quantity in STEPS:
            change = {"productUuid": product, "variantUuid": variant, "fromLocationUuid": locs[src],
                      "toLocationUuid": locs[dst], "change": quantity}  # fmt: skip
            api.put("/organizations/self/inventory", json={"changes": [change]}).raise_for_status()
    times = server.backdate(product, variant, [50 * DAY_S] + [days * DAY_S for days, *_ in STEPS])
    return f"/ui/variants/{product}/{variant}", times


def axis(page: Any) -> tuple[float, float, list[str]]:
    chart = page.locator("[data-chart]")
    page.wait_for_function("document.querySelector('[data-chart]').hasAttribute('data-ticks')")
    return (
        float(chart.get_attribute("data-x-min")),
        float(chart.get_attribute("data-x-max")),
        chart.get_attribute("data-ticks").split("|"),
    )


def at_time(page: Any, at_s: float) -> tuple[float, float]:
    """The page position of a time on the chart's axis, halfway up the plot."""
    low, high, _ = axis(page)
    over = page.locator("[data-chart] .u-over")
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    return box["x"] + box["width"] * (at_s - low) / (high - low), box["y"] + box["height"] / 2


def test_hovering_shows_the_exact_balance_and_time_of_the_step_under_the_mouse(
    page: Any, server: Server, history: tuple[str, list[int]]
) -> None:
    path, times = history
    sign_in(page, server)
    page.goto(path + "?range=all")
    readout = page.locator("[data-chart-readout]")
    expect(readout).to_be_hidden()
    for i in (1, 3, 4):  # a day after a movement: the balance after it, and its exact time
        x, y = at_time(page, times[i] / 1000 + DAY_S)
        page.mouse.move(x, y)
        expect(readout).to_have_text(f"Balance {BALANCES[i]} after the movement at {exact(times[i])}")
    x, y = at_time(page, times[-1] / 1000 + DAY_S)
    page.mouse.move(x, y)
    expect(readout).to_have_text(f"Balance 14 after the movement at {exact(times[-1])}")


def test_tapping_the_chart_on_a_phone_shows_the_balance_there(
    browser: Any, server: Server, history: tuple[str, list[int]]
) -> None:
    path, times = history
    context = browser.new_context(
        base_url=server.base_url, viewport={"width": 360, "height": 740}, has_touch=True, is_mobile=True
    )
    try:
        phone = context.new_page()
        sign_in(phone, server)
        phone.goto(path)  # 30 days: from twelve days ago the balance is 30, five days ago 10
        x, y = at_time(phone, times[4] / 1000 + DAY_S)
        phone.touchscreen.tap(x, y)
        readout = phone.locator("[data-chart-readout]")
        expect(readout).to_have_text(f"Balance 10 after the movement at {exact(times[4])}")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        font = phone.evaluate("getComputedStyle(document.querySelector('[data-chart-readout]')).fontSize")
        assert float(font.removesuffix("px")) >= 16  # readable without zooming
    finally:
        context.close()


def test_the_arrow_keys_step_through_the_points_and_say_where_they_are(
    page: Any, server: Server, history: tuple[str, list[int]]
) -> None:
    path, times = history
    sign_in(page, server)
    page.goto(path + "?range=all")
    chart = page.get_by_role("slider", name="Balance in Main store over time")
    readout = page.locator("[data-chart-readout]")
    chart.focus()
    expect(readout).to_contain_text("Balance 14 now (")
    page.keyboard.press("ArrowLeft")
    expect(readout).to_have_text(f"Balance 14 after the movement at {exact(times[-1])}")
    expect(chart).to_have_attribute("aria-valuetext", f"Balance 14 after the movement at {exact(times[-1])}")
    page.keyboard.press("ArrowLeft")
    expect(readout).to_have_text(f"Balance 10 after the movement at {exact(times[-2])}")
    page.keyboard.press("Home")
    expect(readout).to_have_text(f"Balance 0 at {exact(times[0])}, the start of the range")
    page.keyboard.press("ArrowRight")
    expect(readout).to_have_text(f"Balance 30 after the movement at {exact(times[0])}")
    page.keyboard.press("End")
    expect(readout).to_contain_text("Balance 14 now (")


def test_the_range_selector_changes_the_time_axis(
    page: Any, server: Server, history: tuple[str, list[int]]
) -> None:
    path, times = history
    sign_in(page, server)
    page.goto(path)
    low, high, month_ticks = axis(page)
    assert high - low == pytest.approx(30 * DAY_S, abs=1)
    expect(page.get_by_role("link", name="30 days")).to_have_attribute("aria-current", "page")
    page.get_by_role("navigation", name="Chart range").get_by_role("link", name="7 days").click()
    page.wait_for_url("**range=7d*")
    low, high, week_ticks = axis(page)
    assert high - low == pytest.approx(7 * DAY_S, abs=1)
    assert week_ticks != month_ticks and all(tick for tick in week_ticks)
    expect(page.locator("#chart-summary")).to_contain_text("2 movements in the last 7 days")
    page.get_by_role("navigation", name="Chart range").get_by_role("link", name="All").click()
    page.wait_for_url("**range=all*")
    low, high, all_ticks = axis(page)
    assert low == pytest.approx(times[0] / 1000, abs=1)  # from the first movement
    assert high - low > 49 * DAY_S and all_ticks != month_ticks
