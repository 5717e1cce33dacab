"""The ledger's rules, without I/O: which requests the balances accept, and the balances they leave.

A write settles in two steps around the one statement that changes balances in the database:

1. `settle` decides the requests in arrival order. A request is refused (an unknown location, an
   untracked product, a balance rule) or accepted; the changes of accepted requests are numbered
   consecutively from the first sequence number, and their deltas are summed per balance in sorted
   key order (the lock order). A refused request leaves no trace, not even a sequence number.
2. `Settlement.balances` takes the balances as the database holds them after adding those deltas and
   returns each accepted request's (before, after) per balance it changed, and the balances it asked
   to be shown as they were right after it.

Why two steps: the database adds the deltas to the locked rows and returns the sums in one statement,
so a write learns its before-balances without a read of its own (before = after − net delta). Only
balances a rule must see before deciding, or that an answer shows without changing, are read first
(`needs`). A new rule on balances goes in `_balance_refusal`; the balances it must see are those
`Rules.watches` names (each one read before the write).

The balance range (every balance within ±10^15, domain.quantity) is checked on both sides of the
write: `settle` refuses a request whose own net change could only end out of range (and is more than
the database may add to a balance without overflowing), and `Settlement.balances` refuses a request
that took a balance out of range; as the database has written it by then, the caller rolls back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from functools import cached_property

from stockledger.domain.changes import (
    BalanceKey,
    Change,
    Source,
    balance_out_of_range,
    leaves_range,
    net_deltas,
)
from stockledger.domain.errors import ServiceError, Violation, not_tracked, validation_error
from stockledger.domain.quantity import MAX_NET_CHANGE_UNITS, format_units

# Sales that already happened at the point of sale are recorded whatever the policy says.
ALWAYS_RECORDED = frozenset({Source.PURCHASE})


@dataclass(frozen=True)
class Request:
    """One request's changes, in order, and the balances its answer shows (units right after it)."""

    changes: Sequence[Change]
    shown: Set[BalanceKey] = frozenset()

    @cached_property
    def deltas(self) -> dict[BalanceKey, int]:
        """The request's net change per balance, keys sorted."""
        return net_deltas(self.changes)


@dataclass(frozen=True)
class Rules:
    """What the organization's state says about movements."""

    locations: Set[str]  # the organization's location UUIDs
    stores: Set[str]  # those of STORE type
    tracked: Set[str] | None  # products whose stock may move; None: the caller checked tracking
    negative_stock_allowed: bool  # False: no STORE-type balance may be lowered below zero
    source: Source = Source.API  # where the requests come from (names the quantity in a range error)

    def watches(self, key: BalanceKey, delta: int) -> bool:
        """A balance the negative-stock policy must see before this delta is applied to it."""
        return not self.negative_stock_allowed and delta < 0 and key[0] in self.stores


@dataclass(frozen=True)
class Movement:
    """One change with its sequence number: a ledger row."""

    seq: int
    change: Change


@dataclass(frozen=True)
class Accepted:
    """A request the balances accept: its movements, numbered, and its net deltas."""

    movements: list[Movement]
    deltas: dict[BalanceKey, int]
    shown: Set[BalanceKey]


@dataclass(frozen=True)
class Posted:
    """An accepted request once written: (before, after) units per balance it changed, and the units
    right after it of the balances it shows that exist."""

    movements: list[Movement]
    changed: dict[BalanceKey, tuple[int, int]]
    shown: dict[BalanceKey, int]


def check_locations(changes: Sequence[Change], locations: Set[str]) -> ServiceError | None:
    """Both ends of every change must be locations of the organization (every offence is named)."""
    violations = []
    for change in changes:
        from_property, to_property = change.location_properties
        if change.from_location not in locations:
            violations.append(Violation(f"{change.path}.{from_property}", "unknown location"))
        if change.to_location not in locations:
            violations.append(Violation(f"{change.path}.{to_property}", "unknown location"))
    return validation_error(violations) if violations else None


def _check(request: Request, rules: Rules) -> ServiceError | None:
    """The refusals that do not depend on balances: unknown locations first, then tracking."""
    refusal = check_locations(request.changes, rules.locations)
    if refusal is None and rules.tracked is not None:
        for change in request.changes:
            if change.product_uuid not in rules.tracked:
                return not_tracked(change.product_uuid, f"{change.path}.productUuid")
    return refusal


def needs(requests: Sequence[Request], rules: Rules) -> set[BalanceKey]:
    """The balances `settle` must be given: those the rules look at, and those a request shows but
    does not change (its answer must know whether they exist)."""
    wanted: set[BalanceKey] = set()
    for request in requests:
        if _check(request, rules) is None:
            wanted.update(key for key, delta in request.deltas.items() if rules.watches(key, delta))
            wanted.update(request.shown - request.deltas.keys())
    return wanted


def _balance_refusal(
    request: Request, before: Mapping[BalanceKey, int], moved: Mapping[BalanceKey, int], rules: Rules
) -> ServiceError | None:
    """The rules on balances, which see each balance as `before` plus the deltas of the requests
    accepted so far (`moved`). Under a forbidding policy a STORE-type balance may not be lowered below
    zero; one already negative may still be raised."""
    offending = []
    for key, delta in request.deltas.items():
        if rules.watches(key, delta):
            after = before.get(key, 0) + moved.get(key, 0) + delta
            if after < 0:
                offending.append((key, after))
    return insufficient_stock(request.changes, offending) if offending else None


