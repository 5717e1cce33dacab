"""Turning service results into the wire format of spec §4 (balances as strings, UUIDs lowercase)."""

from __future__ import annotations

from typing import Any

from stockledger.domain.locations import Location
from stockledger.domain.quantity import format_units
from stockledger.service.results import BalanceRecord, LocationBalances, LocationInventory


def balance_record(record: BalanceRecord) -> dict[str, Any]:
    return {
        "locationUuid": record.location_uuid,
        "locationType": record.location_type,
        "productUuid": record.product_uuid,
        "variantUuid": record.variant_uuid,
        "balance": format_units(record.units),
    }


def location_inventory(inventory: LocationInventory) -> dict[str, Any]:
    return {
        "locationUuid": inventory.location_uuid,
        "trackedProducts": inventory.tracked_products,
        "variants": [balance_record(r) for r in inventory.variants],
        "latest": inventory.latest,
    }


def location_balances(result: LocationBalances) -> dict[str, Any]:
    return {"locationUuid": result.location_uuid, "variants": [balance_record(r) for r in result.variants]}


def location(loc: Location) -> dict[str, Any]:
    return {
        "uuid": loc.uuid,
        "type": loc.type,
        "name": loc.name,
        "description": loc.description,
        "default": loc.is_default,
    }
