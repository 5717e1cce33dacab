"""The ledger's rules without I/O (domain/ledger.py): decisions, sequence numbers, before and after."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockledger.domain.changes import BalanceKey, Change
from stockledger.domain.errors import ServiceError
from stockledger.domain.ledger import Accepted, Posted, Request, Rules, Settlement, needs, settle

STORE, SHOP, SOLD, BIN, SUPPLIER = "store", "shop", "sold", "bin", "supplier"
LOCATIONS = (STORE, SHOP, SOLD, BIN, SUPPLIER)
P, V, W = "product", "variant", "other-variant"


def rules(*, negative_stock_allowed: bool = True, tracked: set[str] | None = None) -> Rules:
    return Rules(set(LOCATIONS), {STORE, SHOP}, tracked, negative_stock_allowed)


def move(src: str, dst: str, units: int, variant: str = V, path: str = "changes[0]") -> Change:
    return Change(P, variant, src, dst, units, path)


def key(location: str, variant: str = V) -> BalanceKey:
    return (location, P, variant)


def write(settlement: Settlement, rows: dict[BalanceKey, int]) -> list[Posted | ServiceError]:
    """What the service does with a settlement: add its deltas to the rows, then ask for the balances."""
    after = {k: rows.get(k, 0) + delta for k, delta in settlement.deltas.items()}
    rows.update(after)
    return settlement.balances(after)


def test_accepted_requests_are_numbered_consecutively_and_netted_in_lock_order() -> None:
    first = Request([move(SUPPLIER, STORE, 5000), move(STORE, SHOP, 2000, path="changes[1]")])
    second = Request([move(STORE, SOLD, 1000, W)])
    settled = settle([first, second], {}, rules(), first_seq=41)
    assert [[m.seq for m in v.movements] for v in settled.verdicts if isinstance(v, Accepted)] == [
        [41, 42],
        [43],
    ]
    assert settled.used == 3
    assert list(settled.deltas) == sorted(settled.deltas)  # the lock order
    assert settled.deltas == {
        key(SHOP): 2000,
        key(STORE): 3000,
        key(SUPPLIER): -5000,
        key(SOLD, W): 1000,
        key(STORE, W): -1000,
    }
    # a balance row keeps the number of the last change to it
    assert settled.seq_by_key[key(STORE)] == 42 and settled.seq_by_key[key(SUPPLIER)] == 41
    assert settled.seq_by_key[key(STORE, W)] == 43


def test_a_refused_request_leaves_no_trace() -> None:
    untracked = Change("untracked", V, SUPPLIER, STORE, 7000, "changes[0]")
    requests = [
        Request([move(SUPPLIER, STORE, 1000)]),
        Request([untracked]),
        Request([move(SUPPLIER, STORE, 2000)]),
    ]
    settled = settle(requests, {}, rules(tracked={P}), first_seq=1)
    refused = settled.verdicts[1]
    assert isinstance(refused, ServiceError) and refused.error_type == "PRODUCT_NOT_TRACKED"
    assert refused.violations[0].property_name == "changes[0].productUuid"
    assert settled.used == 2
    assert settled.deltas == {key(STORE): 3000, key(SUPPLIER): -3000}  # nothing of the refused one
    third = settled.verdicts[2]
    assert isinstance(third, Accepted) and third.movements[0].seq == 2  # no gap where it was
    assert ("untracked", V) not in {(k[1], k[2]) for k in settled.seq_by_key}


def test_unknown_locations_are_all_named_and_come_before_tracking() -> None:
    change = Change("untracked", V, "nowhere", "elsewhere", 1000, "changes[3]")
    (refused,) = settle([Request([change])], {}, rules(tracked=set()), first_seq=1).verdicts
    assert isinstance(refused, ServiceError) and refused.error_type == "VALIDATION_ERROR"
    assert [v.property_name for v in refused.violations] == [
        "changes[3].fromLocationUuid",
        "changes[3].toLocationUuid",
    ]


def test_a_forbidding_policy_sees_each_request_after_the_ones_accepted_before_it() -> None:
    requests = [
        Request([move(STORE, SOLD, 2000)]),  # 3 → 1
        Request([move(STORE, SOLD, 2000, path="changes[0]")]),  # 1 → -1: refused
        Request([move(SUPPLIER, STORE, 5000)]),  # 1 → 6
        Request([move(STORE, BIN, 6000)]),  # 6 → 0: fine
    ]
    settled = settle(requests, {key(STORE): 3000}, rules(negative_stock_allowed=False), first_seq=1)
    assert [type(v).__name__ for v in settled.verdicts] == [
        "Accepted",
        "ServiceError",
        "Accepted",
        "Accepted",
    ]
    refused = settled.verdicts[1]
    assert isinstance(refused, ServiceError)
    assert (refused.status, refused.error_type) == (409, "INSUFFICIENT_STOCK")
    assert refused.violations[0].property_name == "changes[0]"
    assert "at -1 in location store" in refused.violations[0].message
    assert settled.deltas[key(STORE)] == -3000


def test_a_negative_store_may_be_raised_and_other_types_may_go_negative() -> None:
    requests = [Request([move(SUPPLIER, STORE, 1000)]), Request([move(BIN, SOLD, 4000)])]
    settled = settle(requests, {key(STORE): -2000}, rules(negative_stock_allowed=False), first_seq=1)
    assert all(isinstance(v, Accepted) for v in settled.verdicts)
    allowed = settle([Request([move(STORE, SOLD, 9000)])], {}, rules(), first_seq=1)
    assert isinstance(allowed.verdicts[0], Accepted)


def test_needs_names_what_the_rules_and_the_answers_must_see_and_nothing_else() -> None:
    sale = Request([move(STORE, SOLD, 1000), move(SUPPLIER, SHOP, 1000, W)], shown=frozenset({key(STORE)}))
    answer_elsewhere = Request([move(SUPPLIER, BIN, 1000)], shown=frozenset({key(STORE), key(BIN)}))
    invalid = Request([move(STORE, "nowhere", 1000, W)], shown=frozenset({key(SHOP, W)}))
    requests = [sale, answer_elsewhere, invalid]
    # allowed: only what an answer shows without changing it
    assert needs(requests, rules()) == {key(STORE)}
    # forbidden: also every STORE-type balance a request lowers
    assert needs([sale], rules(negative_stock_allowed=False)) == {key(STORE)}
    assert needs([Request([move(SHOP, BIN, 1000, W)])], rules(negative_stock_allowed=False)) == {key(SHOP, W)}
    assert needs([Request([move(SUPPLIER, BIN, 1000)])], rules(negative_stock_allowed=False)) == set()


def test_balances_chain_each_request_from_the_units_the_write_returned() -> None:
    rows = {key(STORE): 10_000}
    requests = [
        Request([move(STORE, SOLD, 1000)]),
        Request([move(STORE, SOLD, 2000), move(SUPPLIER, STORE, 500, path="changes[1]")]),
    ]
    posted = write(settle(requests, {}, rules(), first_seq=1), rows)
    assert isinstance(posted[0], Posted) and isinstance(posted[1], Posted)
    assert posted[0].changed == {key(SOLD): (0, 1000), key(STORE): (10_000, 9000)}
    assert posted[1].changed == {key(SOLD): (1000, 3000), key(STORE): (9000, 7500), key(SUPPLIER): (0, -500)}
    assert rows == {key(STORE): 7500, key(SOLD): 3000, key(SUPPLIER): -500}


def test_shown_balances_are_those_right_after_the_request() -> None:
    rows = {key(BIN): 2000}
    shown = frozenset({key(BIN), key(BIN, W)})
    requests = [
        Request([move(SUPPLIER, STORE, 1000)], shown),  # BIN untouched: as stored; W: no row yet
        Request([move(STORE, BIN, 1000, W)], shown),  # W appears in BIN
        Request([move(SUPPLIER, STORE, 1000, W)], shown),  # changes neither: both as the batch left them
    ]
    settled = settle(requests, {k: rows[k] for k in needs(requests, rules()) if k in rows}, rules(), 1)
    posted = write(settled, rows)
    assert [p.shown for p in posted if isinstance(p, Posted)] == [
        {key(BIN): 2000},
        {key(BIN): 2000, key(BIN, W): 1000},
        {key(BIN): 2000, key(BIN, W): 1000},
    ]


def test_the_write_must_find_the_balances_the_rules_saw() -> None:
    forbid = rules(negative_stock_allowed=False)
    settled = settle([Request([move(STORE, SOLD, 1000)])], {key(STORE): 5000}, forbid, first_seq=1)
    with pytest.raises(AssertionError, match="the rules saw"):
        settled.balances({key(STORE): 3000, key(SOLD): 1000})  # the row held 4000, not 5000
    with pytest.raises(AssertionError, match="every balance it changed"):
        settled.balances({key(STORE): 4000})
    absent = settle([Request([move(STORE, SOLD, 1000)])], {}, forbid, first_seq=1)  # read: no row
    assert isinstance(absent.verdicts[0], ServiceError)


# ---- a batch settles exactly like the same requests one after the other ----

_keys = st.sampled_from([V, W])
_changes = st.lists(
    st.tuples(st.sampled_from(LOCATIONS), st.sampled_from(LOCATIONS), st.integers(1, 4000), _keys).filter(
        lambda c: c[0] != c[1]
    ),
    min_size=0,
    max_size=3,
)
_requests = st.lists(
    st.tuples(_changes, st.sampled_from([None, STORE, BIN]), st.booleans()), min_size=1, max_size=8
)


def _request(spec: tuple[list[tuple[str, str, int, str]], str | None, bool]) -> Request:
    changes, answer_at, untracked = spec
    made = [
        Change("untracked" if untracked and i == 0 else P, v, src, dst, units, f"changes[{i}]")
        for i, (src, dst, units, v) in enumerate(changes)
    ]
    shown = frozenset((answer_at, c.product_uuid, c.variant_uuid) for c in made) if answer_at else frozenset()
    return Request(made, shown)


def _post(
    requests: Sequence[Request], rows: dict[BalanceKey, int], rule: Rules, first_seq: int
) -> Settlement:
    known = {k: rows[k] for k in needs(requests, rule) if k in rows}
    return settle(requests, known, rule, first_seq)


def _summary(outcome: Posted | ServiceError) -> object:
    if isinstance(outcome, ServiceError):
        return (outcome.error_type, outcome.violations)
    return ([(m.seq, m.change) for m in outcome.movements], outcome.changed, outcome.shown)


@settings(max_examples=300, deadline=None)
@given(
    specs=_requests,
    stock=st.dictionaries(
        st.sampled_from([key(loc, v) for loc in LOCATIONS for v in (V, W)]), st.integers(-3000, 6000)
    ),
    negative_stock_allowed=st.booleans(),
)
def test_a_batch_settles_like_the_same_requests_one_after_the_other(
    specs: list[tuple[list[tuple[str, str, int, str]], str | None, bool]],
    stock: dict[BalanceKey, int],
    negative_stock_allowed: bool,
) -> None:
    rule = rules(negative_stock_allowed=negative_stock_allowed, tracked={P})
    requests = [_request(spec) for spec in specs]

    batch_rows = dict(stock)
    batch = _post(requests, batch_rows, rule, first_seq=1)
    together = write(batch, batch_rows)

    alone_rows, seq, one_by_one = dict(stock), 1, []
    for request in requests:
        single = _post([request], alone_rows, rule, seq)
        one_by_one += write(single, alone_rows)
        seq += single.used

    assert [_summary(o) for o in together] == [_summary(o) for o in one_by_one]
    assert batch_rows == alone_rows and batch.used == seq - 1
    # the invariant: every balance is what it was plus the deltas of the accepted requests
    expected = dict(stock)
    for outcome in together:
        if isinstance(outcome, Posted):
            for m in outcome.movements:
                c = m.change
                for where, sign in ((c.from_location, -1), (c.to_location, 1)):
                    k = (where, c.product_uuid, c.variant_uuid)
                    expected[k] = expected.get(k, 0) + sign * c.units
    assert {k: u for k, u in batch_rows.items()} == {k: expected[k] for k in batch_rows}
