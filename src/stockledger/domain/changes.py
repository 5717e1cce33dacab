"""Changes: the validated movements a request asks for (spec §1), their net per balance, the range rule."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from stockledger.domain.errors import ServiceError, Violation, validation_error
from stockledger.domain.quantity import MAX_BALANCE_UNITS, format_units

BalanceKey = tuple[str, str, str]  # (location_uuid, product_uuid, variant_uuid)
# The properties naming a change's two locations, per wire format (a violation names them).
LOCATION_PROPERTIES = ("fromLocationUuid", "toLocationUuid")  # the Inventory API's changes
V3_LOCATION_PROPERTIES = ("from", "to")  # Inventory API v3's movements


class Source(StrEnum):
    """Where a movement came from (spec §8 history)."""

    API = "API"
    BULK = "BULK"
    COUNT = "COUNT"
    PURCHASE = "PURCHASE"


@dataclass(frozen=True)
class Change:
    """One validated movement request: `units` thousandths (> 0) from one location to another.

    `path` is the property path of this change in the request (e.g. "changes[2]"), for errors, and
    `location_properties` the names its request gives the two locations (`from`/`to` in v3).
    """

    product_uuid: str
    variant_uuid: str
    from_location: str
    to_location: str
    units: int
    path: str = ""
    location_properties: tuple[str, str] = LOCATION_PROPERTIES

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


# The property of a request's entry that holds its quantity, per source (a violation names it).
QUANTITY_PROPERTY = {
    Source.API: "change",
    Source.BULK: "change",
    Source.COUNT: "balance",
    Source.PURCHASE: "quantity",
}


def leaves_range(before: int, after: int) -> bool:
    """A balance goes from `before` to `after` outside ±MAX_BALANCE_UNITS, or further outside if it
    already was (a balance from before the limit may still be brought back)."""
    return abs(after) > MAX_BALANCE_UNITS and abs(after) > abs(before)


def balance_out_of_range(changes: list[Change], key: BalanceKey, before: int, source: Source) -> ServiceError:
    """400 naming the change that takes the balance `key` (at `before` until this request) out of range:
    the last one at which its running value leaves the range, else the last one that moves it."""
    location, product, variant = key
    running, culprit, last = before, None, None
    for change in changes:
        if (change.product_uuid, change.variant_uuid) != (product, variant):
            continue
        if change.to_location == location:
            step = change.units
        elif change.from_location == location:
            step = -change.units
        else:
            continue
        if leaves_range(running, running + step) and abs(running) <= MAX_BALANCE_UNITS:
            culprit = change
        running += step
        last = change
    chosen = culprit or last
    assert chosen is not None, "a changed balance was moved by a change of the request"
    field = QUANTITY_PROPERTY[source]
    path = f"{chosen.path}.{field}" if chosen.path else field
    return validation_error(
        [
            Violation(
                path,
                f"would take the balance of variant {variant} of product {product} in location "
                f"{location} outside ±{format_units(MAX_BALANCE_UNITS)}, the range a balance may hold",
            )
        ]
    )
