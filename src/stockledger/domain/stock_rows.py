"""The Inventory API v3 stock row (v3 contract §5): one variant's balance in one inventory together
with its low-stock setting, the time of its last change and a checksum of what it shows. No I/O.

A page builds a thousand rows: records are plain tuples and the rules plain functions, which the API
applies while it writes each row's JSON object (one object per row, no intermediate one)."""

from __future__ import annotations

import zlib
from typing import NamedTuple

from stockledger.domain.quantity import SCALE, format_units


class StockRecord(NamedTuple):
    """A balance as stored, with its low-stock setting in the same inventory: `alert`, `level_units`
    and `setting_updated_ms` are None when the variant has no setting there."""

    product_uuid: str
    variant_uuid: str
    units: int
    updated_ms: int
    level_units: int | None
    alert: bool | None
    setting_updated_ms: int | None


def shown_level(stored_units: int | None, alert: bool, default_units: int) -> int | None:
    """The `lowStockLevel` a row shows: the variant's own level; with an alert on and no level of its
    own, the server default the alert is evaluated against (STOCKLEDGER_DEFAULT_LOW_STOCK_LEVEL);
    with neither, none (`null`, as for a variant that was never configured)."""
    if stored_units is not None:
        return stored_units
    return default_units if alert else None


def _decimal(units: int) -> str:
    # format_units, with the common case (a whole number) first: it runs twice per row of a page.
    return str(units // SCALE) if units % SCALE == 0 else format_units(units)


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
    level = "null" if level_units is None else _decimal(level_units)
    flag = "true" if alert else "false"
    text = f"{inventory_uuid}|{product_uuid}|{variant_uuid}|{_decimal(units)}|{level}|{flag}"
    return str(zlib.crc32(text.encode()))


def shown_setting(record: StockRecord, default_units: int) -> tuple[int | None, bool, int]:
    """What a row shows of its setting, and when it last changed: (level shown, alert, updated_ms),
    `updated_ms` being the later of the balance's change and its setting's (`default_units`: the
    server default level)."""
    if record.alert is None:  # no setting: never configured, or configured back to the defaults
        return None, False, record.updated_ms
    alert = bool(record.alert)
    updated_ms = record.updated_ms
    if record.setting_updated_ms is not None and record.setting_updated_ms > updated_ms:
        updated_ms = record.setting_updated_ms
    return shown_level(record.level_units, alert, default_units), alert, updated_ms
