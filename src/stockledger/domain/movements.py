"""Movements: the only way a balance changes (spec §1), and how a request's changes net out."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

BalanceKey = tuple[str, str, str]  # (location_uuid, product_uuid, variant_uuid)


class Source(StrEnum):
    """Where a movement came from (spec §8 history)."""

    API = "API"
    BULK = "BULK"
    COUNT = "COUNT"
    PURCHASE = "PURCHASE"


@dataclass(frozen=True)
class Change:
    """One validated movement request: `units` thousandths (> 0) from one location to another.

    `path` is the property path of this change in the request (e.g. "changes[2]"), for errors.
    """

    product_uuid: str
    variant_uuid: str
    from_location: str
    to_location: str
    units: int
    path: str = ""

    def __post_init__(self) -> None:
        assert self.units > 0, "a movement always moves a positive quantity"
        assert self.from_location != self.to_location, "a movement has two distinct locations"


def net_deltas(changes: Iterable[Change]) -> dict[BalanceKey, int]:
    """The signed net change per balance, keys sorted (the fixed lock order that prevents deadlocks)."""
    deltas: dict[BalanceKey, int] = defaultdict(int)
    for change in changes:
        deltas[(change.from_location, change.product_uuid, change.variant_uuid)] -= change.units
        deltas[(change.to_location, change.product_uuid, change.variant_uuid)] += change.units
    return {key: deltas[key] for key in sorted(deltas)}
