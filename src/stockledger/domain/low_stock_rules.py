"""Low-stock rules (spec §6, §7): configurations, the effective level and the crossing test. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from stockledger.domain.event_payloads import ChangeInfo, balance_record
from stockledger.domain.quantity import SCALE, to_units, units_to_float

LOW_STOCK_EVENT = "InventoryLowStock"


@dataclass(frozen=True)
class LowStockConfig:
    """One variant's configuration in one location: `level_units` thousandths (None = unset)."""

    product_uuid: str
    variant_uuid: str
    level_units: int | None
    alert: bool

    @property
    def is_default(self) -> bool:
        """Equal to the defaults (no level, alert off): such a configuration is deleted, not stored."""
        return self.level_units is None and not self.alert


def level_units(level: Decimal | None) -> int | None:
    """A validated level (≥ 0, at most 3 fraction digits) → thousandths; None stays None."""
    if level is None:
        return None
    if level < 0:
        raise ValueError("must be greater than or equal to 0")
    return to_units(level)


def default_level_units(default_level: int) -> int:
    """The server default (STOCKLEDGER_DEFAULT_LOW_STOCK_LEVEL, whole units) in thousandths."""
    return default_level * SCALE


def effective_level(level_units: int | None, default_units: int) -> int:
    """The level an alert is evaluated against: the stored one, or the server default when unset.

    The stored level stays null (GET shows what the merchant set), so changing the server default
    applies to every alert without a level of its own.
    """
    return default_units if level_units is None else level_units


def crossed_low(before_units: int, after_units: int, level: int, alert: bool) -> bool:
    """A movement took an alerted variant from above its level to at or below it.

    Staying at or below the level is not a new crossing; going above and back down again is.
    """
    return alert and before_units > level >= after_units


def level_to_wire(level_units: int | None) -> float | None:
    """`customLowStockLevel` / `lowStockLevel` are JSON numbers in Zettle's answers (e.g. 5.0).

    Exact for every stored level: below 10^12 with 3 fraction digits is at most 15 significant
    digits, which a double keeps and prints back as the same shortest decimal.
    """
    return None if level_units is None else units_to_float(level_units)


def inventory_low_stock(
    org: str,
    location: str,
    product: str,
    variant: str,
    balance: str,
    level_units: int,
    info: ChangeInfo,
) -> dict[str, Any]:
    """The InventoryLowStock payload (spec §7 extension); `lowStockLevel` is the level crossed."""
    return {
        **balance_record(org, location, product, variant, balance),
        "lowStockLevel": level_to_wire(level_units),
        "updated": info.to_json(),
    }
