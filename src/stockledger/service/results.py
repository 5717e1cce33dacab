"""Typed results the API turns into the wire format."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BalanceRecord:
    location_uuid: str
    location_type: str
    product_uuid: str
    variant_uuid: str
    units: int


@dataclass(frozen=True)
class LocationInventory:
    location_uuid: str
    tracked_products: list[str]
    variants: list[BalanceRecord]
    latest: int


@dataclass(frozen=True)
class LocationBalances:
    """`{"locationUuid", "variants"}`: the answer of writes and of the single-product fetch."""

    location_uuid: str
    variants: list[BalanceRecord]
