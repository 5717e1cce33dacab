"""Pure helpers of the back office: the chart's balance series and range, cursors, names of actors
and locations, page numbers."""

from __future__ import annotations

from stockledger.domain.backoffice import actor_shown, key_name, page_numbers, parse_key_label
from stockledger.domain.balance_chart import DAY_MS, BalancePoint, ChartPoint, chart_range, chart_series
from stockledger.domain.locations import Location, shown_name
from stockledger.service.backoffice import balance_series
from stockledger.store.catalog import sort_key
from stockledger.store.ledger_rows import MovementRow
from stockledger.web.chart import chart_data, chart_summary
from stockledger.web.params import decode_cursor, encode_cursor
from stockledger.web.render import word_breaks

STORE, SOLD, SUPPLIER = "store", "sold", "supplier"


def movement(seq: int, src: str, dst: str, units: int) -> MovementRow:
    return MovementRow(f"m{seq}", seq, "p", "v", src, dst, units, None, "API", "user", seq * 1000)


def test_balance_series_walks_back_from_the_current_balance() -> None:
    newest_first = [
        movement(3, STORE, SOLD, 2000),
        movement(2, SUPPLIER, STORE, 10000),
        movement(1, STORE, SOLD, 1000),
    ]
    assert balance_series(7000, STORE, newest_first) == [
        BalancePoint(1000, 0),
        BalancePoint(1000, -1000),
        BalancePoint(2000, 9000),
        BalancePoint(3000, 7000),
    ]
    assert balance_series(5000, STORE, []) == []


def test_cursors_round_trip_and_garbage_means_the_first_page() -> None:
    for cursor in (("n", "mug\x1fblue", "p", "v"), ("u", "p", "v"), ("b", -2500, "p", "v")):
        assert decode_cursor(encode_cursor(cursor)) == cursor
    assert encode_cursor(None) == ""
    for garbage in ("", "!!!", encode_cursor(("b", "1", "p", "v")), encode_cursor(("x", "p")), "e30"):
        assert decode_cursor(garbage) is None


def test_actors_are_named_in_words() -> None:
    sub = "5dcc8feb-14fb-4dfb-9228-0101e6c9d275"
    person = "PERSON:7a1abbf4-b5e2-4c70-8b21-f4ec5b00c463"
    names = {sub: "Webshop", person: "Ada Lund"}
    assert actor_shown(sub, "API", names) == "Webshop"
    assert actor_shown(person, "COUNT", names) == "Ada Lund"
    assert actor_shown("SYSTEM:7a1abbf4-b5e2-4c70-8b21-f4ec5b00c463", "PURCHASE", {}) == "Point of sale"
    assert actor_shown(sub, "PURCHASE", {}) == "Point of sale"
    assert actor_shown(sub, "API", {}) == "API user 5dcc8feb"
    assert actor_shown(person, "API", {}) == "Person 7a1abbf4"
    assert actor_shown(None, "API", names) == "—"
    assert key_name("0123456789abcdef", None) == "API key 0123456789abcdef"
    assert key_name("0123456789abcdef", "Till 2") == "Till 2"
    assert parse_key_label("  Till \t 2 ") == "Till 2"


def test_system_locations_get_plain_names_and_stores_keep_theirs() -> None:
    def loc(kind: str, name: str, system: bool = True) -> Location:
        return Location("u", kind, name, None, kind == "STORE", system)

    shown = [shown_name(loc(k, k)) for k in ("STORE", "SOLD", "BIN", "SUPPLIER")]
    assert shown == ["Main store", "Sold", "Discarded", "Suppliers"]
    assert shown_name(loc("STORE", "Harbour shop", system=False)) == "Harbour shop"
    assert (
        shown_name(loc("STORE", "store", system=False)) == "store"
    )  # a store named so before it was refused


def test_sort_key_orders_case_insensitively_product_before_variant() -> None:
    keys = [sort_key("mug", "Red"), sort_key("Mug 2", "A"), sort_key("MUG", "blue")]
    assert sorted(k for k in keys if k) == [
        sort_key("MUG", "blue"),
        sort_key("mug", "Red"),
        sort_key("Mug 2", "A"),
    ]
    assert sort_key(None, "Red") is None


NOW = 100 * DAY_MS
# The balance before the oldest movement (at its time), then after each: 0 → 10 (day 60) → 7 (day 80)
# → 9 (day 95) → 4 (day 99).
HISTORY = [
    BalancePoint(60 * DAY_MS, 0),
    BalancePoint(60 * DAY_MS, 10_000),
    BalancePoint(80 * DAY_MS, 7_000),
    BalancePoint(95 * DAY_MS, 9_000),
    BalancePoint(99 * DAY_MS, 4_000),
]


