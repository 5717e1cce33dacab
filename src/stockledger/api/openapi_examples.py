"""Request and response examples of the main operations, from the contract (spec §4–§7 and the v3
contract), attached to `/openapi.json` by operationId (api/openapi.py)."""

from __future__ import annotations

from typing import Any

_ORG = "d3f03ffa-4a18-4282-bbfa-efd5f642ffb7"
_STORE = "fd4a39a0-e2ef-11e6-ba64-85247ae2a737"
_SUPPLIER = "fd4a39a1-e2ef-11e6-ba64-85247ae2a737"
_SOLD = "fd4a39a2-e2ef-11e6-ba64-85247ae2a737"
_PRODUCT = "e4cc8750-a110-11eb-adc0-ffd446d76f99"
_VARIANT = "4745e110-a111-11eb-adc0-ffd446d76f99"

_RECORD = {
    "locationUuid": _STORE,
    "locationType": "STORE",
    "productUuid": _PRODUCT,
    "variantUuid": _VARIANT,
    "balance": "42",
}

# A v3 stock row (v3 contract §5): the balance a JSON number, the low-stock setting, `updated`, `checksum`.
_V3_ROW = {
    "organizationUuid": _ORG,
    "inventoryUuid": _STORE,
    "productUuid": _PRODUCT,
    "variantUuid": _VARIANT,
    "balance": 42,
    "lowStockLevel": 7,
    "lowStockAlert": True,
    "updated": "2021-01-01T00:00:00.000Z",
    "checksum": "3770345797",
}

EXAMPLES: dict[str, dict[str, Any]] = {
    "listLocations": {
        "response": [
            {
                "uuid": _STORE,
                "type": "STORE",
                "name": "STORE",
                "description": "System generated location",
                "default": True,
            },
            {
                "uuid": _SUPPLIER,
                "type": "SUPPLIER",
                "name": "SUPPLIER",
                "description": "System generated location",
                "default": False,
            },
        ]
    },
    "startTracking": {
        "request": {"productUuid": _PRODUCT},
        "response": {"locationUuid": _STORE, "variants": [_RECORD]},
    },
    "updateBalances": {
        "request": {
            "changes": [
                {
                    "productUuid": _PRODUCT,
                    "variantUuid": _VARIANT,
                    "fromLocationUuid": _SUPPLIER,
                    "toLocationUuid": _STORE,
                    "change": 10,
                }
            ],
            "returnBalanceForLocationUuid": _STORE,
            "externalUuid": "947d712a-892d-11ea-bc55-0242ac130003",
        },
        "response": {"locationUuid": _STORE, "variants": [_RECORD]},
    },
    "bulkUpdate": {
        "request": {
            "returnBalanceForLocationUuid": _STORE,
            "productChanges": [
                {
                    "productUuid": _PRODUCT,
                    "trackingStatusChange": "START_TRACKING",
                    "variantChanges": [
                        {
                            "variantUuid": _VARIANT,
                            "fromLocationUuid": _SUPPLIER,
                            "toLocationUuid": _STORE,
                            "change": 2,
                        }
                    ],
                }
            ],
        },
        "response": {"locationUuid": _STORE, "variants": [_RECORD]},
    },
    "inventoryOfLocation": {
        "response": {
            "locationUuid": _STORE,
            "trackedProducts": [_PRODUCT],
            "variants": [_RECORD],
            "latest": 17,
        }
    },
    "productInLocation": {"response": {"locationUuid": _STORE, "variants": [_RECORD]}},
    "createSubscription": {
        "request": {
            "uuid": "1ab0e8a2-6c3f-11ee-8c99-0242ac120002",
            "transportName": "WEBHOOK",
            "eventNames": ["InventoryBalanceChanged"],
            "destination": "https://shop.example.com/zettle/webhook",
            "contactEmail": "ops@example.com",
        }
    },
    "listInventories": {
        "response": [
            {
                "inventoryUuid": _SUPPLIER,
                "inventoryType": "SUPPLIER",
                "name": "SUPPLIER",
                "description": "System generated location",
                "defaultInventory": False,
            },
            {
                "inventoryUuid": _STORE,
                "inventoryType": "STORE",
                "name": "STORE",
                "description": "System generated location",
                "defaultInventory": True,
            },
        ]
    },
    "setTracking": {"request": [{"productUuid": _PRODUCT, "tracking": "enable"}]},
    "trackingStatus": {"request": [_PRODUCT], "response": [{"productUuid": _PRODUCT, "enabled": True}]},
    "postMovements": {
        "request": {
            "movements": [
                {"productUuid": _PRODUCT, "variantUuid": _VARIANT, "from": _STORE, "to": _SOLD, "change": 1}
            ],
            "identifier": "947d712a-892d-11ea-bc55-0242ac130003",
        }
    },
    "setLowStock": {
        "request": [
            {
                "inventoryUuid": _STORE,
                "productUuid": _PRODUCT,
                "variantUuid": _VARIANT,
                "lowStockLevel": 10,
                "lowStockAlert": True,
            }
        ]
    },
    "stockOfStores": {"response": [_V3_ROW]},
    "stockOfInventory": {"response": [_V3_ROW]},
    "stockOfProduct": {"response": [_V3_ROW]},
    "stockOfProducts": {"request": [_PRODUCT], "response": [_V3_ROW]},
}
