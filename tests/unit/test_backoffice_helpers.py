"""Pure helpers of the back office: the chart's balance series, cursors, actor labels, the SVG."""

from __future__ import annotations

from stockledger.domain.backoffice import actor_shown, key_name, parse_key_label
from stockledger.domain.locations import Location, shown_name
from stockledger.service.backoffice import BalancePoint, balance_series
from stockledger.store.catalog import sort_key
from stockledger.store.ledger_rows import MovementRow
from stockledger.web.chart import balance_chart
from stockledger.web.params import decode_cursor, encode_cursor

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


def test_the_chart_escapes_its_title_and_needs_two_points() -> None:
    assert "No movements" in balance_chart([], "x")
    svg = balance_chart([BalancePoint(0, 0), BalancePoint(1000, 5000)], "<b>Mug</b>")
    assert "&lt;b&gt;Mug&lt;/b&gt;" in svg and "<b>" not in svg
    assert "now 5" in svg