def test_a_range_starts_with_the_balance_carried_over_and_runs_to_now() -> None:
    week = chart_series(HISTORY, range_ms=7 * DAY_MS, now_ms=NOW, complete=True)
    assert week.points == [
        ChartPoint(93 * DAY_MS, 7_000, "start"),
        ChartPoint(95 * DAY_MS, 9_000, "movement"),
        ChartPoint(99 * DAY_MS, 4_000, "movement"),
        ChartPoint(NOW, 4_000, "now"),
    ]
    assert (week.start_ms, week.end_ms, week.movements) == (93 * DAY_MS, NOW, 2)
    assert (week.lowest, week.highest) == (week.points[2], week.points[1])


def test_a_range_before_the_first_movement_starts_at_the_balance_before_it() -> None:
    months = chart_series(HISTORY, range_ms=90 * DAY_MS, now_ms=NOW, complete=True)
    assert months.points[0] == ChartPoint(10 * DAY_MS, 0, "start")
    assert months.movements == 4
    everything = chart_series(HISTORY, range_ms=None, now_ms=NOW, complete=True)
    assert everything.start_ms == 60 * DAY_MS and everything.points[0] == ChartPoint(60 * DAY_MS, 0, "start")
    # Not every movement was read: what came before the oldest one read is unknown, so it starts there.
    partial = chart_series(HISTORY, range_ms=90 * DAY_MS, now_ms=NOW, complete=False)
    assert partial.points[0] == ChartPoint(60 * DAY_MS, 0, "start") and partial.start_ms == 10 * DAY_MS


def test_a_quiet_range_is_a_flat_line_at_the_balance_and_no_movements_no_line() -> None:
    quiet = chart_series(HISTORY[:3], range_ms=7 * DAY_MS, now_ms=NOW, complete=True)
    assert [(p.units, p.kind) for p in quiet.points] == [(7_000, "start"), (7_000, "now")]
    assert chart_summary(quiet, "7 days") == "Balance now 7: no movements in the last 7 days."
    assert chart_series([], range_ms=7 * DAY_MS, now_ms=NOW, complete=True).points == []


def test_the_chart_data_and_its_summary() -> None:
    week = chart_series(HISTORY, range_ms=7 * DAY_MS, now_ms=NOW, complete=True)
    data = chart_data(week)
    assert data["x"] == [93 * 86400, 95 * 86400, 99 * 86400, 100 * 86400]
    assert data["y"] == [7, 9, 4, 4] and data["labels"] == ["7", "9", "4", "4"]
    assert data["kinds"] == ["start", "movement", "movement", "now"]
    assert (data["min"], data["max"]) == (93 * 86400, 100 * 86400)
    assert chart_summary(week, "7 days") == (
        "Balance now 4. 2 movements in the last 7 days; lowest 4 (10 Apr 1970), highest 9 (6 Apr 1970)."
    )
    partial = chart_series(HISTORY, range_ms=None, now_ms=NOW, complete=False)
    assert chart_summary(partial, "All").endswith(
        "in all; lowest 0 (2 Mar 1970), highest 10 (2 Mar 1970). Older movements are not drawn."
    )
    assert chart_range("7d") == "7d" and chart_range("bogus") == "30d"


def test_page_numbers_keep_the_ends_and_the_neighbourhood() -> None:
    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 3) == [1, 2, 3]
    assert page_numbers(10, 20) == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert page_numbers(2, 9) == [1, 2, 3, 4, None, 9]
    assert page_numbers(5, 7) == [1, None, 3, 4, 5, 6, 7]


def test_a_clock_that_went_back_between_two_movements_does_not_turn_the_axis_back() -> None:
    skewed = [BalancePoint(5_000, 0), BalancePoint(5_000, 1_000), BalancePoint(4_990, 2_000)]
    series = chart_series(skewed, range_ms=None, now_ms=6_000, complete=True)
    assert [p.at_ms for p in series.points] == [5_000, 5_000, 5_000, 6_000]


def test_event_names_may_wrap_between_their_words_and_stay_escaped() -> None:
    assert str(word_breaks("InventoryBalanceChanged")) == "Inventory<wbr>Balance<wbr>Changed"
    assert str(word_breaks("<b>Evil</b>")) == "&lt;b&gt;Evil&lt;/b&gt;"