def insufficient_stock(changes: Sequence[Change], offending: list[tuple[BalanceKey, int]]) -> ServiceError:
    """409 INSUFFICIENT_STOCK naming, per balance, the first change taking stock out of it."""
    violations = []
    for (location, product, variant), after in offending:
        path = next(
            (
                c.path
                for c in changes
                if c.from_location == location and c.product_uuid == product and c.variant_uuid == variant
            ),
            "",
        )
        violations.append(
            Violation(
                path or "variantUuid",
                f"would leave variant {variant} of product {product} at {format_units(after)} "
                f"in location {location}",
            )
        )
    first = violations[0]
    return ServiceError(
        f"Insufficient stock: {first.property_name} {first.message}", 409, "INSUFFICIENT_STOCK", violations
    )


@dataclass(frozen=True)
class Settlement:
    """The decisions of `settle` and what the database must write for them."""

    verdicts: list[Accepted | ServiceError]  # one per request, in order
    deltas: dict[BalanceKey, int]  # net of the accepted requests, keys sorted: the lock order
    seq_by_key: dict[BalanceKey, int]  # per balance, the number of the last change to it
    used: int  # sequence numbers used, from the first one
    before: Mapping[BalanceKey, int]  # the balances `settle` was given
    watched: Set[BalanceKey]  # the balances the rules looked at
    source: Source
    # The summed deltas of several requests are more than one write may add to a balance: the
    # caller must post them one by one (each alone is within what one write may add).
    oversized: bool = False

    def balances(self, after: Mapping[BalanceKey, int]) -> list[Posted | ServiceError]:
        """Each accepted request's balances, given the units after the write of `deltas`. An accepted
        request that took a balance out of range comes back as its refusal: the caller must roll the
        write back."""
        assert after.keys() == self.deltas.keys(), "the write returns every balance it changed"
        units = {key: after[key] - delta for key, delta in self.deltas.items()}  # before the batch
        for key in units.keys() & (self.before.keys() | self.watched):
            assert units[key] == self.before.get(key, 0), "the write found the balances the rules saw"
        written: set[BalanceKey] = set()
        posted: list[Posted | ServiceError] = []
        for verdict in self.verdicts:
            if isinstance(verdict, ServiceError):
                posted.append(verdict)
                continue
            changed = {}
            for key, delta in verdict.deltas.items():
                changed[key] = (units[key], units[key] + delta)
                units[key] += delta
                written.add(key)
            out = next((key for key, (b, a) in changed.items() if leaves_range(b, a)), None)
            if out is not None:
                changes = [m.change for m in verdict.movements]
                posted.append(balance_out_of_range(changes, out, changed[out][0], self.source))
                continue
            shown = {key: units[key] if key in written else self.before[key] for key in verdict.shown}
            posted.append(Posted(verdict.movements, changed, shown))
        assert units == dict(after), "every balance equals its before plus the deltas of its requests"
        return posted


def settle(
    requests: Sequence[Request], before: Mapping[BalanceKey, int], rules: Rules, first_seq: int
) -> Settlement:
    """Decide the requests in arrival order, each seeing the ones accepted before it.

    `before` holds the units before the first request of every balance `needs` names; a balance
    missing from it has no row (0 units, and nothing to show).
    """
    verdicts: list[Accepted | ServiceError] = []
    moved: dict[BalanceKey, int] = {}  # net deltas of the requests accepted so far
    watched: set[BalanceKey] = set()
    seq_by_key: dict[BalanceKey, int] = {}
    seq = first_seq
    for request in requests:
        assert sum(request.deltas.values()) == 0, "a movement takes from one balance what it adds to another"
        refusal = _check(request, rules) or _oversized(request, rules)
        if refusal is None:
            watched.update(key for key, delta in request.deltas.items() if rules.watches(key, delta))
            refusal = _balance_refusal(request, before, moved, rules)
        if refusal is not None:
            verdicts.append(refusal)
            continue
        movements = []
        for change in request.changes:
            movements.append(Movement(seq, change))
            for location in (change.from_location, change.to_location):
                seq_by_key[(location, change.product_uuid, change.variant_uuid)] = seq
            seq += 1
        for key, delta in request.deltas.items():
            moved[key] = moved.get(key, 0) + delta
        # Shown balances that exist right after it: changed by it or before it, or there already.
        shown = {key for key in request.shown if key in moved or key in before}
        verdicts.append(Accepted(movements, request.deltas, shown))
    numbered = [m.seq for v in verdicts if isinstance(v, Accepted) for m in v.movements]
    assert numbered == list(range(first_seq, seq)), "sequence numbers are consecutive, in arrival order"
    oversized = any(abs(delta) > MAX_NET_CHANGE_UNITS for delta in moved.values())
    deltas = dict(sorted(moved.items()))
    return Settlement(verdicts, deltas, seq_by_key, seq - first_seq, before, watched, rules.source, oversized)


def _oversized(request: Request, rules: Rules) -> ServiceError | None:
    """A net change beyond ±2·10^18 thousandths ends out of range whatever the balance was, and is
    more than the database may add to a balance without overflowing: refused before writing."""
    for key, delta in request.deltas.items():
        if abs(delta) > MAX_NET_CHANGE_UNITS:
            return balance_out_of_range(list(request.changes), key, 0, rules.source)
    return None
