"""Location types and the four system locations every organization starts with."""

from __future__ import annotations

from enum import StrEnum


class LocationType(StrEnum):
    STORE = "STORE"
    SOLD = "SOLD"
    BIN = "BIN"
    SUPPLIER = "SUPPLIER"


SYSTEM_DESCRIPTION = "System generated location"

# Order of the system locations in listings: the default STORE first.
SYSTEM_LOCATION_TYPES = (LocationType.STORE, LocationType.SOLD, LocationType.BIN, LocationType.SUPPLIER)


def parse_location_type(raw: str) -> LocationType | None:
    """Any letter case is accepted (spec §5); None for anything else."""
    try:
        return LocationType(raw.strip().upper())
    except ValueError:
        return None
