"""The Inventory API v3 stock row (v3 contract §5): one variant's balance in one inventory together
with its low-stock setting, the time of its last change and a checksum of what it shows. No I/O.

A page builds a thousand rows: records are the database's rows and the rules plain functions, which
the API applies while it writes each row's JSON object (one object per row, no intermediate one)."""

from __future__ import annotations

import zlib

from stockledger.domain.quantity import SCALE, format_units

# A balance as stored, with its low-stock setting in the same inventory: (product UUID, variant UUID,
# units, balance updated_ms, stored level units, alert, setting updated_ms); the last three are None
# when the variant has no setting there. Rows of the database are used as they come (no copy).
StockRecord = tuple[str, str, int, int, int | None, bool | None, int | None]


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


def shown_setting(
    updated_ms: int,
    stored_level: int | None,
    stored_alert: bool | None,
    setting_updated_ms: int | None,
    default_units: int,
) -> tuple[int | None, bool, int]:
    """What a row shows of its low-stock setting, and when the row last changed: (level shown, alert,
    updated_ms), `updated_ms` being the later of the balance's change and its setting's.
    `stored_alert` None = no setting (never configured, or configured back to the defaults)."""
    if stored_alert is None:
        return None, False, updated_ms
    alert = bool(stored_alert)
    if setting_updated_ms is not None and setting_updated_ms > updated_ms:
        updated_ms = setting_updated_ms
    return shown_level(stored_level, alert, default_units), alert, updated_ms
