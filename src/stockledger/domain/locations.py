"""Locations: their types, the four system locations every organization starts with, the record."""

from __future__ import annotations

from dataclasses import dataclass
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


def is_type_name(name: str) -> bool:
    """A store name that reads as a location type (`STORE`, `sold`, ` Bin `): refused for stores,
    because clients look system locations up by name (Inventory v3 §4.1) and a custom store of
    such a name would make that lookup ambiguous."""
    return parse_location_type(name) is not None


# What the back office calls the system locations. Their stored names are their types ("STORE",
# "SOLD", …) because integrations look them up by name (Inventory v3 §4.1); a shop owner reads these.
SHOWN_NAMES = {
    LocationType.STORE: "Main store",
    LocationType.SOLD: "Sold",
    LocationType.BIN: "Discarded",
    LocationType.SUPPLIER: "Suppliers",
}


@dataclass(frozen=True)
class Location:
    """A location of an organization as stored."""

    uuid: str
    type: str
    name: str
    description: str | None
    is_default: bool
    is_system: bool


def shown_name(location: Location) -> str:
    """The name people see: a store's own name, or a plain word for a system location that is
    named by its type (as they all are)."""
    kind = parse_location_type(location.name)
    if not location.is_system or kind is None or kind.value != location.type:
        return location.name
    return SHOWN_NAMES[kind]
