"""The Inventory API v3 stock row (v3 contract §5): one variant's balance in one inventory together
with its low-stock setting, the time of its last change and a checksum of what it shows. No I/O."""

from __future__ import annotations

import zlib
from typing import NamedTuple

from stockledger.domain.quantity import format_units


class StockRow(NamedTuple):
    """What a v3 stock row shows; a plain tuple, as a page builds a thousand of them.

    `level_units` is the level shown (thousandths; None when no level applies), `updated_ms` the later
    of the balance's last change and its low-stock setting's."""

    inventory_uuid: str
    product_uuid: str
    variant_uuid: str
    units: int
    level_units: int | None
    alert: bool
    updated_ms: int
    checksum: str


def shown_level(stored_units: int | None, alert: bool, default_units: int) -> int | None:
    """The `lowStockLevel` a row shows: the variant's own level; with an alert on and no level of its
    own, the server default the alert is evaluated against (STOCKLEDGER_DEFAULT_LOW_STOCK_LEVEL);
    with neither, none (`null`, as for a variant that was never configured)."""
    if stored_units is not None:
        return stored_units
    return default_units if alert else None


def checksum(
    inventory_uuid: str,
    product_uuid: str,
    variant_uuid: str,
    units: int,
    level_units: int | None,
    alert: bool,
) -> str:
    """An opaque digest of what the row shows: CRC-32 of its key, balance and low-stock setting, as
    unsigned decimal digits (Zettle's example, "3770345797", has this form). Deterministic across
    processes and versions; it changes when the balance, the level or the alert changes, not when
    only `updated` does."""
    level = "null" if level_units is None else format_units(level_units)
    text = "|".join(
        (
            inventory_uuid,
            product_uuid,
            variant_uuid,
            format_units(units),
            level,
            "true" if alert else "false",
        )
    )
    return str(zlib.crc32(text.encode()))


def stock_row(
    inventory_uuid: str,
    product_uuid: str,
    variant_uuid: str,
    units: int,
    balance_updated_ms: int,
    setting: tuple[int | None, bool, int] | None,
    default_units: int,
) -> StockRow:
    """The row of a balance and its low-stock setting, if any: (stored level, alert, updated_ms)."""
    if setting is None:
        level, alert, updated_ms = None, False, balance_updated_ms
    else:
        stored, alert, setting_ms = setting
        level = shown_level(stored, alert, default_units)
        updated_ms = max(balance_updated_ms, setting_ms)
    digest = checksum(inventory_uuid, product_uuid, variant_uuid, units, level, alert)
    return StockRow(inventory_uuid, product_uuid, variant_uuid, units, level, alert, updated_ms, digest)
